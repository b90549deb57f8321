package agg

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// Test helpers: columns from Go values, a table-driven case runner, the
// catalog of signatures every aggregate is exercised with, and random
// columns.

// column builds a column of type t; a nil value is NULL. Integers, dates and
// timestamps take int, bools take bool, floats take float64 (rounded to
// float32 for float), strings take string, arrays take []string.
func column(t types.Type, vals ...any) *types.Column {
	vs := make([]types.Value, len(vals))
	for i, v := range vals {
		vs[i] = value(t, v)
	}
	return columnOf(t, vs)
}

// columnOf builds a column of type t from values.
func columnOf(t types.Type, vals []types.Value) *types.Column {
	c := types.NewColumn(t, len(vals))
	for _, v := range vals {
		c.Append(v)
	}
	return &c
}

// TestColumnHelper guards the tests themselves: NULLs must reach the
// columns, or every NULL case would test nothing.
func TestColumnHelper(t *testing.T) {
	t.Parallel()
	for _, typ := range scalarTypes {
		c := columnOf(typ, []types.Value{types.NullOf(typ), {Type: typ}, types.NullOf(typ)})
		if !c.IsNull(0) || c.IsNull(1) || !c.IsNull(2) || c.Len() != 3 {
			t.Errorf("%s: NULLs lost: %v", typ, c.Nulls)
		}
	}
}

// value converts a Go value to a Value of type t (nil is NULL).
func value(t types.Type, v any) types.Value {
	if v == nil {
		return types.NullOf(t)
	}
	switch x := v.(type) {
	case bool:
		return types.BoolValue(x)
	case int:
		switch {
		case t.IsFloat():
			return value(t, float64(x))
		case t == types.Timestamp || t == types.Date:
			return types.Value{Type: t, I: int64(x)}
		}
		return types.IntValue(t, int64(x))
	case int64:
		return types.Value{Type: t, I: x}
	case float64:
		if t == types.Float {
			return types.FloatValue(x)
		}
		return types.DoubleValue(x)
	case string:
		return types.StringValue(x)
	case []string:
		elems := make([]types.Value, len(x))
		for i, s := range x {
			elems[i] = types.StringValue(s)
		}
		return types.Value{Type: t, X: elems}
	}
	panic(fmt.Sprintf("value: unsupported %T", v))
}

// constant returns a pointer to a constant value of type t.
func constant(t types.Type, v any) *types.Value {
	x := value(t, v)
	return &x
}

// arr returns an array<string> value.
func arr(s ...string) types.Value { return value(types.ArrayOf(types.String), s) }

// Result values used in tables.
var (
	nullInt64  = types.NullOf(types.Int64)
	nullDouble = types.NullOf(types.Double)
)

func i32(i int64) types.Value   { return types.IntValue(types.Int32, i) }
func i64(i int64) types.Value   { return types.Int64Value(i) }
func f64(f float64) types.Value { return types.DoubleValue(f) }
func str(s string) types.Value  { return types.StringValue(s) }

// aggCase is one table entry: fn applied to argument columns over the frame
// rows [lo, hi); hi = -1 means all rows.
type aggCase struct {
	name   string
	fn     string
	args   []types.Type
	consts []*types.Value // nil entries for non-constant arguments
	cols   [][]any        // values per argument; nil for a constant argument
	lo, hi int
	want   types.Value
}

// columns builds the argument columns of c; a constant argument's column
// repeats the constant.
func (c aggCase) columns() []*types.Column {
	n := 0
	for _, vs := range c.cols {
		n = max(n, len(vs))
	}
	cols := make([]*types.Column, len(c.args))
	for i, t := range c.args {
		if i < len(c.cols) && c.cols[i] != nil {
			cols[i] = column(t, c.cols[i]...)
			continue
		}
		vals := make([]types.Value, n)
		for r := range vals {
			vals[r] = *c.consts[i]
		}
		cols[i] = columnOf(t, vals)
	}
	return cols
}

// runCases checks each case through the three ways an Acc is used: a fresh
// AddRange, a FIFO slide through the same rows, and ResultWith of the last
// row.
func runCases(t *testing.T, cases []aggCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			consts := c.consts
			if consts == nil {
				consts = make([]*types.Value, len(c.args))
			}
			f, err := Resolve(c.fn, c.args, consts)
			if err != nil {
				t.Fatalf("Resolve(%s%s): %v", c.fn, typeList(c.args), err)
			}
			cols := c.columns()
			lo, hi := c.lo, c.hi
			if hi < 0 {
				hi = cols[0].Len()
				if len(cols) == 0 {
					hi = 0
				}
			}
			if f.Result != c.want.Type {
				t.Errorf("result type %s, want %s", f.Result, c.want.Type)
			}
			fresh := f.Bind(cols)
			fresh.AddRange(lo, hi)
			if got := fresh.Result(); !types.Identical(got, c.want) {
				t.Errorf("%s over rows [%d,%d) = %s, want %s", c.fn, lo, hi, show(got), show(c.want))
			}
			slide := f.Bind(cols)
			for r := 0; r < hi; r++ {
				slide.Add(r)
			}
			for r := 0; r < lo; r++ {
				slide.Remove(r)
			}
			if got := slide.Result(); !types.Identical(got, c.want) {
				t.Errorf("sliding: %s = %s, want %s", c.fn, show(got), show(c.want))
			}
			if hi > lo {
				req := f.Bind(cols)
				req.AddRange(lo, hi-1)
				if got := req.ResultWith(hi - 1); !types.Identical(got, c.want) {
					t.Errorf("ResultWith: %s = %s, want %s", c.fn, show(got), show(c.want))
				}
			}
		})
	}
}

