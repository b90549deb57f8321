package eval

import (
	"math"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/plan"
)

func TestNewFrame(t *testing.T) {
	t.Parallel()
	preceding := func(n int64) plan.Bound { return plan.Bound{Offset: n} }
	open := func(n int64) plan.Bound { return plan.Bound{Offset: n, Open: true} }
	unbounded := plan.Bound{Unbounded: true}
	current := plan.Bound{}
	tests := []struct {
		name string
		w    plan.Window
		want frame
	}{
		{"rows 3 preceding to current row",
			plan.Window{Rows: true, Start: preceding(3), End: current},
			frame{rows: true, start: 3, includeCur: true}},
		{"unbounded, exclude current row",
			plan.Window{Rows: true, Start: unbounded, End: current, ExcludeCurrentRow: true},
			frame{rows: true, unbounded: true}},
		{"open start is one step inward",
			plan.Window{Start: open(3), End: current},
			frame{start: 2, includeCur: true}},
		{"open end is one step inward and drops the current row",
			plan.Window{Start: preceding(5), End: open(2)},
			frame{start: 5, end: 3}},
		{"0 open preceding to 0 open preceding",
			plan.Window{Start: open(0), End: open(0)},
			frame{start: -1, end: 1}},
		{"0 open preceding start is empty",
			plan.Window{Rows: true, Start: open(0), End: current},
			frame{rows: true, start: -1}},
		{"unbounded ignores open",
			plan.Window{Start: plan.Bound{Unbounded: true, Open: true}, End: current},
			frame{unbounded: true, includeCur: true}},
		{"end preceding excludes the current row",
			plan.Window{Rows: true, Start: preceding(4), End: preceding(1)},
			frame{rows: true, start: 4, end: 1}},
		{"options carried",
			plan.Window{Start: preceding(10), End: current, ExcludeCurrentTime: true, InstanceNotInWindow: true, MaxSize: 3},
			frame{start: 10, includeCur: true, ect: true, instNot: true, maxSize: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := newFrame(&tt.w); got != tt.want {
				t.Errorf("newFrame(%+v)\n got %+v\nwant %+v", tt.w, got, tt.want)
			}
		})
	}
}

func TestRowsBounds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		f      frame
		cEnd   int
		lo, hi int
	}{
		{"3 preceding, long history", frame{rows: true, start: 3, includeCur: true}, 10, 7, 10},
		{"3 preceding, short history", frame{rows: true, start: 3, includeCur: true}, 2, 0, 2},
		{"3 preceding, no history", frame{rows: true, start: 3, includeCur: true}, 0, 0, 0},
		{"5 to 2 preceding", frame{rows: true, start: 5, end: 2}, 10, 5, 9},
		{"5 to 2 preceding, too short", frame{rows: true, start: 5, end: 2}, 1, 0, 0},
		{"5 to 2 preceding, exactly 2", frame{rows: true, start: 5, end: 2}, 2, 0, 1},
		{"unbounded to 1 preceding", frame{rows: true, unbounded: true, end: 1}, 4, 0, 4},
		{"unbounded to current row", frame{rows: true, unbounded: true, includeCur: true}, 4, 0, 4},
		{"0 open preceding start", frame{rows: true, start: -1}, 3, 3, 3},
		{"current row only", frame{rows: true, includeCur: true}, 5, 5, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lo, hi := tt.f.rowsBounds(tt.cEnd)
			if lo != tt.lo || hi != tt.hi {
				t.Errorf("%+v.rowsBounds(%d) = [%d, %d), want [%d, %d)", tt.f, tt.cEnd, lo, hi, tt.lo, tt.hi)
			}
		})
	}
}

func TestRangeLimits(t *testing.T) {
	t.Parallel()
	const minI, maxI = math.MinInt64, math.MaxInt64
	tests := []struct {
		name         string
		f            frame
		t            int64
		lower, upper int64
	}{
		{"3 preceding", frame{start: 3}, 10, 7, 10},
		{"unbounded to 2 preceding", frame{unbounded: true, end: 2}, 10, minI, 8},
		{"lower saturates", frame{start: 5}, minI + 2, minI, minI + 2},
		{"upper saturates", frame{start: 5, end: 3}, minI + 1, minI, minI},
		{"at the minimum", frame{start: 1}, minI, minI, minI},
		{"negative start saturates up", frame{start: -1}, maxI, maxI, maxI},
		{"negative start", frame{start: -1}, 5, 6, 5},
		{"huge offset, no overflow", frame{start: maxI}, 0, minI + 1, 0},
		{"huge offset saturates", frame{start: maxI}, -2, minI, -2},
		{"huge end saturates", frame{start: maxI, end: maxI}, -2, minI, minI},
		{"at the maximum", frame{start: 3}, maxI, maxI - 3, maxI},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lower, upper := tt.f.rangeLimits(tt.t)
			if lower != tt.lower || upper != tt.upper {
				t.Errorf("%+v.rangeLimits(%d) = [%d, %d], want [%d, %d]", tt.f, tt.t, lower, upper, tt.lower, tt.upper)
			}
		})
	}
}

