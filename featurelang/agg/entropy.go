package agg

import (
	"slices"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// entropy(x) is the Shannon entropy, in bits, of the frame's non-NULL
// values of x (bool, int16, int32, int64, float, double, string, timestamp
// or date), a double; NULL when there is none (ShannonEntropy in
// hybridse/src/udf/default_defs/aggregate_def.cc; the doc's example
// {1, 1, 2, 3} gives 1.5).
//
// OpenMLDB counts the values in a std::map and computes, over the keys in
// ascending order, agg -= p * log2(p) with p = count / total in double.
// This does the same, in the same order: the result depends on the counts
// only, so the state is freqAcc's (a Partial merges the counts, as
// top1_ratio's). log2 is log2Exact, the correctly rounded log2 that glibc's
// log2 (error below 0.55 ulp) returns for all but rare arguments; Go's
// math.Log2 differs from it in the last bit for about one p in five.
//
// Keys are compared as OpenMLDB's std::map compares them (strings by
// bytes, -0 equal to +0), except NaN, which std::map cannot order: here
// all NaNs are one key, below every number, as in topn_frequency.

func init() {
	register(resolveEntropy, "entropy")
}

// entropyType reports whether entropy accepts values of type t.
func entropyType(t types.Type) bool {
	return t.IsScalar() && t != types.Null
}

func resolveEntropy(name string, args []types.Type, consts []*types.Value) (*Func, error) {
	if err := wantArgs(name, args, 1); err != nil {
		return nil, err
	}
	t := args[0]
	if !entropyType(t) {
		return nil, argError(name, "cannot compute the entropy of %s; expected a scalar", t)
	}
	return newFunc(name, args, types.Double, consts, func(c []*types.Column) Acc {
		return newFreqAcc(c[0], nullsSkip, entropyOut(t), false)
	}), nil
}

// entropyOut returns entropy's output function over keys of type t.
func entropyOut(t types.Type) func(freqSummary) types.Value {
	return func(f freqSummary) types.Value {
		es := f.entries()
		var total int64
		for _, e := range es {
			total += e.count
		}
		if total == 0 {
			return types.NullOf(types.Double)
		}
		slices.SortFunc(es, func(a, b freqEntry) int { return compareKeys(t, a, b) })
		n := float64(total)
		h := 0.0
		for _, e := range es {
			p := float64(e.count) / n
			h -= float64(p * log2Exact(p)) // float64(): no fused multiply-subtract
		}
		return types.DoubleValue(h)
	}
}
