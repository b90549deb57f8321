package agg

import (
	"fmt"
	"strings"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// resolver types one aggregate for its argument types and returns the Func.
type resolver func(name string, args []types.Type, consts []*types.Value) (*Func, error)

// registry maps each aggregate name (lower case) to its resolver. Files of
// this package add to it in init functions through register.
var registry = map[string]resolver{}

func register(r resolver, names ...string) {
	for _, n := range names {
		if _, dup := registry[n]; dup {
			panic("agg: duplicate aggregate " + n)
		}
		registry[n] = r
	}
}

func resolve(name string, args []types.Type, consts []*types.Value) (*Func, error) {
	r, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknown, name)
	}
	if consts == nil {
		consts = make([]*types.Value, len(args))
	}
	return r(name, args, consts)
}

// newFunc assembles a Func; the constant arguments are kept for the plan.
func newFunc(name string, args []types.Type, result types.Type, consts []*types.Value, bind func([]*types.Column) Acc) *Func {
	return &Func{Name: name, Args: args, Result: result, Consts: consts, bind: bind}
}

// argError formats "name: message" for a rejected call.
func argError(name, format string, a ...any) error {
	return fmt.Errorf("%s: %s", name, fmt.Sprintf(format, a...))
}

// wantArgs checks the argument count.
func wantArgs(name string, args []types.Type, n int) error {
	if len(args) != n {
		return argError(name, "takes %d argument%s, got %d", n, plural(n), len(args))
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// typeList renders argument types as "(int32, string)".
func typeList(args []types.Type) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = a.String()
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
