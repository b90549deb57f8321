package agg

import (
	"encoding/binary"
	"fmt"

	"github.com/fenestra-dev/fenestra/featurelang/exactsum"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// Partial is the mergeable intermediate state of an aggregate over a set
// of rows: init (NewPartial), add, merge, result, and a serialized form.
// The aggregates with a Partial are those tiles can hold (check/tiles.go):
// count, sum, avg, min, max and their *_where forms, distinct_count (the
// state holds the distinct values), topn_frequency, top1_ratio and entropy
// (the state holds the count of each value) and top (the counts of the k
// greatest values).
//
// Partials of consecutive runs of rows, merged oldest first, give the same
// result as one accumulator over all the rows — bit for bit, because float
// sums are exact and the frequency aggregates break ties by value, not by
// arrival. (For min and max, equal values of different sign, -0 and +0,
// are told apart only by order: merge partials oldest first to match a
// window; so does top over floats, which prints a zero key as the newest
// zero. Every other Partial merges in any order.) This is what partial
// aggregation and pre-aggregated tiles build on.
//
// A Partial is used by one goroutine; Merge only reads its argument.
type Partial interface {
	// Add adds one row's argument values.
	Add(args []types.Value)
	// Merge folds in another Partial of the same Func, as if its rows were
	// added after this one's.
	Merge(o Partial)
	// Result returns the aggregate of everything added and merged.
	Result() types.Value
	// AppendBinary appends the serialized state to b (see partialVersion
	// for the layout; DecodePartial reads it). It fails, returning b, only
	// for a float sum beyond exactsum's range (2^1101), which no sequence
	// of fewer than 2^77 rows reaches.
	AppendBinary(b []byte) ([]byte, error)
	// decode sets the empty Partial from the encoding after the format byte.
	decode(r *decoder)
}

// NewPartial returns an empty Partial for f, or nil when f's aggregate has
// no mergeable state (median, lag, count_cate, drawdown, ew_avg, ...).
func (f *Func) NewPartial() Partial {
	switch f.Name {
	case "count":
		if len(f.Args) == 1 && f.Args[0].Kind() == types.KindArray {
			return nil // the newest row's list (list.go) is not tiled
		}
		return &countPartial{star: len(f.Args) == 0}
	case "sum":
		if f.Result.IsFloat() {
			return &sumFloatPartial{sumFloat{t: f.Result}}
		}
		return &sumIntPartial{sumInt{t: f.Result}}
	case "avg":
		return &avgPartial{}
	case "min", "max":
		sign := 1
		if f.Name == "max" {
			sign = -1
		}
		return &minMaxPartial{t: f.Result, sign: sign}
	case "count_where", "sum_where", "avg_where", "min_where", "max_where":
		return newWherePartial(f)
	case "distinct_count", "top1_ratio", "topn_frequency", "entropy":
		return newFreqFuncPartial(f)
	case "top":
		if len(f.Args) == 0 || len(f.Consts) < 2 || f.Consts[1] == nil {
			return nil
		}
		return newTopPartial(f.Args[0], f.Consts[1].I)
	}
	return nil
}

// newFreqFuncPartial returns the Partial of distinct_count, top1_ratio,
// topn_frequency or entropy, or nil.
func newFreqFuncPartial(f *Func) Partial {
	if len(f.Args) == 0 {
		return nil
	}
	switch f.Name {
	case "distinct_count":
		return newFreqPartial(f.Args[0], distinctNulls(f.Args[0]), false, distinctCount)
	case "top1_ratio":
		return newFreqPartial(f.Args[0], nullsSkip, true, top1Ratio)
	case "entropy":
		return newFreqPartial(f.Args[0], nullsSkip, true, entropyOut(f.Args[0]))
	case "topn_frequency":
		if len(f.Consts) < 2 || f.Consts[1] == nil {
			return nil
		}
		t, _ := freqKey(f.Args[0])
		return newFreqPartial(f.Args[0], nullsSkip, true, topNOut(t, f.Consts[1].I))
	}
	return nil
}

// appendHeader appends the format byte and a count.
func appendHeader(b []byte, n int64) []byte {
	return binary.AppendUvarint(append(b, partialVersion), uint64(n))
}

type countPartial struct {
	star bool
	n    int64
}

func (p *countPartial) Add(args []types.Value) {
	if p.star || !args[0].Null {
		p.n++
	}
}
func (p *countPartial) Merge(o Partial)     { p.n += o.(*countPartial).n }
func (p *countPartial) Result() types.Value { return types.Int64Value(p.n) }

func (p *countPartial) AppendBinary(b []byte) ([]byte, error) { return appendHeader(b, p.n), nil }

func (p *countPartial) decode(r *decoder) { p.n = r.count() }

type sumIntPartial struct{ sumInt }

func (p *sumIntPartial) Add(args []types.Value) {
	if !args[0].Null {
		p.sum += args[0].I
		p.n++
	}
}

func (p *sumIntPartial) Merge(o Partial) {
	q := o.(*sumIntPartial)
	p.sum += q.sum
	p.n += q.n
}

func (p *sumIntPartial) Result() types.Value { return p.result() }

func (p *sumIntPartial) AppendBinary(b []byte) ([]byte, error) {
	b = appendHeader(b, p.n)
	if p.n > 0 {
		b = appendVarint(b, p.sum)
	}
	return b, nil
}

func (p *sumIntPartial) decode(r *decoder) {
	if p.n = r.count(); p.n > 0 {
		p.sum = r.varint()
	}
}

type sumFloatPartial struct{ sumFloat }

func (p *sumFloatPartial) Add(args []types.Value) {
	if !args[0].Null {
		p.add(args[0].F)
	}
}

func (p *sumFloatPartial) Merge(o Partial) {
	q := o.(*sumFloatPartial)
	p.acc.Merge(&q.acc)
	p.n += q.n
}

func (p *sumFloatPartial) Result() types.Value { return p.result() }

func (p *sumFloatPartial) AppendBinary(b []byte) ([]byte, error) {
	return appendExact(b, p.n, &p.acc)
}

func (p *sumFloatPartial) decode(r *decoder) { p.n = decodeExact(r, &p.acc) }

// appendExact appends the format byte, the count n and, if n > 0, the
// exact sum acc.
func appendExact(b []byte, n int64, acc *exactsum.Acc) ([]byte, error) {
	out := appendHeader(b, n)
	if n == 0 {
		return out, nil
	}
	out, err := acc.AppendBinary(out)
	if err != nil {
		return b, fmt.Errorf("agg: encoding a partial sum: %w", err)
	}
	return out, nil
}

// decodeExact reads what appendExact writes into acc and returns the count.
func decodeExact(r *decoder, acc *exactsum.Acc) int64 {
	n := r.count()
	if n == 0 || r.err != nil {
		return n
	}
	if err := acc.UnmarshalBinary(r.rest()); err != nil {
		r.fail("exact sum: %v", err)
	}
	return n
}

type avgPartial struct{ avgState }

func (p *avgPartial) Add(args []types.Value) {
	v := args[0]
	if v.Null {
		return
	}
	if v.Type.IsFloat() {
		p.acc.Add(v.F)
	} else {
		p.acc.AddInt(v.I)
	}
	p.n++
}

func (p *avgPartial) Merge(o Partial) {
	q := o.(*avgPartial)
	p.acc.Merge(&q.acc)
	p.n += q.n
}

func (p *avgPartial) Result() types.Value { return p.result() }

func (p *avgPartial) AppendBinary(b []byte) ([]byte, error) { return appendExact(b, p.n, &p.acc) }

func (p *avgPartial) decode(r *decoder) { p.n = decodeExact(r, &p.acc) }

type minMaxPartial struct {
	t    types.Type
	sign int
	best types.Value
	has  bool
}

func (p *minMaxPartial) offer(v types.Value) {
	if !p.has || types.Compare(v, p.best)*p.sign < 0 {
		p.best, p.has = v, true
	}
}

func (p *minMaxPartial) Add(args []types.Value) {
	if !args[0].Null {
		p.offer(args[0])
	}
}

func (p *minMaxPartial) Merge(o Partial) {
	if q := o.(*minMaxPartial); q.has {
		p.offer(q.best)
	}
}

func (p *minMaxPartial) Result() types.Value {
	if !p.has {
		return types.NullOf(p.t)
	}
	return p.best
}

func (p *minMaxPartial) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, partialVersion)
	if p.has {
		b = appendValue(b, p.t, p.best)
	}
	return b, nil
}

func (p *minMaxPartial) decode(r *decoder) {
	if r.more() {
		p.best, p.has = r.readValue(p.t), true
	}
}
