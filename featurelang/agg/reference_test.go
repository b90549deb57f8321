package agg

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// The aggregates below are checked against transcriptions of OpenMLDB's
// own update and output functions (hybridse/src/udf), run from scratch over
// each frame's rows newest first, as OpenMLDB feeds a window: entropy
// (ShannonEntropy: a std::map of counts, log2 correctly rounded with
// math/big), top (TopKContainer: a std::map bounded to k, keeping the key
// first stored), drawdown (DrawdownUdafDef) and ew_avg (EwAvgUdafDef,
// without stopping early). Where std::map cannot order NaN the
// transcription uses fenestra's convention: all NaNs one key, below every
// number.

// refAggregates are the aggregates TestOpenMLDBReference covers.
var refAggregates = []string{"entropy", "top", "drawdown", "ew_avg"}

// TestOpenMLDBReference slides a frame over random rows (FIFO Add and
// Remove, as batch mode) and compares Result and ResultWith, bit for bit,
// with the transcription over the frame's rows.
func TestOpenMLDBReference(t *testing.T) {
	t.Parallel()
	sigs := signatures()
	for _, name := range refAggregates {
		for si, s := range sigs[name] {
			t.Run(sigName(name, s), func(t *testing.T) {
				t.Parallel()
				for seed := range uint64(6) {
					rng := rand.New(rand.NewPCG(seed, uint64(si)))
					checkReference(t, name, s, refColumns(rng, s, 48), rng)
				}
			})
		}
	}
}

// TestEwAvgLongFrames covers ew_avg's early stop: frames far longer than
// the ~1075 rows after which a weight of 0.5^n is 0, with infinities and
// NaNs among the old rows.
func TestEwAvgLongFrames(t *testing.T) {
	t.Parallel()
	for run, alpha := range []float64{0.5, 0.9, 0.3, 0.5, 0.9} {
		s := plain(tF64, tF64).withConst(1, constant(tF64, alpha))
		rng := rand.New(rand.NewPCG(9, uint64(run)))
		n := 3000
		vals := make([]types.Value, n)
		special := 2 * (run % 2) // odd runs have infinities and NaNs
		for i := range vals {
			switch r := rng.IntN(500); {
			case r < special/2:
				vals[i] = types.DoubleValue(math.Inf(1 - 2*rng.IntN(2)))
			case r < special:
				vals[i] = types.DoubleValue(math.NaN())
			case r < 30:
				vals[i] = types.NullOf(tF64)
			default:
				vals[i] = types.DoubleValue(rng.NormFloat64())
			}
		}
		cols := []*types.Column{columnOf(tF64, vals), randomColumns(rng, s, n)[1]}
		f, err := Resolve("ew_avg", s.args, s.consts)
		if err != nil {
			t.Fatal(err)
		}
		acc := f.Bind(cols)
		lo := 0
		for hi := 1; hi <= n; hi++ {
			acc.Add(hi - 1)
			for hi-lo > 2500 || hi-lo > 1 && rng.IntN(40) == 0 {
				acc.Remove(lo)
				lo++
			}
			if hi%29 != 0 {
				continue
			}
			if got, want := acc.Result(), refResult("ew_avg", s, cols, lo, hi); !sameResult(got, want) {
				t.Fatalf("alpha %v rows [%d,%d): %s, reference %s", alpha, lo, hi, show(got), show(want))
			}
		}
	}
}

func checkReference(t *testing.T, name string, s sig, cols []*types.Column, rng *rand.Rand) {
	t.Helper()
	f, err := Resolve(name, s.args, s.consts)
	if err != nil {
		t.Fatal(err)
	}
	n := cols[0].Len()
	acc := f.Bind(cols)
	lo, hi := 0, 0
	for hi < n {
		for k := rng.IntN(4); k > 0 && hi < n; k-- {
			acc.Add(hi)
			hi++
		}
		for k := rng.IntN(4); k > 0 && lo < hi; k-- {
			acc.Remove(lo)
			lo++
		}
		if got, want := acc.Result(), refResult(name, s, cols, lo, hi); !sameResult(got, want) {
			t.Fatalf("rows [%d,%d): %s, reference %s", lo, hi, show(got), show(want))
		}
		if hi < n {
			if got, want := acc.ResultWith(hi), refResult(name, s, cols, lo, hi+1); !sameResult(got, want) {
				t.Fatalf("rows [%d,%d] with the next: %s, reference %s", lo, hi, show(got), show(want))
			}
		}
	}
}

// sameResult reports whether got is want bit for bit, but for a NaN
// double's sign and payload: which NaN an operation on two NaNs yields
// depends on the order of its operands, which neither C++ nor Go fixes
// for a commutative operation. (Printed strings, as top's, are compared
// whole: top copies NaNs, it computes none.)
func sameResult(got, want types.Value) bool {
	if !got.Null && !want.Null && got.Type == types.Double && want.Type == types.Double && math.IsNaN(got.F) && math.IsNaN(want.F) {
		return true
	}
	return types.Identical(got, want)
}

// refColumns returns random argument columns for s: randomColumns, with
// NaNs of both signs, and for a per-row alpha, alphas mostly in [0, 1].
func refColumns(rng *rand.Rand, s sig, n int) []*types.Column {
	cols := randomColumns(rng, s, n)
	if t := s.args[0]; t.IsFloat() {
		for i := range cols[0].F {
			if math.IsNaN(cols[0].F[i]) && rng.IntN(2) == 0 {
				cols[0].F[i] = math.Copysign(math.NaN(), -1)
			}
		}
	}
	if len(s.args) > 1 && s.args[1] == tF64 && s.consts[1] == nil {
		pool := []any{0.5, 0.25, 0.0, 1.0, 0.9, nil, 1e-3, 2.0}
		vals := make([]any, n)
		for i := range vals {
			vals[i] = pool[rng.IntN(len(pool))]
		}
		cols[1] = column(tF64, vals...)
	}
	return cols
}

