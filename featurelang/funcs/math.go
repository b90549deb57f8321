package funcs

import (
	"math"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// Mathematical functions. Like OpenMLDB, each has exact signatures and,
// for most, a fallback that converts any other number (bool included) to
// double:
//
//	function                      exact signatures                          fallback
//	abs                           int16|int32→int32, int64→int64, double    number→double
//	ceil ceiling floor            int16|int32|int64→int64, double           number→double
//	round(x[, d])                 int16, int32, int64, float, double        none (d: any number)
//	truncate                      int16|int32→int32, int64, double          number→double (float too)
//	exp sqrt sin cos tan cot      int16|int32|int64|double→double, float    none
//	asin acos atan
//	ln log log2 log10             float, double                             number→double
//	log(base, x)                  —                                         number, number→double
//	pow power atan2 atan(y, x)    (T, T)→double for int16..double, float    number, number→double
//	inc                           int16, int32, int64, float, double        none
//	degrees radians               double                                    number→double
//	earth_distance(lat1, lon1, lat2, lon2)  —                               numbers→double (km)
//
// float results are computed in float64 and rounded to float32.

func init() {
	register("abs", integerOrDouble(map[types.Type]types.Type{
		types.Int16: types.Int32, types.Int32: types.Int32, types.Int64: types.Int64,
	}, absInt, math.Abs, true, "(number)"))
	for _, n := range []string{"ceil", "floor"} {
		f := map[string]func(float64) float64{"ceil": math.Ceil, "floor": math.Floor}[n]
		r := integerOrDouble(map[types.Type]types.Type{
			types.Int16: types.Int64, types.Int32: types.Int64, types.Int64: types.Int64,
		}, identityInt, f, true, "(number)")
		if n == "ceil" {
			register(n, r, "ceiling")
		} else {
			register(n, r)
		}
	}
	register("round", resolveRound)
	register("truncate", integerOrDouble(map[types.Type]types.Type{
		types.Int16: types.Int32, types.Int32: types.Int32, types.Int64: types.Int64,
	}, identityInt, math.Trunc, true, "(number)")) // float: cast to double, as OpenMLDB's RegisterExprUdf("truncate")
	unary := map[string]func(float64) float64{
		"exp": math.Exp, "sqrt": math.Sqrt, "sin": math.Sin, "cos": math.Cos, "tan": math.Tan,
		"cot": func(x float64) float64 { return 1 / math.Tan(x) }, "asin": math.Asin, "acos": math.Acos,
	}
	for n, f := range unary {
		register(n, realFunc(f, false))
	}
	register("atan", func(name string, args []types.Type) (*Overload, error) {
		if len(args) == 2 {
			return binaryReal(name, args, math.Atan2)
		}
		return realFunc(math.Atan, false)(name, args)
	})
	register("atan2", func(name string, args []types.Type) (*Overload, error) {
		return binaryReal(name, args, math.Atan2)
	})
	register("pow", func(name string, args []types.Type) (*Overload, error) {
		return binaryReal(name, args, math.Pow)
	}, "power")
	register("log", func(name string, args []types.Type) (*Overload, error) {
		if len(args) == 2 {
			return logBase(name, args)
		}
		return logFunc(math.Log)(name, args)
	})
	register("ln", logFunc(math.Log))
	register("log2", logFunc(math.Log2))
	register("log10", logFunc(math.Log10))
	register("degrees", toDouble(func(x float64) float64 { return x * 180 / math.Pi }))
	register("radians", toDouble(func(x float64) float64 { return x * math.Pi / 180 }))
	register("inc", resolveInc)
	register("earth_distance", resolveEarthDistance)
}

func absInt(t types.Type, i int64) int64 {
	if i < 0 {
		i = -i
	}
	return wrapInt(t, i)
}

func identityInt(_ types.Type, i int64) int64 { return i }

// integerOrDouble builds a function with integer signatures (argument type
// → result type, computed by fi), a double (and optionally float)
// signature computed by ff, and a fallback converting other numbers to
// double.
func integerOrDouble(ints map[types.Type]types.Type, fi func(types.Type, int64) int64,
	ff func(float64) float64, fallback bool, expected string) resolver {
	tb := &table{expected: expected}
	for _, t := range []types.Type{types.Int16, types.Int32, types.Int64} {
		res := ints[t]
		tb.sigs = append(tb.sigs, sig{[]types.Type{t}, res, fixed(func(v []types.Value) types.Value {
			return intV(res, fi(res, v[0].I))
		})})
	}
	tb.sigs = append(tb.sigs, sig{[]types.Type{types.Double}, types.Double, fixed(realImpl(ff, types.Double, true))})
	if ints[types.Float] == types.Float {
		tb.sigs = append(tb.sigs, sig{[]types.Type{types.Float}, types.Float, fixed(realImpl(ff, types.Float, true))})
	}
	if fallback {
		tb.fallback = numberToDouble(ff)
	}
	return tb.resolve
}

// realImpl applies f to a number of type float (argFloat) or an integer.
func realImpl(f func(float64) float64, res types.Type, argFloat bool) Impl {
	if argFloat {
		return func(v []types.Value) types.Value { return floatV(res, f(v[0].F)) }
	}
	return func(v []types.Value) types.Value { return floatV(res, f(float64(v[0].I))) }
}

// numberToDouble is the fallback converting one number argument to double.
func numberToDouble(f func(float64) float64) func(string, []types.Type) (*Overload, error) {
	return func(name string, args []types.Type) (*Overload, error) {
		if len(args) != 1 || !isNumber(args[0]) {
			return nil, nil
		}
		return overload(name, args, types.Double, realImpl(f, types.Double, args[0].IsFloat())), nil
	}
}

// realFunc: integers and double give double, float gives float.
func realFunc(f func(float64) float64, fallback bool) resolver {
	tb := &table{expected: "(number)"}
	for _, t := range []types.Type{types.Int16, types.Int32, types.Int64} {
		tb.sigs = append(tb.sigs, sig{[]types.Type{t}, types.Double, fixed(realImpl(f, types.Double, false))})
	}
	tb.sigs = append(tb.sigs,
		sig{[]types.Type{types.Double}, types.Double, fixed(realImpl(f, types.Double, true))},
		sig{[]types.Type{types.Float}, types.Float, fixed(realImpl(f, types.Float, true))})
	if fallback {
		tb.fallback = numberToDouble(f)
	}
	return tb.resolve
}

func logFunc(f func(float64) float64) resolver {
	tb := &table{expected: "(number)", fallback: numberToDouble(f), sigs: []sig{
		{[]types.Type{types.Float}, types.Float, fixed(realImpl(f, types.Float, true))},
		{[]types.Type{types.Double}, types.Double, fixed(realImpl(f, types.Double, true))},
	}}
	return tb.resolve
}

func toDouble(f func(float64) float64) resolver {
	tb := &table{expected: "(double)", fallback: numberToDouble(f), sigs: []sig{
		{[]types.Type{types.Double}, types.Double, fixed(realImpl(f, types.Double, true))},
	}}
	return tb.resolve
}

// binaryReal: (T, T) for the same integer or double T gives double, (float,
// float) gives float, other numbers convert to double.
func binaryReal(name string, args []types.Type, f func(x, y float64) float64) (*Overload, error) {
	if len(args) != 2 {
		return nil, errArity(name, "2", args)
	}
	a, b := args[0], args[1]
	if a == types.Null {
		a = b
	}
	if b == types.Null {
		b = a
	}
	if !isNumber(a) || !isNumber(b) {
		return nil, errArgs(name, "(number, number)", args)
	}
	res := types.Double
	if a == types.Float && b == types.Float {
		res = types.Float
	}
	x, y := asFloat64(a), asFloat64(b)
	return overload(name, args, res, func(v []types.Value) types.Value {
		return floatV(res, f(x(v[0]), y(v[1])))
	}), nil
}

// logBase is log(base, x) = ln(x) / ln(base); a zero divisor gives NULL as
// OpenMLDB's division does.
func logBase(name string, args []types.Type) (*Overload, error) {
	base, x := args[0], args[1]
	if !isNumber(base) || !(isNumber(x) || x == types.String || x == types.Timestamp || x == types.Null) {
		return nil, errArgs(name, "(number, number)", args)
	}
	fb := asFloat64(base)
	cx, err := conversion(x, types.Double)
	if err != nil {
		return nil, errArgs(name, "(number, number)", args)
	}
	return overload(name, args, types.Double, func(v []types.Value) types.Value {
		d := math.Log(fb(v[0]))
		c := cx(v[1])
		if d == 0 || c.Null {
			return types.NullOf(types.Double)
		}
		return floatV(types.Double, math.Log(c.F)/d)
	}), nil
}

func resolveInc(name string, args []types.Type) (*Overload, error) {
	if len(args) != 1 {
		return nil, errArity(name, "1", args)
	}
	t := args[0]
	switch {
	case t == types.Null:
		return overload(name, args, types.Int16, constNull(types.Int16)), nil
	case t.IsInteger():
		return overload(name, args, t, func(v []types.Value) types.Value { return intV(t, wrapInt(t, v[0].I+1)) }), nil
	case t.IsFloat():
		return overload(name, args, t, func(v []types.Value) types.Value { return floatV(t, v[0].F+1) }), nil
	}
	return nil, errArgs(name, "(int16|int32|int64|float|double)", args)
}

// earthRadiusKm is the Earth radius of earth_distance (the value OpenMLDB's results imply).
const earthRadiusKm = 6372.8

func resolveEarthDistance(name string, args []types.Type) (*Overload, error) {
	if len(args) != 4 {
		return nil, errArity(name, "4", args)
	}
	var get [4]func(types.Value) float64
	for i, t := range args {
		if !isNumber(t) && t != types.Null {
			return nil, errArgs(name, "(number, number, number, number)", args)
		}
		get[i] = asFloat64(t)
	}
	return overload(name, args, types.Double, func(v []types.Value) types.Value {
		rad := math.Pi / 180
		lat1, lon1 := get[0](v[0])*rad, get[1](v[1])*rad
		lat2, lon2 := get[2](v[2])*rad, get[3](v[3])*rad
		h := math.Pow(math.Sin((lat2-lat1)/2), 2) + math.Cos(lat1)*math.Cos(lat2)*math.Pow(math.Sin((lon2-lon1)/2), 2)
		return floatV(types.Double, 2*earthRadiusKm*math.Asin(math.Sqrt(h)))
	}), nil
}
