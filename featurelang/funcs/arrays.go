package funcs

import (
	"fmt"
	"strings"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// Arrays (OpenMLDB's lists and ARRAY values) and maps.
//
//	split(s, delim)                    → array<string>; NULL s or an empty
//	                                     delimiter gives an empty array
//	split_by_key(s, delim, kvdelim)    → the keys of the "k<kvdelim>v" parts
//	split_by_value(s, delim, kvdelim)  → their values (parts without kvdelim are skipped)
//	list_except_by_key(list, "k1,k2")  → the "k:v" elements whose key is not listed
//	list_except_by_value(list, "v1,…") → the elements whose value is not listed
//	join(list, delim)                  → string of the non-NULL elements (NULL list: "")
//	array_join(array<string>, delim)   → idem; a NULL delimiter counts as ""
//	array_combine(delim, arrays...)    → array<string>: the cartesian product of
//	                                     the arrays' non-NULL elements, joined by delim
//	isin(x, array)                     → bool: whether x equals an element, a NULL x
//	                                     matching a NULL element (NULL array: NULL)
//	array_contains(array<T>, T)        → bool: idem, the arguments swapped; T is
//	                                     exactly the element type, any column type
//	split_array(s, delim)              → array<string>: the parts of s between
//	                                     delims, an empty part NULL (NULL s or
//	                                     delim: NULL; empty delim: one byte a part)
//	size(array<string>)                → int32: the number of elements
//	at(array, i), array[i]             → element i (from 0); out of range: NULL
//	map(k1, v1, k2, v2, ...)           → map<K, V> (K, V the common key and value types)
//	map[k]                             → the value of the first key equal to k, else NULL

var stringArray = types.ArrayOf(types.String)

func init() {
	register("split", resolveSplit)
	register("split_by_key", resolveSplit)
	register("split_by_value", resolveSplit)
	register("list_except_by_key", resolveListExcept)
	register("list_except_by_value", resolveListExcept)
	register("join", resolveJoin)
	register("array_join", resolveJoin)
	register("array_combine", resolveArrayCombine)
	register("isin", resolveIsIn)
	register("array_contains", resolveArrayContains)
	register("split_array", stringFunc("(string, string)", []types.Type{types.String, types.String}, stringArray,
		func(v []types.Value) types.Value { return splitArray(v[0].S, v[1].S) }))
	register("size", resolveSize)
	register("at", resolveSubscript)
	register("[]", resolveSubscript)
	register("map", resolveMap)
}

func isStringish(t types.Type) bool { return t == types.String || t == types.Null }

func resolveSplit(name string, args []types.Type) (*Overload, error) {
	n := 3
	expected := "(string, string, string)"
	if name == "split" {
		n, expected = 2, "(string, string)"
	}
	if len(args) != n {
		return nil, errArgs(name, expected, args)
	}
	for _, t := range args {
		if !isStringish(t) {
			return nil, errArgs(name, expected, args)
		}
	}
	part := -1 // whole parts
	switch name {
	case "split_by_key":
		part = 0
	case "split_by_value":
		part = 1
	}
	return nullSafe(overload(name, args, stringArray, func(v []types.Value) types.Value {
		out := []types.Value{}
		for i := range v {
			if v[i].Null {
				return types.Value{Type: stringArray, X: out}
			}
		}
		s, delim := v[0].S, v[1].S
		if delim == "" {
			return types.Value{Type: stringArray, X: out}
		}
		for _, p := range strings.Split(s, delim) {
			if part < 0 {
				out = append(out, strV(p))
				continue
			}
			if v[2].S == "" {
				continue
			}
			k, val, ok := strings.Cut(p, v[2].S)
			if !ok {
				continue
			}
			out = append(out, strV([]string{k, val}[part]))
		}
		return types.Value{Type: stringArray, X: out}
	})), nil
}

func resolveListExcept(name string, args []types.Type) (*Overload, error) {
	if len(args) != 2 || !isStringArray(args[0]) || !isStringish(args[1]) {
		return nil, errArgs(name, "(array<string>, string)", args)
	}
	byKey := name == "list_except_by_key"
	return overload(name, args, stringArray, func(v []types.Value) types.Value {
		in, _ := v[0].X.([]types.Value)
		except := strings.Split(v[1].S, ",")
		out := make([]types.Value, 0, len(in))
		for _, e := range in {
			if e.Null {
				continue
			}
			k, val, _ := strings.Cut(e.S, ":")
			probe := k
			if !byKey {
				probe = val
			}
			if !contains(except, probe) {
				out = append(out, e)
			}
		}
		return types.Value{Type: stringArray, X: out}
	}), nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func isStringArray(t types.Type) bool {
	return t == types.Null || t == stringArray || t == types.ArrayOf(types.Null)
}

func resolveJoin(name string, args []types.Type) (*Overload, error) {
	if len(args) != 2 || !isStringArray(args[0]) || !isStringish(args[1]) {
		return nil, errArgs(name, "(array<string>, string)", args)
	}
	o := overload(name, args, types.String, func(v []types.Value) types.Value {
		if v[0].Null {
			return types.NullOf(types.String)
		}
		in, _ := v[0].X.([]types.Value)
		var b strings.Builder
		first := true
		for _, e := range in {
			if e.Null {
				continue
			}
			if !first {
				b.WriteString(v[1].S) // a NULL delimiter (array_join only) is ""
			}
			first = false
			b.WriteString(e.S)
		}
		return strV(b.String())
	})
	if name == "array_join" {
		return nullSafe(o), nil
	}
	return o, nil
}

func resolveArrayCombine(name string, args []types.Type) (*Overload, error) {
	if len(args) < 2 || !isStringish(args[0]) {
		return nil, errArgs(name, "(string, array, ...)", args)
	}
	str := make([]func(types.Value) string, len(args))
	for i, t := range args[1:] {
		if t != types.Null && (t.Kind() != types.KindArray) {
			return nil, errArgs(name, "(string, array, ...)", args)
		}
		str[i+1] = stringer(t.Elem())
	}
	return nullSafe(overload(name, args, stringArray, func(v []types.Value) types.Value {
		combos := []string{""}
		for i := 1; i < len(v); i++ {
			if v[i].Null {
				return types.NullOf(stringArray)
			}
			in, _ := v[i].X.([]types.Value)
			next := make([]string, 0, len(combos)*len(in))
			for _, c := range combos {
				for _, e := range in {
					if e.Null {
						continue
					}
					if i > 1 {
						next = append(next, c+v[0].S+str[i](e))
					} else {
						next = append(next, str[i](e))
					}
				}
			}
			combos = next
		}
		out := make([]types.Value, len(combos))
		for i, c := range combos {
			out[i] = strV(c)
		}
		return types.Value{Type: stringArray, X: out}
	})), nil
}

func resolveIsIn(name string, args []types.Type) (*Overload, error) {
	if len(args) != 2 || args[1].Kind() != types.KindArray {
		return nil, errArgs(name, "(T, array<T>)", args)
	}
	eq, ok := equality(args[0], args[1].Elem())
	if !ok {
		return nil, errArgs(name, "(T, array<T>)", args)
	}
	return nullSafe(overload(name, args, types.Bool, func(v []types.Value) types.Value {
		return arrayHas(v[1], v[0], eq)
	})), nil
}

// resolveArrayContains accepts an array and a value of exactly its element
// type (OpenMLDB registers array_contains for each column type T as
// (array<T>, T) and converts neither argument); NULL literals go anywhere.
func resolveArrayContains(name string, args []types.Type) (*Overload, error) {
	const expected = "(array<T>, T)"
	if len(args) != 2 {
		return nil, errArgs(name, expected, args)
	}
	arr, x := args[0], args[1]
	switch {
	case arr == types.Null:
		return overload(name, args, types.Bool, constNull(types.Bool)), nil
	case arr.Kind() != types.KindArray:
		return nil, errArgs(name, expected, args)
	}
	elem := arr.Elem()
	if x != elem && x != types.Null && elem != types.Null {
		return nil, errArgs(name, expected, args)
	}
	eq, ok := equality(elem, elem)
	if !ok {
		eq = func(types.Value, types.Value) bool { return false } // array<null>: elements are all NULL
	}
	return nullSafe(overload(name, args, types.Bool, func(v []types.Value) types.Value {
		return arrayHas(v[0], v[1], eq)
	})), nil
}

// arrayHas is OpenMLDB's ArrayContains and IsIn (array_def.cc): NULL for a
// NULL array, else whether an element is NULL when x is, or equals x when
// x is not (floats compare as IEEE 754: NaN is never found).
func arrayHas(arr, x types.Value, eq func(a, b types.Value) bool) types.Value {
	if arr.Null {
		return types.NullOf(types.Bool)
	}
	in, _ := arr.X.([]types.Value)
	for _, e := range in {
		if x.Null && e.Null || !x.Null && !e.Null && eq(x, e) {
			return boolV(true)
		}
	}
	return boolV(false)
}

// splitArray is OpenMLDB's split_array (array_def.cc SplitString, which is
// absl::StrSplit): the parts of s between non-overlapping delims, from the
// left, an empty part being NULL; an empty delim splits s into its bytes,
// and an empty s is one (NULL) part.
func splitArray(s, delim string) types.Value {
	var parts []string
	if delim == "" && s != "" {
		parts = make([]string, len(s))
		for i := range len(s) {
			parts[i] = s[i : i+1]
		}
	} else {
		parts = strings.Split(s, delim)
	}
	out := make([]types.Value, len(parts))
	for i, p := range parts {
		if p == "" {
			out[i] = types.NullOf(types.String)
		} else {
			out[i] = strV(p)
		}
	}
	return types.Value{Type: stringArray, X: out}
}

// resolveSize accepts array<string> only, as OpenMLDB's size (registered
// for list<string>, the result of split, split_by_key and split_by_value).
func resolveSize(name string, args []types.Type) (*Overload, error) {
	if len(args) != 1 || !isStringArray(args[0]) {
		return nil, errArgs(name, "(array<string>)", args)
	}
	return overload(name, args, types.Int32, func(v []types.Value) types.Value {
		in, _ := v[0].X.([]types.Value)
		return intV(types.Int32, int64(len(in)))
	}), nil
}

func resolveSubscript(name string, args []types.Type) (*Overload, error) {
	if len(args) != 2 {
		return nil, errArity(name, "2", args)
	}
	c, k := args[0], args[1]
	switch {
	case c.Kind() == types.KindArray && (isInteger(k) || k == types.Null) && k != types.Bool:
		elem := c.Elem()
		return overload(name, args, elem, func(v []types.Value) types.Value {
			in, _ := v[0].X.([]types.Value)
			if i := v[1].I; i >= 0 && i < int64(len(in)) {
				return in[i]
			}
			return types.NullOf(elem)
		}), nil
	case c.Kind() == types.KindMap && name == "[]":
		eq, ok := equality(c.Elem(), k)
		if !ok {
			return nil, fmt.Errorf("cannot index %s with %s", c, k)
		}
		val := c.Val()
		return overload(name, args, val, func(v []types.Value) types.Value {
			m, _ := v[0].X.(*types.Map)
			if m != nil {
				for i, key := range m.Keys {
					if !key.Null && eq(key, v[1]) {
						return m.Vals[i]
					}
				}
			}
			return types.NullOf(val)
		}), nil
	}
	if name == "at" {
		return nil, errArgs(name, "(array<T>, integer)", args)
	}
	return nil, fmt.Errorf("cannot index %s with %s", c, k)
}

func resolveMap(name string, args []types.Type) (*Overload, error) {
	if len(args)%2 != 0 {
		return nil, fmt.Errorf("%s: expected key/value pairs, got %d argument(s)", name, len(args))
	}
	key, val := types.Null, types.Null
	for i := 0; i < len(args); i += 2 {
		var ok1, ok2 bool
		key, ok1 = commonType(key, args[i])
		val, ok2 = commonType(val, args[i+1])
		if !ok1 || !ok2 || !key.IsScalar() || !val.IsScalar() {
			return nil, errArgs(name, "(K, V, K, V, ...) with compatible keys and values", args)
		}
	}
	convs := make([]func(types.Value) types.Value, len(args))
	for i, t := range args {
		to := key
		if i%2 == 1 {
			to = val
		}
		var err error
		if convs[i], err = nullable(t, to); err != nil {
			return nil, errArgs(name, "(K, V, K, V, ...) with compatible keys and values", args)
		}
	}
	res := types.MapOf(key, val)
	return nullSafe(overload(name, args, res, func(v []types.Value) types.Value {
		m := &types.Map{Keys: make([]types.Value, 0, len(v)/2), Vals: make([]types.Value, 0, len(v)/2)}
		for i := 0; i < len(v); i += 2 {
			m.Keys = append(m.Keys, convs[i](v[i]))
			m.Vals = append(m.Vals, convs[i+1](v[i+1]))
		}
		return types.Value{Type: res, X: m}
	})), nil
}