// refResult computes name over rows [lo, hi) of cols by the transcription.
func refResult(name string, s sig, cols []*types.Column, lo, hi int) types.Value {
	var vals, args []types.Value // newest first
	for r := hi - 1; r >= lo; r-- {
		vals = append(vals, cols[0].Value(r))
		if len(cols) > 1 {
			args = append(args, cols[1].Value(r))
		}
	}
	switch name {
	case "entropy":
		return refEntropy(vals)
	case "top":
		return refTop(s.args[0], vals, args)
	case "drawdown":
		return refDrawdown(s.args[0], vals)
	case "ew_avg":
		return refEwAvg(vals, args)
	}
	panic("no reference for " + name)
}

// refLess is std::less as the transcriptions use it: NaN below every
// number and equal to NaN, -0 equal to +0.
func refLess(a, b types.Value) bool {
	if a.Type.IsFloat() {
		an, bn := math.IsNaN(a.F), math.IsNaN(b.F)
		if an || bn {
			return an && !bn
		}
		return a.F < b.F
	}
	if a.Type == types.String {
		return a.S < b.S
	}
	return a.I < b.I
}

// refMap is a std::map from value to count: sorted keys, each the value
// that created it.
type refMap struct {
	keys   []types.Value
	counts []int64
}

func (m *refMap) find(v types.Value) (int, bool) {
	return slices.BinarySearchFunc(m.keys, v, func(k, v types.Value) int {
		switch {
		case refLess(k, v):
			return -1
		case refLess(v, k):
			return 1
		}
		return 0
	})
}

func (m *refMap) inc(v types.Value) {
	i, ok := m.find(v)
	if ok {
		m.counts[i]++
		return
	}
	m.keys = slices.Insert(m.keys, i, v)
	m.counts = slices.Insert(m.counts, i, 1)
}

// ShannonEntropy: count by key, then agg -= p·log2(p) in key order.
func refEntropy(vals []types.Value) types.Value {
	var m refMap
	var total int64
	for _, v := range vals {
		if !v.Null {
			m.inc(v)
			total++
		}
	}
	if total == 0 {
		return types.NullOf(types.Double)
	}
	agg, cnt := 0.0, float64(total)
	for _, c := range m.counts {
		p := float64(c) / cnt
		agg -= float64(p * log2Big(p))
	}
	return types.DoubleValue(agg)
}

// TopKContainer::Push and OutputString.
func refTop(t types.Type, vals, ks []types.Value) types.Value {
	var m refMap
	bound, elems := int64(-1), int64(0)
	for i, v := range vals {
		if bound <= 0 {
			bound = ks[i].I
		}
		if v.Null {
			continue
		}
		m.inc(v)
		elems++
		if elems > bound {
			m.counts[0]--
			if m.counts[0] == 0 {
				m.keys, m.counts = m.keys[1:], m.counts[1:]
			}
			elems--
		}
	}
	var b []byte
	for i := len(m.keys) - 1; i >= 0; i-- {
		for range m.counts[i] {
			if len(b) > 0 {
				b = append(b, ',')
			}
			k := m.keys[i]
			b = appendKey(b, t, k.I, k.F, k.S)
		}
	}
	return types.StringValue(string(b))
}

// DrawdownUdafDef::Update and Output, in the value's type.
func refDrawdown(t types.Type, vals []types.Value) types.Value {
	first := -1.0
	var lowI int64
	var lowF32 float32
	var lowF64 float64
	switch t {
	case types.Int16:
		lowI = math.MaxInt16
	case types.Int32:
		lowI = math.MaxInt32
	case types.Int64:
		lowI = math.MaxInt64
	case types.Float:
		lowF32 = math.MaxFloat32
	case types.Double:
		lowF64 = math.MaxFloat64
	}
	for _, v := range vals {
		if v.Null {
			continue
		}
		d := 0.0
		switch t {
		case types.Float:
			x := float32(v.F)
			if x < 0 {
				continue
			}
			if lowF32 < x {
				if x != 0 {
					d = float64(x-lowF32) / float64(x)
				}
			} else {
				lowF32 = x
			}
		case types.Double:
			x := v.F
			if x < 0 {
				continue
			}
			if lowF64 < x {
				if x != 0 {
					d = (x - lowF64) / x
				}
			} else {
				lowF64 = x
			}
		default:
			x := v.I
			if x < 0 {
				continue
			}
			if lowI < x {
				if x != 0 {
					d = float64(x-lowI) / float64(x)
				}
			} else {
				lowI = x
			}
		}
		first = stdMax(first, d)
	}
	if first < 0 {
		return types.NullOf(types.Double)
	}
	return types.DoubleValue(first)
}

// stdMax is std::max(a, b): b if a < b, else a.
func stdMax(a, b float64) float64 {
	if a < b {
		return b
	}
	return a
}

// EwAvgUdafDef::Update and Output.
func refEwAvg(vals, alphas []types.Value) types.Value {
	sum, cnt, weight, isNull := 0.0, 0.0, 1.0, true
	for i, v := range vals {
		alpha := 0.0
		if a := alphas[i]; !a.Null && a.Type == types.Double {
			alpha = a.F
		}
		if v.Null {
			continue
		}
		x := v.F
		if !v.Type.IsFloat() {
			x = float64(v.I)
		}
		sum += float64(weight * x)
		cnt += weight
		weight = float64(weight * (1 - alpha))
		isNull = false
	}
	if isNull || cnt == 0 {
		return types.NullOf(types.Double)
	}
	return types.DoubleValue(sum / cnt)
}
