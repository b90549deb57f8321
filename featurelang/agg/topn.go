package agg

import (
	"slices"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// topn_frequency and top1_ratio count the frame's values by key
// (hybridse/src/udf/default_defs/feature_zero_def.cc):
//
//   - topn_frequency(x, n): the n most frequent non-NULL values of x, most
//     frequent first, ties by ascending value, joined by ","; missing places
//     are "NULL" ("1,NULL,NULL"). n is an int32 constant; 0 gives "", and n
//     is capped at 1024 (a negative n, read by OpenMLDB as a huge unsigned
//     number, is 1024 too). A frame without any row gives "".
//   - top1_ratio(x): the count of the most frequent non-NULL value over the
//     count of non-NULL values, a double; 0 when there is none.
//
// NaN is one key, below every number (OpenMLDB's std::map leaves it
// undefined). An array argument, such as a nested window_split, has its
// elements counted (see freqAcc).

func init() {
	register(resolveTopNFrequency, "topn_frequency")
	register(resolveTop1Ratio, "top1_ratio")
}

// freqKey returns the key type of a topn_frequency or top1_ratio argument
// of type t: t itself, or the element type of an array (whose elements are
// counted, see freqAcc), or false when it is not accepted.
func freqKey(t types.Type) (types.Type, bool) {
	if t.Kind() == types.KindArray {
		t = t.Elem()
	}
	return t, t.IsNumeric() || t == types.String || t == types.Date || t == types.Timestamp
}

// maxTopN is OpenMLDB's cap on topn_frequency's n.
const maxTopN = 1024

func resolveTopNFrequency(name string, args []types.Type, consts []*types.Value) (*Func, error) {
	if err := wantArgs(name, args, 2); err != nil {
		return nil, err
	}
	t, ok := freqKey(args[0])
	if !ok {
		return nil, argError(name, "cannot count values of %s", args[0])
	}
	if args[1] != types.Int32 && args[1] != types.Int16 {
		return nil, argError(name, "n must be a constant int32, got %s", args[1])
	}
	n, err := constInt(name, args, consts, 1, "n")
	if err != nil {
		return nil, err
	}
	return newFunc(name, args, types.String, consts, func(c []*types.Column) Acc {
		return newFreqAcc(c[0], nullsSkip, topNOut(t, n), false)
	}), nil
}

// topNOut returns the output function of topn_frequency over keys of type
// t, given its argument n (capped here).
func topNOut(t types.Type, n int64) func(freqSummary) types.Value {
	if n < 0 || n > maxTopN {
		n = maxTopN
	}
	return func(f freqSummary) types.Value { return topNFrequency(t, int(n), f) }
}

// topNFrequency formats the n most frequent keys.
func topNFrequency(t types.Type, n int, f freqSummary) types.Value {
	if f.rows == 0 || n == 0 {
		return types.StringValue("")
	}
	es := f.entries()
	slices.SortFunc(es, func(a, b freqEntry) int {
		if a.count != b.count {
			return int(b.count - a.count)
		}
		return compareKeys(t, a, b)
	})
	var b []byte
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		if i < len(es) {
			b = appendKey(b, t, es[i].i, es[i].f, es[i].s)
		} else {
			b = append(b, "NULL"...)
		}
	}
	return types.StringValue(string(b))
}

func resolveTop1Ratio(name string, args []types.Type, consts []*types.Value) (*Func, error) {
	if err := wantArgs(name, args, 1); err != nil {
		return nil, err
	}
	if _, ok := freqKey(args[0]); !ok {
		return nil, argError(name, "cannot count values of %s", args[0])
	}
	return newFunc(name, args, types.Double, consts, func(c []*types.Column) Acc {
		return newFreqAcc(c[0], nullsSkip, top1Ratio, false)
	}), nil
}

func top1Ratio(f freqSummary) types.Value {
	if f.keys == 0 && f.nan == 0 {
		return types.DoubleValue(0)
	}
	var top, total int64
	for _, e := range f.entries() {
		top = max(top, e.count)
		total += e.count
	}
	return types.DoubleValue(float64(top) / float64(total))
}
