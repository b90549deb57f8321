package exactsum

import (
	"math"
	"testing"
)

// opKind is an operation on an Acc in a test script.
type opKind uint8

const (
	opAdd opKind = iota
	opSub
	opAddInt
	opSubInt
)

// op is one step of a test script.
type op struct {
	kind opKind
	f    float64
	i    int64
}

func (p op) apply(a *Acc, o *oracle) {
	switch p.kind {
	case opAdd:
		a.Add(p.f)
		o.add(p.f, 1)
	case opSub:
		a.Sub(p.f)
		o.add(p.f, -1)
	case opAddInt:
		a.AddInt(p.i)
		o.addInt(p.i, 1)
	case opSubInt:
		a.SubInt(p.i)
		o.addInt(p.i, -1)
	}
}

func adds(xs ...float64) []op {
	ops := make([]op, len(xs))
	for i, x := range xs {
		ops[i] = op{kind: opAdd, f: x}
	}
	return ops
}

func subs(xs ...float64) []op {
	ops := adds(xs...)
	for i := range ops {
		ops[i].kind = opSub
	}
	return ops
}

func ints(is ...int64) []op {
	ops := make([]op, len(is))
	for i, v := range is {
		ops[i] = op{kind: opAddInt, i: v}
	}
	return ops
}

func subInts(is ...int64) []op {
	ops := ints(is...)
	for i := range ops {
		ops[i].kind = opSubInt
	}
	return ops
}

func cat(opss ...[]op) []op {
	var all []op
	for _, ops := range opss {
		all = append(all, ops...)
	}
	return all
}

func rep(n int, ops []op) []op {
	var all []op
	for range n {
		all = append(all, ops...)
	}
	return all
}

var (
	inf     = math.Inf(1)
	nan     = math.NaN()
	tiny    = math.SmallestNonzeroFloat64 // 2^-1074
	maxF    = math.MaxFloat64
	maxF32  = float64(math.MaxFloat32)
	minNorm = 0x1p-1022
)

// nextUp32 returns the float32 after f towards +Inf.
func nextUp32(f float32) float32 { return math.Nextafter32(f, float32(math.Inf(1))) }

