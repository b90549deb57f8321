package funcs

import (
	"math"
	"strconv"
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
//	hex                          (int16|int32|int64|float|double|string) → string: see hexOf
//	unhex                        (string) → string: the bytes of hex digits; NULL
//	                             when a character is not a hex digit

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
	hex := &table{expected: "(int16|int32|int64|float|double|string)"}
	for _, t := range []types.Type{types.Int16, types.Int32, types.Int64, types.Float, types.Double, types.String} {
		h := hexOf(t)
		hex.sigs = append(hex.sigs, sig{[]types.Type{t}, types.String, fixed(func(v []types.Value) types.Value {
			return strV(h(v[0]))
		})})
	}
	register("hex", hex.resolve)
	register("unhex", stringFunc("(string)", []types.Type{types.String}, types.String, func(v []types.Value) types.Value {
		b, ok := unhex(v[0].S)
		if !ok {
			return types.NullOf(types.String)
		}
		return strV(b)
	}))
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

// hexOf returns hex of non-NULL values of type t, upper case, as OpenMLDB's
// C++ streams print them (udf.h ToHex, udf.cc hex):
//
//   - an integer in two's complement of its width: hex(int16 -1) is "FFFF",
//     hex(int32 -1) "FFFFFFFF";
//   - a float or double rounded half away from zero to int64 first (llround;
//     NaN and out-of-range values give x86's 0x8000000000000000);
//   - a string byte by byte, each byte without zero padding and, being a
//     signed char on x86, a byte of 0x80 or more sign-extended to 32 bits:
//     hex("\n") is "A" and hex("\xe9") is "FFFFFFE9". The reference's
//     examples have only bytes from 0x10 to 0x7F ("Spark SQL" gives
//     "537061726B2053514C"), where this is the usual two digits per byte;
//     we follow the implementation for the others.
func hexOf(t types.Type) func(types.Value) string {
	upper := func(u uint64) string { return strings.ToUpper(strconv.FormatUint(u, 16)) }
	switch t {
	case types.Int16:
		return func(v types.Value) string { return upper(uint64(uint16(v.I))) }
	case types.Int32:
		return func(v types.Value) string { return upper(uint64(uint32(v.I))) }
	case types.Float, types.Double:
		return func(v types.Value) string { return upper(uint64(floatToInt(math.Round(v.F), types.Int64))) }
	case types.String:
		return func(v types.Value) string {
			var b strings.Builder
			for i := 0; i < len(v.S); i++ {
				b.WriteString(upper(uint64(uint32(int32(int8(v.S[i]))))))
			}
			return b.String()
		}
	}
	return func(v types.Value) string { return upper(uint64(v.I)) }
}

// unhex decodes hex digits (either case) two by two into bytes; an odd
// count decodes the first digit alone ("7B" gives "{", "ABC" gives
// "\x0a\xbc", "" gives ""). A character that is not a hex digit gives false.
func unhex(s string) (string, bool) {
	out := make([]byte, (len(s)+1)/2)
	for i := len(s) - 1; i >= 0; i-- {
		d, ok := hexDigit(s[i])
		if !ok {
			return "", false
		}
		k := len(out) - 1 - (len(s)-1-i)/2
		if (len(s)-1-i)%2 == 1 {
			d <<= 4
		}
		out[k] |= d
	}
	return string(out), true
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