func TestSubSat(t *testing.T) {
	t.Parallel()
	const minI, maxI = math.MinInt64, math.MaxInt64
	tests := []struct{ a, b, want int64 }{
		{10, 3, 7},
		{-10, -3, -7},
		{minI, 1, minI},
		{minI + 1, 1, minI},
		{minI + 1, 2, minI},
		{maxI, -1, maxI},
		{maxI - 1, -1, maxI},
		{maxI - 1, -2, maxI},
		{0, maxI, -maxI},
		{-1, maxI, minI},
		{-2, maxI, minI},
		{0, minI + 1, maxI},
		{0, 0, 0},
	}
	for _, tt := range tests {
		if got := subSat(tt.a, tt.b); got != tt.want {
			t.Errorf("subSat(%d, %d) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestCapMax(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		f          frame
		lo, hi, to int
	}{
		{"no MAXSIZE", frame{}, 0, 10, 0},
		{"MAXSIZE 3 with the current row keeps 2", frame{maxSize: 3, includeCur: true}, 0, 10, 8},
		{"MAXSIZE 3 with the current row, short", frame{maxSize: 3, includeCur: true}, 5, 6, 5},
		{"MAXSIZE 3 with the current row, exact", frame{maxSize: 3, includeCur: true}, 4, 6, 4},
		{"MAXSIZE 3 without the current row keeps 3", frame{maxSize: 3}, 0, 10, 7},
		{"MAXSIZE 1 with the current row keeps none", frame{maxSize: 1, includeCur: true}, 4, 9, 9},
		{"MAXSIZE 2, empty", frame{maxSize: 2}, 3, 3, 3},
		{"MAXSIZE 2, fits", frame{maxSize: 2}, 2, 4, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.f.capMax(tt.lo, tt.hi); got != tt.to {
				t.Errorf("%+v.capMax(%d, %d) = %d, want %d", tt.f, tt.lo, tt.hi, got, tt.to)
			}
		})
	}
}

func TestMaxPrecedingRows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		f    frame
		want int64
	}{
		{frame{rows: true, start: 3}, 3},
		{frame{rows: true, start: 0, includeCur: true}, 1},
		{frame{rows: true, start: -1}, 1},
		{frame{rows: true, unbounded: true}, 0},
		{frame{start: 3}, 0},
		{frame{rows: true, start: 3, ect: true}, 0},
		{frame{rows: true, start: 3, instNot: true}, 0},
	}
	for _, tt := range tests {
		if got := tt.f.maxPrecedingRows(); got != tt.want {
			t.Errorf("%+v.maxPrecedingRows() = %d, want %d", tt.f, got, tt.want)
		}
	}
}

func TestRequestBounds(t *testing.T) {
	t.Parallel()
	// Stored rows in window order with these order values; the request
	// comes after them at 7.
	ts := []int64{1, 2, 2, 5, 7, 7}
	id := rowSeq{n: len(ts)}
	// A permuted sequence: rows 2, 0, 1 with values 1, 3, 3.
	perm, permTS := rowSeq{s: []int{2, 0, 1}, n: 3}, []int64{3, 3, 1}
	tests := []struct {
		name         string
		f            frame
		q            rowSeq
		ts           []int64
		t            int64
		lo, hi, cEnd int
	}{
		{"rows 2 preceding", frame{rows: true, start: 2, includeCur: true}, id, ts, 7, 4, 6, 6},
		{"rows 2 preceding, exclude current time", frame{rows: true, start: 2, includeCur: true, ect: true}, id, ts, 7, 2, 4, 4},
		{"rows 3 to 1 preceding", frame{rows: true, start: 3, end: 1}, id, ts, 7, 3, 6, 6},
		{"range 5 preceding", frame{start: 5, includeCur: true}, id, ts, 7, 1, 6, 6},
		{"range 5 to 1 preceding", frame{start: 5, end: 1}, id, ts, 7, 1, 4, 6},
		{"range 5 preceding, exclude current time", frame{start: 5, includeCur: true, ect: true}, id, ts, 7, 1, 4, 4},
		{"range 0 preceding", frame{includeCur: true}, id, ts, 7, 4, 6, 6},
		{"range unbounded, MAXSIZE 2", frame{unbounded: true, includeCur: true, maxSize: 2}, id, ts, 7, 5, 6, 6},
		{"range above every row", frame{start: 1, includeCur: true}, id, ts, 100, 6, 6, 6},
		{"range, request later than the rows", frame{start: 3, end: 1}, id, ts, 8, 3, 6, 6},
		{"empty history", frame{start: 3, includeCur: true}, rowSeq{}, nil, 7, 0, 0, 0},
		{"permuted sequence", frame{start: 1, includeCur: true}, perm, permTS, 3, 1, 3, 3},
		{"range at the minimum", frame{start: 2, includeCur: true}, rowSeq{n: 2}, []int64{math.MinInt64, math.MinInt64}, math.MinInt64, 0, 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lo, hi, cEnd := tt.f.requestBounds(tt.q, tt.ts, tt.t)
			if lo != tt.lo || hi != tt.hi || cEnd != tt.cEnd {
				t.Errorf("%+v.requestBounds(t=%d) = [%d, %d) of %d, want [%d, %d) of %d", tt.f, tt.t, lo, hi, cEnd, tt.lo, tt.hi, tt.cEnd)
			}
		})
	}
}
