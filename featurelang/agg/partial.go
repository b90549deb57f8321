package agg

import (
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// Partial is the mergeable intermediate state of a decomposable aggregate
// (count, sum, avg, min, max and their *_where forms): init (NewPartial), add, merge, result.
// Partials of disjoint sets of rows, merged, give the same result as one
// accumulator over all the rows — bit for bit, because float sums are
// exact. (For min and max, equal values of different sign, -0 and +0, are
// told apart only by order: merge partials oldest first to match a window.)
// This is what partial aggregation and pre-aggregated tiles build on.
type Partial interface {
	// Add adds one row's argument values.
	Add(args []types.Value)
	// Merge folds in another Partial of the same Func.
	Merge(o Partial)
	// Result returns the aggregate of everything added and merged.
	Result() types.Value
}

// NewPartial returns an empty Partial for f, or nil when f's aggregate is
// not decomposable (distinct_count, median, lag, ...).
func (f *Func) NewPartial() Partial {
	switch f.Name {
	case "count":
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
	}
	return nil
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
