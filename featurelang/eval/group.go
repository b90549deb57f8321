package eval

import (
	"fmt"

	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// Aggregate nodes (GROUP BY and whole-table aggregates) run in batch mode
// only. The input rows are grouped by key in order of first appearance
// (a counting sort, so each group keeps its rows in arrival order), the
// argument columns are gathered into that order once, and every
// aggregate adds each group's rows as one contiguous range to a fresh
// accumulator, the one windows use.

// aggregate compiles an Aggregate node: its group keys, HAVING and output
// expressions, and the aggregates in them.
func (b *builder) aggregate(n *node) error {
	if len(n.p.GroupBy) == 0 {
		for _, e := range append(n.p.Exprs, n.p.Cond) {
			if col, ok := rowRead(e); ok {
				return fmt.Errorf("a whole-table aggregate reads column %d outside an aggregate", col)
			}
		}
	}
	ec := &exprCompiler{aggSlot: map[*plan.Expr]int{}}
	for _, e := range append(n.p.Exprs, n.p.Cond) {
		if e == nil {
			continue
		}
		if err := b.collectAggs(n, ec, e); err != nil {
			return err
		}
	}
	for _, site := range n.aggs {
		if site.nested {
			return fmt.Errorf("aggregate %s of a group has an aggregate in its arguments", site.fn.Name)
		}
	}
	var err error
	if n.groupKeys, err = compileAll(&exprCompiler{}, n.p.GroupBy); err != nil {
		return err
	}
	if n.p.Cond != nil {
		if n.cond, err = ec.compile(n.p.Cond); err != nil {
			return err
		}
	}
	n.exprs, err = compileAll(ec, n.p.Exprs)
	return err
}

// rowRead returns a column e reads outside aggregates (a column or a CEL
// variable), if any.
func rowRead(e *plan.Expr) (int, bool) {
	switch {
	case e == nil || e.Op == plan.Agg:
		return 0, false
	case e.Op == plan.Col:
		return e.Col, true
	case e.Op == plan.CEL && len(e.CEL.Vars) > 0:
		return e.CEL.Vars[0].Col, true
	}
	for _, a := range e.Args {
		if col, ok := rowRead(a); ok {
			return col, true
		}
	}
	return 0, false
}

// aggregate evaluates an Aggregate node: one output row per group that
// passes HAVING, groups in order of first appearance.
func (r *batchRun) aggregate(n *node) (*types.Block, error) {
	in, err := r.eval(n.input)
	if err != nil {
		return nil, err
	}
	c := newCtx()
	c.blk = in
	order, segs := groupOrder(n, in, c)
	groups := len(segs) - 1
	first := make([]int, groups) // each group's first row; -1 for none
	for g := range first {
		first[g] = -1
		if segs[g] < segs[g+1] {
			first[g] = order[segs[g]]
		}
	}
	aggCols, err := groupResults(n, in, c, order, segs)
	if err != nil {
		return nil, err
	}
	c.aggs = aggCols
	keep := make([]int, 0, groups)
	for g := range groups {
		c.row, c.aggRow = max(first[g], 0), g
		if n.cond == nil || n.cond(c).IsTrue() {
			keep = append(keep, g)
		}
	}
	out := &types.Block{Schema: n.p.Schema, Len: len(keep), Cols: make([]types.Column, len(n.exprs))}
	for i, f := range n.exprs {
		col := types.MakeColumn(n.p.Schema[i].Type, len(keep))
		for j, g := range keep {
			c.row, c.aggRow = max(first[g], 0), g
			col.Set(j, f(c))
		}
		out.Cols[i] = col
	}
	if r.track && n.spine {
		r.groupOrigins(keep, first)
	}
	return out, c.err
}

// groupOrigins maps the output rows of a spine Aggregate, groups keep,
// to the FROM-table rows of their groups' first rows (-1 for a
// whole-table aggregate of no rows).
func (r *batchRun) groupOrigins(keep, first []int) {
	origins := make([]int, len(keep))
	for j, g := range keep {
		switch row := first[g]; {
		case row < 0:
			origins[j] = -1
		case r.origins == nil:
			origins[j] = row
		default:
			origins[j] = r.origins[row]
		}
	}
	r.origins = origins
}

// groupOrder orders the rows of in group by group, in order of first
// appearance: order lists the rows, group g at order[segs[g]:segs[g+1]],
// in arrival order. Without keys all rows are one group, even none.
func groupOrder(n *node, in *types.Block, c *ectx) (order, segs []int) {
	pid, groups := make([]int32, in.Len), 1
	if len(n.groupKeys) > 0 {
		pid, groups = keyIDs(n.p.GroupBy, n.groupKeys, in, c)
	}
	segs = make([]int, groups+1)
	for _, g := range pid {
		segs[g+1]++
	}
	for g := 1; g <= groups; g++ {
		segs[g] += segs[g-1]
	}
	next := append([]int(nil), segs[:groups]...)
	order = make([]int, in.Len)
	for i, g := range pid {
		order[next[g]] = i
		next[g]++
	}
	return order, segs
}

// groupResults computes every aggregate of n for every group: column
// slot holds aggregate slot's result per group.
func groupResults(n *node, in *types.Block, c *ectx, order, segs []int) ([]types.Column, error) {
	gc := &gathered{w: in, order: order, c: c, byCol: map[int]*types.Column{}}
	out := make([]types.Column, len(n.aggs))
	for slot, site := range n.aggs {
		cols, err := gc.args(site)
		if err != nil {
			return nil, err
		}
		acc := site.fn.Bind(cols)
		res := types.MakeColumn(site.fn.Result, len(segs)-1)
		for g := 0; g+1 < len(segs); g++ {
			acc.Reset()
			acc.AddRange(segs[g], segs[g+1])
			res.Set(g, acc.Result())
		}
		out[slot] = res
	}
	return out, nil
}
