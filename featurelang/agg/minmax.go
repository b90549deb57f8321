package agg

import (
	"cmp"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

func init() {
	register(resolveMinMax, "min", "max")
}

func resolveMinMax(name string, args []types.Type, consts []*types.Value) (*Func, error) {
	if err := wantArgs(name, args, 1); err != nil {
		return nil, err
	}
	t := args[0]
	sign := 1
	if name == "max" {
		sign = -1
	}
	var bind func(c []*types.Column) Acc
	switch {
	case t.IsFloat():
		bind = func(c []*types.Column) Acc {
			return &minMaxAcc[float64]{col: c[0], vals: c[0].F, sign: sign, put: func(o *types.Column, i int, v float64) { o.F[i] = v },
				pick: func(c *types.Column) []float64 { return c.F }}
		}
	case t == types.String:
		bind = func(c []*types.Column) Acc {
			return &minMaxAcc[string]{col: c[0], vals: c[0].S, sign: sign, put: func(o *types.Column, i int, v string) { o.S[i] = v },
				pick: func(c *types.Column) []string { return c.S }}
		}
	case t.IsInteger() || t == types.Timestamp || t == types.Date:
		bind = func(c []*types.Column) Acc {
			return &minMaxAcc[int64]{col: c[0], vals: c[0].I, sign: sign, put: func(o *types.Column, i int, v int64) { o.I[i] = v },
				pick: func(c *types.Column) []int64 { return c.I }}
		}
	default:
		return nil, argError(name, "cannot order %s; expected a number, string, timestamp or date", t)
	}
	return newFunc(name, args, t, consts, bind), nil
}

// minMaxAcc is a sliding minimum (sign +1) or maximum (sign -1) over a
// monotonic deque of row indices: the front is the extreme of the rows held,
// and each row is pushed and popped at most once, so a slide is O(1)
// amortized. Among equal values the oldest row wins, in the deque as in a
// fresh scan, so both modes return the same value (this matters for -0 and
// +0). Floats order by cmp.Compare: NaN is below every number.
type minMaxAcc[T cmp.Ordered] struct {
	col  *types.Column
	vals []T
	sign int
	q    deque
	put  func(out *types.Column, i int, v T) // stores v in out's vector
	pick func(c *types.Column) []T           // the column's vector of T
}

func (m *minMaxAcc[T]) Rebind(c []*types.Column) {
	m.col, m.vals = c[0], m.pick(c[0])
	m.q.reset()
}

// better reports whether a strictly beats b.
func (m *minMaxAcc[T]) better(a, b T) bool { return cmp.Compare(a, b)*m.sign < 0 }

func (m *minMaxAcc[T]) Reset() { m.q.reset() }

func (m *minMaxAcc[T]) Add(row int) {
	if m.col.IsNull(row) {
		return
	}
	v := m.vals[row]
	for m.q.len() > 0 && m.better(v, m.vals[m.q.back()]) {
		m.q.popBack()
	}
	m.q.push(row)
}

func (m *minMaxAcc[T]) AddRange(lo, hi int) {
	for i := lo; i < hi; i++ {
		m.Add(i)
	}
}

func (m *minMaxAcc[T]) Remove(row int) {
	if m.q.len() > 0 && m.q.front() == row {
		m.q.popFront()
	}
}

func (m *minMaxAcc[T]) Slide(lo, hi, newLo, newHi int) {
	for m.q.len() > 0 && m.q.front() < newLo {
		m.q.popFront()
	}
	for i := hi; i < newHi; i++ {
		m.Add(i)
	}
}

func (m *minMaxAcc[T]) Result() types.Value {
	if m.q.len() == 0 {
		return types.NullOf(m.col.Type)
	}
	return m.col.Value(m.q.front())
}

func (m *minMaxAcc[T]) WriteResult(out *types.Column, i int) {
	if m.q.len() == 0 {
		out.Set(i, types.NullOf(m.col.Type))
		return
	}
	if out.Nulls != nil {
		out.Nulls[i] = false
	}
	m.put(out, i, m.vals[m.q.front()])
}

func (m *minMaxAcc[T]) ResultWith(row int) types.Value {
	if m.col.IsNull(row) {
		return m.Result()
	}
	if m.q.len() == 0 || m.better(m.vals[row], m.vals[m.q.front()]) {
		return m.col.Value(row)
	}
	return m.col.Value(m.q.front())
}

// deque is a double-ended queue of row indices backed by one slice; the
// consumed prefix is reclaimed when it dominates.
type deque struct {
	buf  []int
	head int
}

func (d *deque) len() int { return len(d.buf) - d.head }

func (d *deque) reset() {
	d.buf = d.buf[:0]
	d.head = 0
}

func (d *deque) push(i int) {
	if d.head > 64 && d.head*2 > len(d.buf) {
		n := copy(d.buf, d.buf[d.head:])
		d.buf = d.buf[:n]
		d.head = 0
	}
	d.buf = append(d.buf, i)
}

func (d *deque) front() int { return d.buf[d.head] }
func (d *deque) back() int  { return d.buf[len(d.buf)-1] }
func (d *deque) popBack()   { d.buf = d.buf[:len(d.buf)-1] }

func (d *deque) popFront() {
	d.head++
	if d.head == len(d.buf) {
		d.reset()
	}
}

// at returns the k-th index held, oldest first.
func (d *deque) at(k int) int { return d.buf[d.head+k] }
