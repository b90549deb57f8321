package eval

import (
	"math"

	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// Request mode joins a window's history rows only where their joined
// columns are read. A window's input is often a table with LAST JOINs
// (FROM tx LAST JOIN cards ... LAST JOIN merchants ... WINDOW w10d, w1h),
// and the history is fetched for the widest frame of the group; but a
// join whose right columns only a 1-hour window reads need not be made
// for the 10 days of rows before that hour. A LAST JOIN keeps every left
// row (a row without a match gets NULLs), so joining fewer rows changes
// no row count, only right columns nothing reads.

// joinNeed says which history rows of a window group need the right
// columns of LAST JOIN n, a step of the group's own input: all of them,
// or those in the frames of windows (none when windows is empty).
type joinNeed struct {
	n       *node
	all     bool
	windows []*windowEval
}

// planJoinNeeds sets g.joins for window group g of Project n, when its
// own input is a table read through LAST JOINs alone (the case pushed
// down to the Source, whose rows come sorted by the order column).
func planJoinNeeds(n *node, g *windowGroup) {
	_, steps, ok := rowChain(n.input)
	if !ok || len(steps) == 0 || g.orderCol < 0 {
		return
	}
	for _, s := range steps {
		if s.p.Op != plan.LastJoin {
			return
		}
	}
	// The columns every history row is read for: the partition and order,
	// and the left columns of the joins' keys and conditions. (Each join
	// appends its right columns, so a column keeps its position from the
	// join that adds it up to the window's input.)
	every := map[int]bool{}
	for _, e := range g.spec.PartitionBy {
		exprCols(e, every)
	}
	exprCols(g.spec.OrderBy, every)
	for _, s := range steps {
		left := map[int]bool{}
		for _, e := range s.p.LeftKeys {
			exprCols(e, left)
		}
		exprCols(s.p.Cond, left)
		for c := range left {
			if c < len(s.p.Input.Schema) {
				every[c] = true
			}
		}
	}
	// The columns each window reads of the rows in its frame; nested
	// aggregates and navigation functions read rows outside the frame.
	frameCols := make([]map[int]bool, len(g.windows))
	for i, we := range g.windows {
		frameCols[i] = map[int]bool{}
		for _, slot := range we.slots {
			exprCols(n.aggs[slot].expr, frameCols[i])
		}
		for _, slot := range append(append([]int(nil), we.navs...), we.nested...) {
			exprCols(n.aggs[slot].expr, every)
		}
	}
	for _, s := range steps {
		need := joinNeed{n: s}
		lo, hi := len(s.p.Input.Schema), len(s.p.Schema)
		for c := range every {
			need.all = need.all || c >= lo && c < hi
		}
		for i, we := range g.windows {
			for c := range frameCols[i] {
				if c >= lo && c < hi {
					need.windows = append(need.windows, we)
					need.all = need.all || we.frame.rows || we.frame.unbounded
					break
				}
			}
		}
		if !need.all {
			g.joins = append(g.joins, need)
		}
	}
}

// exprCols adds the input columns e reads to cols.
func exprCols(e *plan.Expr, cols map[int]bool) {
	if e == nil {
		return
	}
	if e.Op == plan.Col {
		cols[e.Col] = true
	}
	if e.CEL != nil {
		for _, v := range e.CEL.Vars {
			cols[v.Col] = true
		}
	}
	for _, a := range e.Args {
		exprCols(a, cols)
	}
}

// joinPrune is what a history fetch needs to prune joins: the order
// value from which each pruned join's rows are needed (math.MaxInt64:
// none), by join node, and the order column the rows are sorted by.
type joinPrune struct {
	from     map[*node]int64
	orderCol int
}

// joinsFrom returns the joins of group g's history at order value t to
// prune, or nil when g prunes none.
func joinsFrom(g *windowGroup, t int64) *joinPrune {
	if len(g.joins) == 0 {
		return nil
	}
	jp := &joinPrune{from: make(map[*node]int64, len(g.joins)), orderCol: g.orderCol}
	for _, j := range g.joins {
		f := int64(math.MaxInt64)
		for _, we := range j.windows {
			lower, _ := we.frame.rangeLimits(t)
			f = min(f, lower)
		}
		jp.from[j.n] = f
	}
	return jp
}

// joinFrom returns the order value from which join n's rows are needed,
// when jp prunes n.
func (jp *joinPrune) joinFrom(n *node) (int64, bool) {
	if jp == nil {
		return 0, false
	}
	from, ok := jp.from[n]
	return from, ok
}

// firstFrom returns the first row of b, sorted by column col ascending
// (NULL first), whose value is at least from, NULL counting as
// math.MinInt64, as windows order it.
func firstFrom(b *types.Block, col int, from int64) int {
	c := &b.Cols[col]
	i := b.Len
	for i > 0 && (c.IsNull(i-1) && from == math.MinInt64 || !c.IsNull(i-1) && c.I[i-1] >= from) {
		i--
	}
	return i
}
