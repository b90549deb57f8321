package funcs

import (
	"strings"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// String functions. Positions and lengths count bytes, as OpenMLDB's do
// (it does not support multibyte characters in them).
//
//	concat(x...)                 any column types, rendered as by string(x) → string
//	concat_ws(sep, x...)         idem, joined by sep (itself any column type)
//	char_length character_length (string) → int32
//	substring substr             (string, int32[, int32]) → string; 1-based, a
//	                             negative position counts from the end
//	strcmp                       (string, string) → int32: -1, 0 or 1
//	upper ucase, lower lcase     (string) → string, ASCII letters only
//	reverse                      (string) → string
//	replace                      (string, string[, string]) → string
//	char                         (int32) → string: the byte n mod 256

func init() {
	register("concat", resolveConcat)
	register("concat_ws", resolveConcat)
	register("char_length", stringFunc("(string)", []types.Type{types.String}, types.Int32,
		func(v []types.Value) types.Value { return intV(types.Int32, int64(len(v[0].S))) }), "character_length")
	substr := &table{expected: "(string, int32[, int32])", sigs: []sig{
		{[]types.Type{types.String, types.Int32}, types.String, fixed(func(v []types.Value) types.Value {
			return strV(substring(v[0].S, v[1].I, int64(len(v[0].S))))
		})},
		{[]types.Type{types.String, types.Int32, types.Int32}, types.String, fixed(func(v []types.Value) types.Value {
			return strV(substring(v[0].S, v[1].I, v[2].I))
		})},
	}}
	register("substring", substr.resolve, "substr")
	register("strcmp", stringFunc("(string, string)", []types.Type{types.String, types.String}, types.Int32,
		func(v []types.Value) types.Value { return intV(types.Int32, int64(strings.Compare(v[0].S, v[1].S))) }))
	register("upper", stringFunc("(string)", []types.Type{types.String}, types.String,
		func(v []types.Value) types.Value { return strV(asciiCase(v[0].S, 'a', 'z', 'A'-'a')) }), "ucase")
	register("lower", stringFunc("(string)", []types.Type{types.String}, types.String,
		func(v []types.Value) types.Value { return strV(asciiCase(v[0].S, 'A', 'Z', 'a'-'A')) }), "lcase")
	register("reverse", stringFunc("(string)", []types.Type{types.String}, types.String,
		func(v []types.Value) types.Value { return strV(reverseBytes(v[0].S)) }))
	replace := &table{expected: "(string, string[, string])", sigs: []sig{
		{[]types.Type{types.String, types.String}, types.String, fixed(func(v []types.Value) types.Value {
			return strV(replaceAll(v[0].S, v[1].S, ""))
		})},
		{[]types.Type{types.String, types.String, types.String}, types.String, fixed(func(v []types.Value) types.Value {
			return strV(replaceAll(v[0].S, v[1].S, v[2].S))
		})},
	}}
	register("replace", replace.resolve)
	register("char", stringFunc("(int32)", []types.Type{types.Int32}, types.String,
		func(v []types.Value) types.Value { return strV(string([]byte{byte(v[0].I)})) }))
}

// stringFunc is a function with a single signature.
func stringFunc(expected string, args []types.Type, res types.Type, impl Impl) resolver {
	return (&table{expected: expected, sigs: []sig{{args, res, fixed(impl)}}}).resolve
}

func resolveConcat(name string, args []types.Type) (*Overload, error) {
	if name == "concat_ws" && len(args) < 1 {
		return nil, errArity(name, "at least 1", args)
	}
	str := make([]func(types.Value) string, len(args))
	for i, t := range args {
		if t != types.Null && !isBase(t) {
			return nil, errArgs(name, "column types", args)
		}
		str[i] = stringer(t)
	}
	if name == "concat" {
		return overload(name, args, types.String, func(v []types.Value) types.Value {
			var b strings.Builder
			for i := range v {
				b.WriteString(str[i](v[i]))
			}
			return strV(b.String())
		}), nil
	}
	return overload(name, args, types.String, func(v []types.Value) types.Value {
		sep := str[0](v[0])
		var b strings.Builder
		for i := 1; i < len(v); i++ {
			if i > 1 {
				b.WriteString(sep)
			}
			b.WriteString(str[i](v[i]))
		}
		return strV(b.String())
	}), nil
}

// substring returns n bytes of s from the 1-based position pos (from the
// end when negative); an out-of-range position or n < 1 gives "".
func substring(s string, pos, n int64) string {
	size := int64(len(s))
	var start int64
	switch {
	case pos > 0:
		start = pos - 1
	case pos < 0:
		start = size + pos
	default:
		return ""
	}
	if start < 0 || start >= size || n < 1 {
		return ""
	}
	return s[start : start+min(n, size-start)]
}

func asciiCase(s string, lo, hi byte, delta int) string {
	i := 0
	for i < len(s) && (s[i] < lo || s[i] > hi) {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if b[i] >= lo && b[i] <= hi {
			b[i] = byte(int(b[i]) + delta)
		}
	}
	return string(b)
}

func reverseBytes(s string) string {
	b := make([]byte, len(s))
	for i := range len(s) {
		b[len(s)-1-i] = s[i]
	}
	return string(b)
}

func replaceAll(s, search, repl string) string {
	if search == "" {
		return s
	}
	return strings.ReplaceAll(s, search, repl)
}