// accTests are scripts with their correctly rounded results; every one is
// also checked against the oracle.
var accTests = []struct {
	name   string
	ops    []op
	want64 float64
	want32 float32
}{
	{"empty", nil, 0, 0},
	{"one", adds(1), 1, 1},
	{"minus one", adds(-1), -1, -1},
	{"tenth", adds(0.1), 0.1, 0.1},
	{"smallest subnormal", adds(tiny), tiny, 0},
	{"minus smallest subnormal", adds(-tiny), -tiny, float32(math.Copysign(0, -1))},
	{"max", adds(maxF), maxF, float32(inf)},
	{"zero", adds(0), 0, 0},
	{"minus zero is plus zero", adds(math.Copysign(0, -1), math.Copysign(0, -1)), 0, 0},
	{"ten tenths", rep(10, adds(0.1)), 1, 1},
	{"cancel", adds(1e100, 1, -1e100), 1, 1},
	{"cancel twice", adds(1, 1e100, 1, -1e100), 2, 2},
	{"cancel to zero", adds(1e300, 1e-300, -1e300, -1e-300), 0, 0},
	{"cancel across range", adds(maxF, tiny, -maxF), tiny, 0},
	{"sub undoes add", cat(adds(0.1, 0.2, 0.3), subs(0.1, 0.2, 0.3)), 0, 0},
	{"sum of subnormals", adds(tiny, tiny, 3*tiny), 5 * tiny, 0},
	{"subnormals to normal", adds(minNorm-tiny, tiny), minNorm, 0},
	{"tie to even down", adds(0x1p53, 1), 0x1p53, 0x1p53},
	{"tie to even up", adds(0x1p53, 3), 0x1p53 + 4, 0x1p53 + 4},
	{"above tie", adds(0x1p53, 1, tiny), 0x1p53 + 2, 0x1p53},
	{"below tie", adds(0x1p53, 1, -tiny), 0x1p53, 0x1p53},
	{"negative tie", adds(-0x1p53, -1), -0x1p53, -0x1p53},
	{"overflow", adds(maxF, maxF), inf, float32(inf)},
	{"overflow back", adds(maxF, maxF, -maxF), maxF, float32(inf)},
	{"overflow negative", adds(-maxF, -maxF), -inf, float32(-inf)},
	{"tie at max rounds to Inf", adds(maxF, 0x1p970), inf, float32(inf)},
	{"below tie at max", adds(maxF, 0x1p970, -tiny), maxF, float32(inf)},
	{"negative tie at max", adds(-maxF, -0x1p970), -inf, float32(-inf)},
	{"nan", adds(1, nan), nan, float32(nan)},
	{"nan undone", cat(adds(1, nan), subs(nan)), 1, 1},
	{"inf", adds(1, inf), inf, float32(inf)},
	{"minus inf", adds(1, -inf), -inf, float32(-inf)},
	{"both infs", adds(inf, -inf), nan, float32(nan)},
	{"both infs undone", cat(adds(inf, -inf, 2), subs(-inf)), inf, float32(inf)},
	{"inf subtracted", subs(inf), -inf, float32(-inf)},
	{"minus inf subtracted", subs(-inf), inf, float32(inf)},
	{"inf added and subtracted", cat(adds(inf, inf), subs(inf, inf)), 0, 0},
	{"inf overflow", adds(inf, maxF, maxF), inf, float32(inf)},
	// float32: rounding through float64 would round twice.
	{"float32 above tie", adds(1, 0x1p-24, 0x1p-60), 1 + 0x1p-24, 1 + 0x1p-23},
	{"float32 tie", adds(1, 0x1p-24), 1 + 0x1p-24, 1},
	{"float32 tie up", adds(1+0x1p-23, 0x1p-24), 1 + 0x1p-23 + 0x1p-24, 1 + 0x1p-22},
	{"float32 below tie", adds(1+0x1p-23, 0x1p-24, -0x1p-80), 1 + 0x1p-23 + 0x1p-24, 1 + 0x1p-23},
	{"float32 subnormal tie", adds(0x1p-150), 0x1p-150, 0},
	{"float32 subnormal tie up", adds(0x1p-150, 0x1p-149), 3 * 0x1p-150, 0x1p-148},
	{"float32 subnormal above tie", adds(0x1p-150, tiny), 0x1p-150, 0x1p-149},
	{"float32 below subnormals", adds(-0x1p-151), -0x1p-151, float32(math.Copysign(0, -1))},
	{"float32 smallest normal", adds(0x1p-126-0x1p-149, 0x1p-150), 0x1p-126 - 0x1p-150, 0x1p-126},
	{"float32 max", adds(maxF32), maxF32, math.MaxFloat32},
	{"float32 tie at max", adds(maxF32, 0x1p103), maxF32 + 0x1p103, float32(inf)},
	{"float32 below tie at max", adds(maxF32, 0x1p103, -tiny), maxF32 + 0x1p103, math.MaxFloat32},
	{"float32 overflow", adds(1e39), 1e39, float32(inf)},
	// Integers.
	{"int", ints(3), 3, 3},
	{"min int", ints(math.MinInt64), -0x1p63, -0x1p63},
	{"max int", ints(math.MaxInt64), 0x1p63, 0x1p63},
	{"max int and min int", ints(math.MaxInt64, math.MinInt64), -1, -1},
	{"min int twice", ints(math.MinInt64, math.MinInt64), -0x1p64, -0x1p64},
	{"min int undone", cat(ints(math.MinInt64, 7), subInts(math.MinInt64)), 7, 7},
	{"int tie", ints(1<<53 + 1), 0x1p53, 0x1p53},
	{"int above tie", cat(ints(1<<53+1), adds(tiny)), 0x1p53 + 2, 0x1p53},
	{"int and float cancel", cat(ints(math.MaxInt64), adds(-0x1p63)), -1, -1},
	{"int and fraction", cat(ints(math.MaxInt64), adds(0.5)), 0x1p63, 0x1p63},
	{"int sub", subInts(5, math.MaxInt64), -0x1p63, -0x1p63},
	{"int zero", ints(0, 0), 0, 0},
	{"many ints", rep(3000, ints(math.MinInt64)), -3000 * 0x1p63, -3000 * 0x1p63},
	// Long scripts run through several carry passes.
	{"many tenths", rep(5000, adds(0.1)), 500, 500}, // exactly 500 + 2.7756e-14
	{"many tenths undone", cat(rep(5000, adds(0.1)), rep(5000, subs(0.1))), 0, 0},
	// The significands of 0x1.fffffffffffffp32 and 0x1.fffffffffffffp-992
	// are shifted by 31 bits: an Add puts 2^52-1 into a digit.
	{"largest digits", rep(3000, adds(0x1.fffffffffffffp32)), 3000 * 0x1.fffffffffffffp32, 3000 * 0x1.fffffffffffffp32},
	{"largest digits negative", rep(3000, adds(-0x1.fffffffffffffp-992)), -3000 * 0x1.fffffffffffffp-992, float32(math.Copysign(0, -1))},
	{"max many times", cat(rep(3000, adds(maxF)), rep(2999, subs(maxF))), maxF, float32(inf)},
}

func TestAcc(t *testing.T) {
	t.Parallel()
	for _, tt := range accTests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var a Acc
			var o oracle
			for _, p := range tt.ops {
				p.apply(&a, &o)
			}
			checkOracle(t, "oracle", &a, &o)
			if got := a.Float64(); !same64(got, tt.want64) {
				t.Errorf("Float64() = %v (%#x), want %v (%#x)", got, math.Float64bits(got), tt.want64, math.Float64bits(tt.want64))
			}
			if got := a.Float32(); !same32(got, tt.want32) {
				t.Errorf("Float32() = %v (%#x), want %v (%#x)", got, math.Float32bits(got), tt.want32, math.Float32bits(tt.want32))
			}
		})
	}
}
