package agg

import "github.com/fenestra-dev/fenestra/featurelang/types"

// frameAcc is the accumulator of aggregates that are computed on demand from
// the rows of the frame (lag, first_value, nth_value_where, median,
// window_split, ...): it keeps the frame's row indices in a FIFO and calls
// eval with a view of them. Rows for which keep is false (a NULL value, a
// false condition) are never held, so eval sees only the rows that matter
// and often answers in O(1). keep must be a pure function of the row; nil
// keeps every row.
type frameAcc struct {
	q    deque
	keep func(row int) bool
	eval func(v rowView) types.Value
}

func (a *frameAcc) kept(row int) bool { return a.keep == nil || a.keep(row) }

func (a *frameAcc) Reset() { a.q.reset() }

func (a *frameAcc) Add(row int) {
	if a.kept(row) {
		a.q.push(row)
	}
}

func (a *frameAcc) AddRange(lo, hi int) {
	for i := lo; i < hi; i++ {
		a.Add(i)
	}
}

// Remove drops row if it is held: it is then the oldest row held.
func (a *frameAcc) Remove(row int) {
	if a.q.len() > 0 && a.q.front() == row {
		a.q.popFront()
	}
}

func (a *frameAcc) Result() types.Value { return a.eval(rowView{q: &a.q}) }

func (a *frameAcc) ResultWith(row int) types.Value {
	v := rowView{q: &a.q}
	if a.kept(row) {
		v.extra, v.hasExtra = row, true
	}
	return a.eval(v)
}

// rowView is the sequence of rows an aggregate is computed over: the rows
// held by a frameAcc, oldest first, then the extra row of ResultWith.
type rowView struct {
	q        *deque
	extra    int
	hasExtra bool
}

// len returns the number of rows in the view.
func (v rowView) len() int {
	if v.hasExtra {
		return v.q.len() + 1
	}
	return v.q.len()
}

// at returns row k of the view, oldest first.
func (v rowView) at(k int) int {
	if k == v.q.len() {
		return v.extra
	}
	return v.q.at(k)
}

// back returns row k of the view counted from the newest (0 = newest), or
// false when the view has no such row.
func (v rowView) back(k int) (int, bool) {
	n := v.len()
	if k < 0 || k >= n {
		return 0, false
	}
	return v.at(n - 1 - k), true
}

// filterAcc feeds to inner only the rows for which keep is true: the
// *_where aggregates are their core aggregate over the rows whose condition
// holds. keep must be a pure function of the row.
type filterAcc struct {
	inner Acc
	keep  func(row int) bool
}

func (a *filterAcc) Reset() { a.inner.Reset() }

func (a *filterAcc) Add(row int) {
	if a.keep(row) {
		a.inner.Add(row)
	}
}

func (a *filterAcc) AddRange(lo, hi int) {
	for i := lo; i < hi; i++ {
		a.Add(i)
	}
}

func (a *filterAcc) Remove(row int) {
	if a.keep(row) {
		a.inner.Remove(row)
	}
}

func (a *filterAcc) Result() types.Value { return a.inner.Result() }

func (a *filterAcc) ResultWith(row int) types.Value {
	if a.keep(row) {
		return a.inner.ResultWith(row)
	}
	return a.inner.Result()
}

// isTrue reports whether row of a bool column is a non-NULL true. A nil
// column (the NULL literal as a condition) is never true.
func isTrue(c *types.Column, row int) bool {
	return c != nil && c.I != nil && !c.IsNull(row) && c.I[row] != 0
}
