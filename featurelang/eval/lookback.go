package eval

import (
	"fmt"
	"slices"

	"github.com/fenestra-dev/fenestra/featurelang/plan"
)

// Lookback is how far back from a row of the FROM table its output reads
// that table's rows, when that is bounded: the rows of the same
// partition key whose order value (the FROM-table column TS) is at least
// the row's minus Range, and the Rows rows sorted just before it. A batch
// evaluation over a contiguous run of one key's rows in window order
// then computes every row of the run exactly as over all the key's rows,
// provided the run starts with those rows of its first row (and every
// row at the same order value as a row of the run is in it). Hosts use it
// to evaluate a key too large to hold at once in pieces.
type Lookback struct {
	// Why is empty when the lookback is bounded; else it says why not
	// (an unbounded frame, a GROUP BY, a UNION, ...), naming the window.
	Why string
	// TS is the FROM table's column every window orders by.
	TS string
	// Range is the widest reach back of a ROWS_RANGE frame, in TS units
	// (of windows over windows, the sum of each level's).
	Range int64
	// Rows is the most rows before the current one that a ROWS frame or a
	// navigation function (lag, at) reads.
	Rows int64
	// Key is the FROM table's columns every window partitions by exactly,
	// when Rows is more than 0 (rows counted back are the key's rows only
	// when the partition is the key).
	Key []string
}

// Lookback returns the view's lookback over its FROM table (see
// Lookback). A view without windows has a zero one.
func (e *Evaluator) Lookback() Lookback {
	var lb Lookback
	from := ""
	var levels int
	for n := e.root; n != nil; n = n.input {
		if n.p.Op == plan.Scan {
			from = n.p.Table
		}
	}
	for n := e.root; n != nil && lb.Why == ""; n = n.input {
		switch n.p.Op {
		case plan.Aggregate:
			lb.Why = "a GROUP BY or whole-table aggregate reads all of a group's rows"
		case plan.LastJoin:
			if readsTable(n.right, from) {
				lb.Why = "a LAST JOIN's right side reads the FROM table " + from
			}
		case plan.Project:
			if len(n.groups) > 0 {
				// Windows over windows reach back as far as their
				// frames together: an outer frame's oldest row needs
				// the inner frames' rows before it.
				levels++
				outer := lb.Range
				lb.Range = 0
				lb.addGroups(n, from)
				lb.Range = subSat(0, -outer-lb.Range)
			}
		}
	}
	if lb.Why == "" && levels > 1 && lb.Rows > 0 {
		lb.Why = "windows over windows with ROWS frames or lag"
	}
	if lb.Why == "" && lb.Rows > 0 && filtered(e.root) {
		lb.Why = "a WHERE below windows with ROWS frames or lag"
	}
	if lb.Why != "" {
		return Lookback{Why: lb.Why}
	}
	return lb
}

// addGroups adds the windows of Project n, over the FROM table from.
func (lb *Lookback) addGroups(n *node, from string) {
	for _, g := range n.groups {
		name := "window " + g.spec.Name
		if len(g.unions) > 0 {
			lb.Why = name + " has a UNION"
			return
		}
		ts, ok := spineCol(n.input, g.spec.OrderBy)
		switch {
		case g.spec.OrderBy == nil:
			lb.Why = name + " has no ORDER BY"
		case !ok:
			lb.Why = name + " orders by a computed value"
		case lb.TS != "" && ts != lb.TS:
			lb.Why = fmt.Sprintf("windows order by %s and by %s", lb.TS, ts)
		case g.navNulls:
			lb.Why = name + " has lag IGNORE NULLS, which reads every earlier row"
		}
		if lb.Why != "" {
			return
		}
		lb.TS = ts
		rows := lb.Rows
		lb.Rows = max(lb.Rows, int64(g.maxNav))
		for _, we := range g.windows {
			if lb.addFrame(name, &we.frame); lb.Why != "" {
				return
			}
		}
		counts := g.maxNav > 0 || lb.Rows > rows || slices.ContainsFunc(g.windows, func(we *windowEval) bool { return we.frame.rows })
		if counts && !lb.keyed(n.input, g.spec.PartitionBy) {
			lb.Why = name + " counts rows back in a partition finer than the others'"
			return
		}
	}
}

// addFrame adds frame f of window name.
func (lb *Lookback) addFrame(name string, f *frame) {
	switch {
	case f.unbounded:
		lb.Why = name + " has an unbounded frame"
	case f.rows:
		lb.Rows = max(lb.Rows, f.start, 1)
	default:
		lb.Range = max(lb.Range, f.start)
	}
}

// keyed reports whether the partition by (over m's schema) is the FROM
// table's columns lb.Key, setting lb.Key from the first partition.
func (lb *Lookback) keyed(m *node, by []*plan.Expr) bool {
	var cols []string
	for _, e := range by {
		c, ok := spineCol(m, e)
		if !ok {
			return false
		}
		cols = append(cols, c)
	}
	slices.Sort(cols)
	if lb.Key == nil {
		lb.Key = cols
	}
	return slices.Equal(cols, lb.Key)
}

// spineCol follows a bare column over m's schema down the spine to the
// FROM table's column it copies, through Projects (with windows too),
// LAST JOINs' left sides and Filters.
func spineCol(m *node, e *plan.Expr) (string, bool) { return followCol(m, e, true) }

// readsTable reports whether subtree n scans table.
func readsTable(n *node, table string) bool {
	if n == nil {
		return false
	}
	if n.p.Op == plan.Scan && n.p.Table == table {
		return true
	}
	for _, g := range n.groups {
		if slices.ContainsFunc(g.unions, func(u *node) bool { return readsTable(u, table) }) {
			return true
		}
	}
	return readsTable(n.input, table) || readsTable(n.right, table)
}

// filtered reports whether a Filter is on the spine below a Project with
// windows.
func filtered(root *node) bool {
	windows := false
	for n := root; n != nil; n = n.input {
		windows = windows || len(n.groups) > 0
		if windows && n.p.Op == plan.Filter {
			return true
		}
	}
	return false
}
