package funcs

import (
	"fmt"
	"slices"
	"strings"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// A resolver builds the Overload of one function or operator for concrete
// argument types. name is the canonical name.
type resolver func(name string, args []types.Type) (*Overload, error)

// registry maps every canonical function and operator name to its resolver.
// It is filled by the register calls of each theme's file in init and never
// changes afterwards, so concurrent reads are safe.
var registry = map[string]resolver{}

// aliases maps alternative names to canonical ones.
var aliases = map[string]string{}

func register(name string, r resolver, alias ...string) {
	if _, dup := registry[name]; dup {
		panic("funcs: duplicate registration of " + name)
	}
	registry[name] = r
	for _, a := range alias {
		aliases[a] = name
	}
}

// Canonical returns the canonical name of a function or operator (lower
// case, aliases resolved) and whether it is known.
func Canonical(name string) (string, bool) {
	n := strings.ToLower(name)
	if c, ok := aliases[n]; ok {
		n = c
	}
	_, ok := registry[n]
	return n, ok
}

func resolve(name string, args []types.Type) (*Overload, error) {
	canon, ok := Canonical(name)
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknown, name)
	}
	for _, t := range args {
		if !validType(t) {
			return nil, fmt.Errorf("%s: invalid argument type %s", canon, t)
		}
	}
	return registry[canon](canon, args)
}

// validType reports whether t is a type a value can have.
func validType(t types.Type) bool {
	switch t.Kind() {
	case types.KindArray:
		return t.Elem().IsScalar() && t>>16 == 0
	case types.KindMap:
		return t.Elem().IsScalar() && t.Val().IsScalar() && t>>24 == 0
	}
	return t.IsScalar() && t>>8 == 0
}

// overload returns an Overload with a private copy of args.
func overload(name string, args []types.Type, result types.Type, impl Impl) *Overload {
	return &Overload{Name: name, Args: slices.Clone(args), Result: result, Impl: impl}
}

// intOverload1 returns the Overload of k, an Int1 with result type res.
func intOverload1(name string, args []types.Type, res types.Type, k func(x int64) (int64, bool)) *Overload {
	o := overload(name, args, res, func(v []types.Value) types.Value {
		r, ok := k(v[0].I)
		if !ok {
			return types.NullOf(res)
		}
		return intV(res, r)
	})
	o.Int1 = k
	return o
}

// intOverload2 returns the Overload of k, an Int2 with result type res.
func intOverload2(name string, args []types.Type, res types.Type, k func(x, y int64) (int64, bool)) *Overload {
	o := overload(name, args, res, func(v []types.Value) types.Value {
		r, ok := k(v[0].I, v[1].I)
		if !ok {
			return types.NullOf(res)
		}
		return intV(res, r)
	})
	o.Int2 = k
	return o
}

// nullSafe marks o as handling NULL arguments itself.
func nullSafe(o *Overload) *Overload {
	o.NullSafe = true
	return o
}

// typeList renders argument types as "(a, b)".
func typeList(args []types.Type) string {
	parts := make([]string, len(args))
	for i, t := range args {
		parts[i] = t.String()
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// errArgs is the error of a function called with unsupported argument types.
func errArgs(name, expected string, args []types.Type) error {
	return fmt.Errorf("%s: expected %s, got %s", name, expected, typeList(args))
}

// errArity is the error of a call with the wrong number of arguments.
func errArity(name, expected string, args []types.Type) error {
	return fmt.Errorf("%s: expected %s argument(s), got %d", name, expected, len(args))
}

// sig is one exact signature of a function in a signature table.
type sig struct {
	args   []types.Type
	result types.Type
	impl   func(args []types.Type) Impl
}

// table is a function defined by exact signatures, tried in order, with an
// optional fallback for argument types no signature matches (OpenMLDB's
// "AnyArg" registrations). An argument of type Null matches any parameter
// type when no signature matches exactly.
type table struct {
	sigs     []sig
	fallback func(name string, args []types.Type) (*Overload, error)
	expected string // for error messages, e.g. "(string, int32[, int32])"
}

func (tb *table) resolve(name string, args []types.Type) (*Overload, error) {
	if s := tb.match(args, false); s != nil {
		return overload(name, args, s.result, s.impl(args)), nil
	}
	if tb.fallback != nil {
		if o, err := tb.fallback(name, args); o != nil || err != nil {
			return o, err
		}
	}
	if s := tb.match(args, true); s != nil {
		return overload(name, args, s.result, s.impl(s.args)), nil
	}
	return nil, errArgs(name, tb.expected, args)
}

func (tb *table) match(args []types.Type, nullWild bool) *sig {
	for i := range tb.sigs {
		s := &tb.sigs[i]
		if len(s.args) != len(args) {
			continue
		}
		ok := true
		for j, t := range args {
			if t != s.args[j] && !(nullWild && t == types.Null) {
				ok = false
				break
			}
		}
		if ok {
			return s
		}
	}
	return nil
}

// fixed adapts a type-independent Impl to a sig's impl field.
func fixed(f Impl) func([]types.Type) Impl {
	return func([]types.Type) Impl { return f }
}

// A few shared result helpers.

func boolV(b bool) types.Value {
	if b {
		return types.Value{Type: types.Bool, I: 1}
	}
	return types.Value{Type: types.Bool}
}

func intV(t types.Type, i int64) types.Value { return types.Value{Type: t, I: i} }

func floatV(t types.Type, f float64) types.Value {
	if t == types.Float {
		f = float64(float32(f))
	}
	return types.Value{Type: t, F: f}
}

func strV(s string) types.Value { return types.Value{Type: types.String, S: s} }
