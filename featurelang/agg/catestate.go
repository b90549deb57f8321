package agg

import (
	"cmp"
	"strconv"

	"github.com/fenestra-dev/fenestra/featurelang/exactsum"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// The per-category states of the category family (see cate.go).

// metric is the aggregate of one category: an integer or a float.
type metric struct {
	i       int64
	f       float64
	isFloat bool
}

func intMetric(i int64) metric     { return metric{i: i} }
func floatMetric(f float64) metric { return metric{f: f, isFloat: true} }

func (m metric) compare(o metric) int {
	if m.isFloat {
		return cmp.Compare(m.f, o.f)
	}
	return cmp.Compare(m.i, o.i)
}

func (m metric) append(b []byte) []byte {
	if m.isFloat {
		return appendCFloat(b, m.f)
	}
	return strconv.AppendInt(b, m.i, 10)
}

// metricOf converts a non-NULL value of a numeric type.
func metricOf(v types.Value) metric {
	if v.Type.IsFloat() {
		return floatMetric(v.F)
	}
	return intMetric(v.I)
}

// cateState is the aggregate state of one category. Rows are added newest
// and removed oldest, as in an Acc; n is the number of rows held.
type cateState interface {
	add(row int)
	remove(row int)
	metric(n int64) metric
	// metricWith is the metric with row added as the newest row; the
	// state is unchanged.
	metricWith(n int64, row int) metric
}

func newCateState(f *cateFunc, val, cond *types.Column) cateState {
	switch f.kind {
	case cateSum:
		if f.val.IsFloat() {
			return &cateSumFloat{col: val, t: f.val}
		}
		return &cateSumInt{col: val, t: f.val}
	case cateAvg:
		return &cateAvgState{col: val}
	case cateMin, cateMax:
		sign := 1
		if f.kind == cateMax {
			sign = -1
		}
		if f.val.IsFloat() {
			return &cateMinMax{Acc: &minMaxAcc[float64]{col: val, vals: val.F, sign: sign}}
		}
		return &cateMinMax{Acc: &minMaxAcc[int64]{col: val, vals: val.I, sign: sign}}
	case cateRatio:
		return &cateRatioState{cond: cond}
	}
	return cateCountState{}
}

type cateCountState struct{}

func (cateCountState) add(int)                          {}
func (cateCountState) remove(int)                       {}
func (cateCountState) metric(n int64) metric            { return intMetric(n) }
func (cateCountState) metricWith(n int64, _ int) metric { return intMetric(n + 1) }

// cateSumInt is an integer sum, wrapped to the value type when read.
type cateSumInt struct {
	col *types.Column
	t   types.Type
	sum int64
}

func (s *cateSumInt) add(row int)         { s.sum += s.col.I[row] }
func (s *cateSumInt) remove(row int)      { s.sum -= s.col.I[row] }
func (s *cateSumInt) metric(int64) metric { return intMetric(types.Wrap(s.t, s.sum)) }
func (s *cateSumInt) metricWith(_ int64, row int) metric {
	return intMetric(types.Wrap(s.t, s.sum+s.col.I[row]))
}

// cateSumFloat is an exact float sum rounded to the value type.
type cateSumFloat struct {
	col *types.Column
	t   types.Type
	acc exactsum.Acc
}

func (s *cateSumFloat) add(row int)    { s.acc.Add(s.col.F[row]) }
func (s *cateSumFloat) remove(row int) { s.acc.Sub(s.col.F[row]) }

func (s *cateSumFloat) metric(int64) metric {
	if s.t == types.Float {
		return floatMetric(float64(s.acc.Float32()))
	}
	return floatMetric(s.acc.Float64())
}

func (s *cateSumFloat) metricWith(n int64, row int) metric {
	s.add(row)
	m := s.metric(n + 1)
	s.remove(row)
	return m
}

// cateAvgState is an exact sum over the row count.
type cateAvgState struct {
	col *types.Column
	acc exactsum.Acc
}

func (s *cateAvgState) add(row int) {
	if s.col.F != nil {
		s.acc.Add(s.col.F[row])
	} else {
		s.acc.AddInt(s.col.I[row])
	}
}

func (s *cateAvgState) remove(row int) {
	if s.col.F != nil {
		s.acc.Sub(s.col.F[row])
	} else {
		s.acc.SubInt(s.col.I[row])
	}
}

func (s *cateAvgState) metric(n int64) metric { return floatMetric(s.acc.Float64() / float64(n)) }

func (s *cateAvgState) metricWith(n int64, row int) metric {
	s.add(row)
	m := s.metric(n + 1)
	s.remove(row)
	return m
}

// cateMinMax is min's or max's monotonic deque (minMaxAcc).
type cateMinMax struct{ Acc }

func (s *cateMinMax) add(row int)                        { s.Add(row) }
func (s *cateMinMax) remove(row int)                     { s.Remove(row) }
func (s *cateMinMax) metric(int64) metric                { return metricOf(s.Result()) }
func (s *cateMinMax) metricWith(_ int64, row int) metric { return metricOf(s.ResultWith(row)) }

// cateRatioState counts the rows whose condition is true.
type cateRatioState struct {
	cond  *types.Column
	match int64
}

func (s *cateRatioState) add(row int) {
	if isTrue(s.cond, row) {
		s.match++
	}
}

func (s *cateRatioState) remove(row int) {
	if isTrue(s.cond, row) {
		s.match--
	}
}

func (s *cateRatioState) metric(n int64) metric {
	return floatMetric(float64(s.match) / float64(n))
}

func (s *cateRatioState) metricWith(n int64, row int) metric {
	m := s.match
	if isTrue(s.cond, row) {
		m++
	}
	return floatMetric(float64(m) / float64(n+1))
}
