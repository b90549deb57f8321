package eval

import (
	"math"
	"sort"

	"github.com/fenestra-dev/fenestra/featurelang/agg"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// A window's rows are a partition sorted by (order value, union rows before
// the table's own rows at equal values, arrival). For each own row r with
// order value t the frame is:
//
//	C  = the rows that may precede r: those sorted before it (only union
//	     rows under INSTANCE_NOT_IN_WINDOW), without rows of value t under
//	     EXCLUDE CURRENT_TIME — always a prefix S[0:cEnd] of a sorted
//	     sequence S;
//	P  = a contiguous range S[lo:hi] of C cut by the bounds (values for
//	     ROWS_RANGE, counts for ROWS), then to its newest MAXSIZE rows;
//	frame = P plus r itself when the frame ends at CURRENT ROW and
//	     EXCLUDE CURRENT_ROW is absent.
//
// lo and hi never decrease from one row to the next, so batch mode slides
// accumulators along S (Add at hi, Remove at lo: FIFO). Request mode, where
// r comes after every stored row, finds lo and hi by binary search.

// frame is a window's frame with OPEN bounds already folded into
// inclusive offsets.
type frame struct {
	rows       bool
	unbounded  bool
	start, end int64 // inclusive offsets back from the current row
	includeCur bool
	ect        bool // EXCLUDE CURRENT_TIME
	instNot    bool // INSTANCE_NOT_IN_WINDOW
	maxSize    int64
}

func newFrame(w *plan.Window) frame {
	f := frame{
		rows:      w.Rows,
		unbounded: w.Start.Unbounded,
		start:     w.Start.Offset,
		end:       w.End.Offset,
		ect:       w.ExcludeCurrentTime,
		instNot:   w.InstanceNotInWindow,
		maxSize:   w.MaxSize,
	}
	// OPEN makes a bound exclusive: for whole offsets, one step inward.
	if w.Start.Open && !f.unbounded {
		f.start--
	}
	if w.End.Open {
		f.end++
	}
	f.includeCur = f.end == 0 && !w.ExcludeCurrentRow && (f.unbounded || f.start >= 0)
	return f
}

// maxPrecedingRows returns how many stored rows a ROWS frame can reach
// back (for request-mode fetch limits), or 0 when unlimited.
func (f *frame) maxPrecedingRows() int64 {
	if !f.rows || f.unbounded || f.ect || f.instNot {
		return 0
	}
	return max(f.start, 1)
}

// capMax applies MAXSIZE to P = S[lo:hi].
func (f *frame) capMax(lo, hi int) int {
	if f.maxSize <= 0 {
		return lo
	}
	limit := f.maxSize
	if f.includeCur {
		limit--
	}
	if int64(hi-lo) > limit {
		return hi - int(max(limit, 0))
	}
	return lo
}

// rowsBounds returns P for a ROWS frame over C = S[0:cEnd].
func (f *frame) rowsBounds(cEnd int) (lo, hi int) {
	hi = cEnd - int(max(f.end, 1)) + 1
	if f.unbounded {
		lo = 0
	} else {
		lo = cEnd - int(f.start)
	}
	hi = max(hi, 0)
	lo = min(max(lo, 0), hi)
	return f.capMax(lo, hi), hi
}

// rangeLimits returns the inclusive order-value bounds of a ROWS_RANGE
// frame for current value t, saturating instead of overflowing.
func (f *frame) rangeLimits(t int64) (lower, upper int64) {
	if t > math.MinInt64/2 && t < math.MaxInt64/2 && f.start < math.MaxInt64/2 && f.start > math.MinInt64/2 && f.end < math.MaxInt64/2 && f.end > math.MinInt64/2 {
		upper = t - f.end // cannot overflow: the common case, without branches below
		if f.unbounded {
			return math.MinInt64, upper
		}
		return t - f.start, upper
	}
	upper = subSat(t, f.end)
	lower = math.MinInt64
	if !f.unbounded {
		lower = subSat(t, f.start)
	}
	return lower, upper
}

func subSat(a, b int64) int64 {
	if b > 0 && a < math.MinInt64+b {
		return math.MinInt64
	}
	if b < 0 && a > math.MaxInt64+b {
		return math.MaxInt64
	}
	return a - b
}

// slider is the sliding state of one window over one partition in batch
// mode. Rows are positions in the partition-contiguous order of the
// window's gathered columns.
type slider struct {
	f    *frame
	s    rowSeq  // S: candidate positions in window order
	ts   []int64 // order values by position
	accs []agg.Acc
	// rangers are accs as RangeSliders, when every one of them is one.
	rangers []agg.RangeSlider
	lo, hi  int // the accumulators hold S[lo:hi]
	// pointers of the monotone searches
	sPos, ectEnd, loPtr, hiPtr int
	cEnd                       int // C = S[0:cEnd] for the current row
}

// bounds returns P = S[lo:hi] for an own row with value t given that the
// first sPos elements of S precede it, and sets cEnd (C = S[0:cEnd]).
func (sl *slider) bounds(t int64) (int, int) {
	f := sl.f
	cEnd := sl.sPos
	if f.ect {
		for sl.ectEnd < cEnd && sl.ts[sl.s.at(sl.ectEnd)] < t {
			sl.ectEnd++
		}
		cEnd = sl.ectEnd
	}
	sl.cEnd = cEnd
	if f.rows {
		return f.rowsBounds(cEnd)
	}
	lower, upper := f.rangeLimits(t)
	hp, lp := sl.hiPtr, sl.loPtr
	if sl.s.s == nil { // S is a run of positions: index ts directly
		ts := sl.ts[sl.s.base:]
		for hp < cEnd && ts[hp] <= upper {
			hp++
		}
		for lp < hp && ts[lp] < lower {
			lp++
		}
	} else {
		for hp < cEnd && sl.ts[sl.s.s[hp]] <= upper {
			hp++
		}
		for lp < hp && sl.ts[sl.s.s[lp]] < lower {
			lp++
		}
	}
	sl.hiPtr, sl.loPtr = hp, lp
	return f.capMax(lp, hp), hp
}

// slide moves the accumulators from S[lo:hi] to S[newLo:newHi]; both ends
// only move forward, so removals are always of the oldest rows held.
func (sl *slider) slide(newLo, newHi int) {
	if sl.rangers != nil && sl.s.s == nil && newLo <= sl.hi {
		b := sl.s.base
		for _, r := range sl.rangers {
			r.Slide(b+sl.lo, b+sl.hi, b+newLo, b+newHi)
		}
		sl.lo, sl.hi = newLo, newHi
		return
	}
	for sl.lo < newLo && sl.lo < sl.hi {
		row := sl.s.at(sl.lo)
		for _, a := range sl.accs {
			a.Remove(row)
		}
		sl.lo++
	}
	if sl.lo < newLo {
		sl.lo, sl.hi = newLo, newLo
	}
	for sl.hi < newHi {
		row := sl.s.at(sl.hi)
		for _, a := range sl.accs {
			a.Add(row)
		}
		sl.hi++
	}
}

// navTarget is a navigation function (lag, at) being computed: x of the
// row off places before the current row among C (0: the current row).
type navTarget struct {
	col         *types.Column
	off         int
	ignoreNulls bool
	out         types.Column
}

// value returns the navigation result for current row cur with C = the
// first cEnd rows of q. With ignoreNulls, rows whose x is NULL are skipped
// (the current row included).
func (n *navTarget) value(q rowSeq, cEnd, cur int) types.Value {
	k := n.off
	if !n.ignoreNulls {
		switch {
		case k == 0:
			return n.col.Value(cur)
		case cEnd-k >= 0:
			return n.col.Value(q.at(cEnd - k))
		}
		return types.NullOf(n.col.Type)
	}
	if !n.col.IsNull(cur) {
		if k == 0 {
			return n.col.Value(cur)
		}
		k--
	}
	for i := cEnd - 1; i >= 0; i-- {
		if row := q.at(i); !n.col.IsNull(row) {
			if k == 0 {
				return n.col.Value(row)
			}
			k--
		}
	}
	return types.NullOf(n.col.Type)
}

// segment is one partition in batch mode: positions [a, b) of the
// partition-contiguous order; orig maps a position to its row of the
// window block, where rows >= nOwn are union rows.
type segment struct {
	a, b int
	orig []int
	nOwn int
}

func (sg segment) union(k int) bool { return sg.orig[k] >= sg.nOwn }

// candidates returns S for the segment: all its positions, or only the
// union rows' under INSTANCE_NOT_IN_WINDOW.
func (f *frame) candidates(sg segment) rowSeq {
	if !f.instNot {
		return rowSeq{base: sg.a, n: sg.b - sg.a}
	}
	var s []int
	for k := sg.a; k < sg.b; k++ {
		if sg.union(k) {
			s = append(s, k)
		}
	}
	return rowSeq{s: s, n: len(s)}
}

// windowRun is one window being computed in batch mode: its accumulators
// (with their ResultWriter fast paths, or nil), navigation functions and
// output columns, all indexed by position.
type windowRun struct {
	f       *frame
	accs    []agg.Acc
	rangers []agg.RangeSlider // all accs, when each is a RangeSlider; else nil
	writers []agg.ResultWriter
	outs    []types.Column
	navs    []navTarget
	// fused allows sweepFused: the frame ends at the current row with no
	// exclusions, and every accumulator is a RangeSlider and ResultWriter.
	fused bool
}

// sweep computes the window's aggregates and navigation functions for
// every own row of one partition, writing them at the row's position. ts
// and the accumulators' columns are indexed by position too; the caller
// gathers the results back into row order.
//
// When the frame ends at the current row and nothing is excluded before it
// (no EXCLUDE CURRENT_TIME, no INSTANCE_NOT_IN_WINDOW), the current row is
// the element of S right after P, so P and the current row are one range:
// the accumulators slide over it and Result needs no ResultWith.
func (wr *windowRun) sweep(sg segment, ts []int64) {
	f := wr.f
	for _, a := range wr.accs {
		a.Reset()
	}
	if wr.fused && sg.nOwn == len(sg.orig) {
		wr.sweepFused(sg.a, sg.b, ts)
		return
	}
	q := f.candidates(sg)
	sl := slider{f: f, s: q, ts: ts, accs: wr.accs, rangers: wr.rangers}
	contiguous := f.includeCur && !f.ect && !f.instNot
	allOwn := sg.nOwn == len(sg.orig)
	for k := sg.a; k < sg.b; k++ {
		if !allOwn && sg.union(k) {
			sl.sPos++
			continue
		}
		lo, hi := sl.bounds(ts[k])
		for i := range wr.navs {
			wr.navs[i].out.Set(k, wr.navs[i].value(q, sl.cEnd, k))
		}
		switch {
		case contiguous:
			sl.slide(lo, hi+1)
			wr.results(k)
		case f.includeCur:
			sl.slide(lo, hi)
			for i, a := range wr.accs {
				wr.outs[i].Set(k, a.ResultWith(k))
			}
		default:
			sl.slide(lo, hi)
			wr.results(k)
		}
		if !f.instNot {
			sl.sPos++
		}
	}
}

// sweepFused is sweep for the common frame, in one tight loop: the frame
// ends at the current row, nothing is excluded, there are no union rows or
// navigation functions, and every accumulator slides by range and writes
// its result directly. The frame of the row at position k is then
// positions [lo, k+1): only lo has to be found.
func (wr *windowRun) sweepFused(a, b int, ts []int64) {
	f := wr.f
	lo, hi := a, a // the accumulators hold positions [lo, hi)
	for k := a; k < b; k++ {
		newLo := lo
		switch {
		case f.rows && !f.unbounded:
			newLo = max(newLo, k-int(f.start))
		case !f.rows && !f.unbounded:
			lower, _ := f.rangeLimits(ts[k])
			for newLo < k && ts[newLo] < lower {
				newLo++
			}
		}
		if f.maxSize > 0 {
			newLo = max(newLo, k+1-int(f.maxSize))
		}
		for _, r := range wr.rangers {
			r.Slide(lo, hi, newLo, k+1)
		}
		lo, hi = newLo, k+1
		for i, w := range wr.writers {
			w.WriteResult(&wr.outs[i], k)
		}
	}
}

// results stores the accumulators' results at position k.
func (wr *windowRun) results(k int) {
	for i, a := range wr.accs {
		if w := wr.writers[i]; w != nil {
			w.WriteResult(&wr.outs[i], k)
		} else {
			wr.outs[i].Set(k, a.Result())
		}
	}
}

// rowSeq is a sequence S of rows: rows s, or base, base+1, ... base+n-1
// when s is nil (rows already in window order, the common case).
type rowSeq struct {
	s    []int
	base int
	n    int
}

func (q rowSeq) len() int { return q.n }

func (q rowSeq) at(i int) int {
	if q.s == nil {
		return q.base + i
	}
	return q.s[i]
}

// sweepNested computes a nested aggregate for every own row of one
// partition, recomputing it over each row's frame. It works in the rows of
// the window block (orig), where the nested arguments are evaluated.
func (f *frame) sweepNested(sg segment, ts []int64, ne *nestedEval, out *types.Column) {
	q := f.candidates(sg)
	var rows []int
	for i := 0; i < q.len(); i++ {
		rows = append(rows, sg.orig[q.at(i)])
	}
	orig := rowSeq{s: rows, n: len(rows)}
	sl := &slider{f: f, s: q, ts: ts}
	for k := sg.a; k < sg.b; k++ {
		if sg.union(k) {
			sl.sPos++
			continue
		}
		lo, hi := sl.bounds(ts[k])
		cur := -1
		if f.includeCur {
			cur = sg.orig[k]
		}
		out.Set(k, ne.result(orig, lo, hi, cur, sg.orig[k]))
		if !f.instNot {
			sl.sPos++
		}
	}
}

// requestBounds returns P = S[lo:hi] and cEnd (C = S[0:cEnd]) for a
// current row with value t that comes after every row of S (request mode),
// by binary search.
func (f *frame) requestBounds(q rowSeq, ts []int64, t int64) (lo, hi, cEnd int) {
	cEnd = q.len()
	if f.ect {
		cEnd = sort.Search(cEnd, func(i int) bool { return ts[q.at(i)] >= t })
	}
	if f.rows {
		lo, hi = f.rowsBounds(cEnd)
		return lo, hi, cEnd
	}
	lower, upper := f.rangeLimits(t)
	hi = sort.Search(cEnd, func(i int) bool { return ts[q.at(i)] > upper })
	lo = sort.Search(hi, func(i int) bool { return ts[q.at(i)] >= lower })
	return f.capMax(lo, hi), hi, cEnd
}
