package eval

import (
	"math"
	"slices"
	"strings"

	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// Read is the shape of a read request mode makes of its Source: a table,
// the key columns it selects rows by (none: the whole table) and the
// column it orders and bounds them by (empty: arrival order). An index of
// the table on Keys with TS (any TS when TS is empty) serves it; without
// one, a store scans the whole table.
type Read struct {
	Table string
	Keys  []string
	TS    string
	// Why says what reads it: "window w" or "LAST JOIN".
	Why string
}

// Reads returns the reads request mode makes for the evaluator's plan,
// whatever the request: one per window group's input and union source
// and per LAST JOIN, in plan order, without duplicates. They are the
// queries request mode builds (the same code derives them), so a table
// with an index for each Read is served by index lookups only. A LAST
// JOIN on the request's path that takes the request's own right row
// (ownJoin) reads what its right side reads for the request. A plan that
// runs in batch mode only makes none.
func (e *Evaluator) Reads() []Read {
	if e.batchOnly != "" {
		return nil
	}
	r := &requestRun{plan: e.plan}
	var out []Read
	add := func(q Query, why string) {
		rd := Read{Table: q.Table, Keys: q.Keys, TS: q.TS, Why: why}
		if !slices.ContainsFunc(out, func(o Read) bool { return sameRead(o, rd) }) {
			out = append(out, rd)
		}
	}
	// visit adds n's reads; path says n computes the request's row (it is
	// on the request's path), else it computes stored rows (history).
	var visit func(n *node, path bool)
	visit = func(n *node, path bool) {
		if n == nil {
			return
		}
		input := true     // whether n.input's own reads are made
		var mine []func() // n's own reads, added after its input's
		defer func() {
			for _, f := range mine {
				f()
			}
		}()
		for _, g := range n.groups {
			why := "window " + g.spec.Name
			for i, m := range append([]*node{n.input}, g.unions...) {
				key := make([]types.Value, len(g.spec.PartitionBy))
				q, _, _, _, ok := r.historyQuery(m, i == 0, g, key, math.MaxInt64, math.MinInt64, 0)
				switch {
				case !ok:
					mine = append(mine, func() { visitAll(m, add) }) // computed over the whole tables
					input = input && i > 0
				default: // and the joins of its steps, over the history
					mine = append(mine, func() { add(q, why); visit(m, false) })
				}
			}
		}
		switch {
		case n.p.Op != plan.LastJoin:
		case path && ownJoin(n, r.plan.RequestTable):
			mine = append(mine, func() { visit(n.right, true) })
		default:
			if q, _, ok := r.candidateQuery(n, make([]types.Value, len(n.p.RightKeys))); ok {
				if q.TS == "" {
					q.TS, _ = traceCol(n.right, n.p.OrderBy)
				}
				mine = append(mine, func() { add(q, "LAST JOIN"); visit(n.right, false) })
			} else {
				mine = append(mine, func() { visitAll(n.right, add) })
			}
		}
		if input {
			visit(n.input, path)
		}
	}
	visit(e.root, true)
	return out
}

// visitAll adds a whole-table read of every table m reads: what the
// fallback of a read that is not a fetch does (batchAll).
func visitAll(m *node, add func(Query, string)) {
	for _, t := range tablesOf(m) {
		add(Query{Table: t}, "a whole-table read")
	}
}

func sameRead(a, b Read) bool {
	return a.Table == b.Table && strings.EqualFold(a.TS, b.TS) && slices.EqualFunc(a.Keys, b.Keys, strings.EqualFold)
}