// show renders a value with its type, floats in full.
func show(v types.Value) string {
	if !v.Null && v.Type.IsFloat() {
		return fmt.Sprintf("%s(%v)", v.Type, v.F)
	}
	if !v.Null && v.Type == types.String {
		return fmt.Sprintf("%q", v.S)
	}
	return fmt.Sprintf("%s(%s)", v.Type, v)
}

// sig is one way of calling an aggregate.
type sig struct {
	args   []types.Type
	consts []*types.Value
}

func plain(args ...types.Type) sig { return sig{args: args, consts: make([]*types.Value, len(args))} }

// withConst returns s with argument i a constant.
func (s sig) withConst(i int, v *types.Value) sig {
	s.consts = slices.Clone(s.consts)
	s.consts[i] = v
	return s
}

var (
	tBool, tI16, tI32, tI64 = types.Bool, types.Int16, types.Int32, types.Int64
	tF32, tF64, tStr        = types.Float, types.Double, types.String
	tTS, tDate              = types.Timestamp, types.Date
	numericTypes            = []types.Type{tI16, tI32, tI64, tF32, tF64}
	scalarTypes             = []types.Type{tBool, tI16, tI32, tI64, tF32, tF64, tStr, tTS, tDate}
)

// signatures returns the calls used for every registered aggregate by the
// property and fuzz tests. Every registered name must have some.
func signatures() map[string][]sig {
	m := map[string][]sig{}
	add := func(name string, s ...sig) { m[name] = append(m[name], s...) }

	add("count", plain(), plain(tI32), plain(tStr), plain(tF64), plain(types.ArrayOf(tStr)), plain(types.ArrayOf(tF64)))
	for _, t := range append(numericTypes, tTS) {
		add("sum", plain(t))
	}
	for _, t := range numericTypes {
		add("avg", plain(t))
		for _, w := range []string{"sum_where", "avg_where", "min_where", "max_where"} {
			add(w, plain(t, tBool))
		}
		add("median", plain(t))
		for _, v := range []string{"var_pop", "var_samp", "variance", "stddev_pop", "stddev", "std", "stddev_samp"} {
			add(v, plain(t))
		}
	}
	for _, t := range []types.Type{tI32, tF64, tF32, tStr, tDate, tTS} {
		add("min", plain(t))
		add("max", plain(t))
	}
	add("count_where", plain(tBool), plain(tI32, tBool), plain(tStr, tBool), plain(tF64, tBool), plain(tI32, types.Null))
	for _, t := range scalarTypes {
		add("distinct_count", plain(t), plain(types.ArrayOf(t)))
		add("first_value", plain(t), plain(t, tBool).withConst(1, constant(tBool, true)))
		add("last_value", plain(t), plain(t, tBool).withConst(1, constant(tBool, true)))
	}
	for _, name := range []string{"lag", "at"} {
		for _, k := range []int{0, 1, 2, -1, -3} {
			add(name, plain(tI32, tI32).withConst(1, constant(tI32, k)))
		}
		add(name, plain(tStr, tI64).withConst(1, constant(tI64, 1)),
			plain(tF64, tI32, tBool).withConst(1, constant(tI32, 1)).withConst(2, constant(tBool, true)))
	}
	for _, k := range []int{1, 2, -1, -2, 0} {
		add("nth_value_where", plain(tI32, tI32, tBool).withConst(1, constant(tI32, k)))
	}
	add("nth_value_where", plain(tStr, tI64, tBool).withConst(1, constant(tI64, 2)))

	cateVK := [][2]types.Type{{tI32, tI32}, {tF64, tStr}, {tF32, tI16}, {tI64, tTS}, {tI16, tDate}}
	for _, k := range []string{"count", "sum", "avg", "min", "max"} {
		for _, vk := range cateVK {
			add(k+"_cate", plain(vk[0], vk[1]))
			add(k+"_cate_where", plain(vk[0], tBool, vk[1]))
			for _, n := range []int{2, -1, 0} {
				add("top_n_key_"+k+"_cate_where", plain(vk[0], tBool, vk[1], tI32).withConst(3, constant(tI32, n)))
				add("top_n_value_"+k+"_cate_where", plain(vk[0], tBool, vk[1], tI64).withConst(3, constant(tI64, n)))
			}
		}
	}
	for _, name := range []string{"top_n_key_ratio_cate", "top_n_value_ratio_cate"} {
		for _, n := range []int{2, -1, 0} {
			add(name, plain(tI32, tBool, tStr, tI32).withConst(3, constant(tI32, n)),
				plain(tStr, tBool, tI64, tI32).withConst(3, constant(tI32, n)),
				plain(tBool, tBool, tDate, tI32).withConst(3, constant(tI32, n)))
		}
	}
	for _, t := range []types.Type{tI32, tF64, tStr, tF32, tDate, tTS, tI16, tI64} {
		add("top1_ratio", plain(t), plain(types.ArrayOf(t)))
		for _, n := range []int{2, 0, -1} {
			add("topn_frequency", plain(t, tI32).withConst(1, constant(tI32, n)),
				plain(types.ArrayOf(t), tI32).withConst(1, constant(tI32, n)))
		}
	}
	for _, d := range []string{",", ", ", "", ":"} {
		add("window_split", plain(tStr, tStr).withConst(1, constant(tStr, d)))
	}
	for _, t := range []types.Type{tBool, tI16, tI32, tI64, tF32, tF64, tStr, tTS, tDate} {
		add("entropy", plain(t))
	}
	for _, t := range []types.Type{tI16, tI32, tI64, tF32, tF64, tDate, tTS, tStr} {
		for _, k := range []int{3, 1, 0, -1} {
			add("top", plain(t, tI32).withConst(1, constant(tI32, k)))
		}
		add("top", plain(t, tI64).withConst(1, constant(tI64, 40)))
	}
	for _, t := range numericTypes {
		add("drawdown", plain(t))
		for _, a := range []any{0.5, 0.0, 1.0, 0.05, 2.0, nil} {
			add("ew_avg", plain(t, tF64).withConst(1, constant(tF64, a)))
		}
		add("ew_avg", plain(t, tF64)) // alpha by row
	}
	add("ew_avg", plain(tF64, types.Null).withConst(1, &types.Value{Type: types.Null, Null: true}))
	for _, d := range [][2]string{{" ", ":"}, {", ", ":"}, {",", ""}} {
		for _, name := range []string{"window_split_by_key", "window_split_by_value"} {
			add(name, plain(tStr, tStr, tStr).withConst(1, constant(tStr, d[0])).withConst(2, constant(tStr, d[1])))
		}
	}
	return m
}

