package funcs

import (
	"math"
	"strconv"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// round(x[, d]) rounds x half away from zero to d decimal places (0 when
// omitted; a negative d rounds left of the decimal point), as OpenMLDB's
// udf.h Round does, and its result has x's type:
//
//   - x is int16, int32, int64, float or double (not bool, which OpenMLDB
//     refuses); d is any number, converted to int32 as CAST does;
//   - an integer with d >= 0 is itself; with d < 0 it is
//     round(x / 10^-d) * 10^-d computed in double, converted back to x's
//     type by the x86 rule of float → integer casts;
//   - a float or double is round(x * 10^d) / 10^d in double (a float
//     rounded back to float), so a d beyond double's range gives NaN.
func resolveRound(name string, args []types.Type) (*Overload, error) {
	const expected = "(int16|int32|int64|float|double[, number])"
	if len(args) != 1 && len(args) != 2 {
		return nil, errArity(name, "1 or 2", args)
	}
	x := args[0]
	switch x {
	case types.Null:
		x = types.Double
	case types.Int16, types.Int32, types.Int64, types.Float, types.Double:
	default:
		return nil, errArgs(name, expected, args)
	}
	places := func([]types.Value) int32 { return 0 }
	if len(args) == 2 {
		d := args[1]
		if d != types.Null && !isNumber(d) {
			return nil, errArgs(name, expected, args)
		}
		c, err := conversion(d, types.Int32)
		if err != nil {
			return nil, errArgs(name, expected, args)
		}
		places = func(v []types.Value) int32 { return int32(c(v[1]).I) }
	}
	if x.IsFloat() {
		return overload(name, args, x, func(v []types.Value) types.Value {
			return floatV(x, roundFloat(v[0].F, places(v)))
		}), nil
	}
	return overload(name, args, x, func(v []types.Value) types.Value {
		return intV(x, roundInt(x, v[0].I, places(v)))
	}), nil
}

// roundFloat is round(f * 10^d) / 10^d.
func roundFloat(f float64, d int32) float64 {
	p := pow10(int64(d))
	return math.Round(f*p) / p
}

// roundInt rounds i of integer type t at 10^-d for d < 0.
func roundInt(t types.Type, i int64, d int32) int64 {
	if d >= 0 {
		return i
	}
	factor := pow10(-int64(d))
	return wrapInt(t, floatToInt(math.Round(float64(i)/factor)*factor, t))
}

// powers10 holds 10^k for k from minPow10 to maxPow10, each the double
// nearest to it (as glibc's pow gives them); beyond them 10^k is 0 or
// +Inf.
var powers10 = func() []float64 {
	p := make([]float64, maxPow10-minPow10+1)
	for k := range p {
		p[k], _ = strconv.ParseFloat("1e"+strconv.Itoa(k+minPow10), 64)
	}
	return p
}()

const minPow10, maxPow10 = -330, 310

// pow10 returns the double nearest to 10^k.
func pow10(k int64) float64 {
	switch {
	case k < minPow10:
		return 0
	case k > maxPow10:
		return math.Inf(1)
	}
	return powers10[k-minPow10]
}