// randomColumn returns a column of n random values of type t with NULLs,
// duplicates, and for floats NaN, infinities and both zeros.
func randomColumn(rng *rand.Rand, t types.Type, n int) *types.Column {
	vals := make([]types.Value, n)
	for r := range vals {
		vals[r] = randomValue(rng, t)
	}
	return columnOf(t, vals)
}

var (
	intPool    = []int64{0, 1, -1, 2, 3, 3, -5, 7, 100, 1 << 40, -(1 << 40), math.MaxInt32, math.MinInt32}
	doublePool = []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 2.5, 2.5, 1e300, -1e300, 1e-310, math.NaN(), math.Inf(1), math.Inf(-1), 3}
	floatPool  = []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 2.5, 2.5, 3.4e38, math.NaN(), math.Inf(1), math.Inf(-1), 3}
	stringPool = []string{"", "a", "b", "a", "a:1 b:2", "k:v:w,x:y,", "x, y", "b:2 c", ":", "zz"}
)

func randomValue(rng *rand.Rand, t types.Type) types.Value {
	if t == types.Null || rng.IntN(7) == 0 {
		return types.NullOf(t)
	}
	switch t {
	case types.Bool:
		return types.BoolValue(rng.IntN(2) == 0)
	case types.Int16, types.Int32, types.Int64:
		return types.IntValue(t, intPool[rng.IntN(len(intPool))])
	case types.Date:
		return types.DateValue(18000 + rng.Int64N(5))
	case types.Timestamp:
		return types.TimestampValue(1590738990000 + 1000*rng.Int64N(5))
	case types.Float:
		return types.FloatValue(floatPool[rng.IntN(len(floatPool))])
	case types.Double:
		return types.DoubleValue(doublePool[rng.IntN(len(doublePool))])
	case types.String:
		return types.StringValue(stringPool[rng.IntN(len(stringPool))])
	}
	if t.Kind() == types.KindArray {
		elems := make([]types.Value, rng.IntN(4))
		for i := range elems {
			elems[i] = randomValue(rng, t.Elem())
		}
		return types.Value{Type: t, X: elems}
	}
	return types.NullOf(t)
}

// randomColumns returns the argument columns of s, constants repeated.
func randomColumns(rng *rand.Rand, s sig, n int) []*types.Column {
	cols := make([]*types.Column, len(s.args))
	for i, t := range s.args {
		if s.consts[i] != nil {
			vals := make([]types.Value, n)
			for r := range vals {
				vals[r] = *s.consts[i]
			}
			cols[i] = columnOf(t, vals)
			continue
		}
		cols[i] = randomColumn(rng, t, n)
	}
	return cols
}

// sigName renders a call for test names.
func sigName(name string, s sig) string {
	parts := make([]string, len(s.args))
	for i, t := range s.args {
		parts[i] = t.String()
		if c := s.consts[i]; c != nil {
			parts[i] = c.String()
		}
	}
	return name + "(" + strings.Join(parts, ",") + ")"
}
