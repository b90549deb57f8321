package eval

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/fenestra-dev/fenestra/featurelang/agg"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// batchRun evaluates a plan over whole tables. Blocks it returns may share
// column storage with its inputs and with each other: they are read-only.
type batchRun struct {
	ctx    context.Context
	tables map[string]*types.Block
	// With track set, origins maps the rows of the spine node evaluated
	// last to positions in the FROM table (nil: the identity).
	track   bool
	origins []int
}

// keepOrigins records that spine node n kept the rows keep of its input.
func (r *batchRun) keepOrigins(n *node, keep []int) {
	if !r.track || !n.spine {
		return
	}
	if r.origins == nil {
		r.origins = slices.Clone(keep)
		return
	}
	for i, k := range keep {
		r.origins[i] = r.origins[k]
	}
	r.origins = r.origins[:len(keep)]
}

func (r *batchRun) eval(n *node) (*types.Block, error) {
	if err := r.ctx.Err(); err != nil {
		return nil, err
	}
	switch n.p.Op {
	case plan.Scan:
		b, ok := r.tables[n.p.Table]
		if !ok {
			return nil, fmt.Errorf("%w: no rows given for table %q", ErrInput, n.p.Table)
		}
		return b, nil
	case plan.ConstRow:
		return projectRows(n, &types.Block{Len: 1}, nil)
	case plan.Filter:
		return r.filter(n)
	case plan.Limit:
		in, err := r.eval(n.input)
		if err != nil || int64(in.Len) <= n.p.N {
			return in, err
		}
		keep := seq(0, int(n.p.N))
		r.keepOrigins(n, keep)
		return in.Gather(keep), nil
	case plan.LastJoin:
		return r.lastJoin(n)
	case plan.Project:
		return r.project(n)
	case plan.Aggregate:
		return r.aggregate(n)
	}
	return nil, fmt.Errorf("eval: unknown node %q", n.p.Op)
}

func seq(lo, hi int) []int {
	out := make([]int, hi-lo)
	for i := range out {
		out[i] = lo + i
	}
	return out
}

func (r *batchRun) filter(n *node) (*types.Block, error) {
	in, err := r.eval(n.input)
	if err != nil {
		return nil, err
	}
	keep, err := filterKeep(n, in)
	if err != nil {
		return nil, err
	}
	r.keepOrigins(n, keep)
	return in.Gather(keep), nil
}

// filterRows keeps the rows of in for which the Filter's condition is true.
func filterRows(n *node, in *types.Block) (*types.Block, error) {
	keep, err := filterKeep(n, in)
	if err != nil {
		return nil, err
	}
	return in.Gather(keep), nil
}

// filterKeep returns the positions of the rows of in for which the
// Filter's condition is true.
func filterKeep(n *node, in *types.Block) ([]int, error) {
	c := newCtx()
	c.blk = in
	var keep []int
	for c.row = 0; c.row < in.Len; c.row++ {
		if n.cond(c).IsTrue() {
			keep = append(keep, c.row)
		}
	}
	return keep, c.err
}

func (r *batchRun) project(n *node) (*types.Block, error) {
	in, err := r.eval(n.input)
	if err != nil {
		return nil, err
	}
	aggCols := make([]types.Column, len(n.aggs))
	for _, g := range n.groups {
		if err := r.windows(n, g, in, aggCols); err != nil {
			return nil, err
		}
	}
	return projectRows(n, in, aggCols)
}

// projectRows evaluates the output expressions for every row of in.
func projectRows(n *node, in *types.Block, aggCols []types.Column) (*types.Block, error) {
	return projectInto(n, in, aggCols, &types.Block{})
}

// projectInto is projectRows writing into out, reusing its Cols slice
// (request mode keeps one per node).
func projectInto(n *node, in *types.Block, aggCols []types.Column, out *types.Block) (*types.Block, error) {
	if cap(out.Cols) < len(n.exprs) {
		out.Cols = make([]types.Column, len(n.exprs))
	}
	out.Cols = out.Cols[:len(n.exprs)]
	out.Schema, out.Len = n.p.Schema, in.Len
	c := newCtx()
	c.blk, c.aggs = in, aggCols
	for i, f := range n.exprs {
		if j := n.pass[i]; j >= 0 {
			out.Cols[i] = in.Cols[j]
			continue
		}
		if slot := n.aggOut[i]; slot >= 0 {
			out.Cols[i] = aggCols[slot]
			continue
		}
		col := types.MakeColumn(n.p.Schema[i].Type, in.Len)
		if fill := n.fills[i]; fill != nil {
			fill(c, in.Len, &col)
			out.Cols[i] = col
			continue
		}
		for c.row = 0; c.row < in.Len; c.row++ {
			c.aggRow = c.row
			col.Set(c.row, f(c))
		}
		out.Cols[i] = col
	}
	return out, c.err
}

func countAggs(e *plan.Expr) int {
	if e.Op == plan.Agg {
		return 1
	}
	n := 0
	for _, a := range e.Args {
		n += countAggs(a)
	}
	return n
}

// windows computes the aggregates of one window group for every row of in.
//
// The rows of each partition are scattered over the input, so the group is
// evaluated in a partition-contiguous order: rows are grouped by partition
// (a counting sort), sorted within it, and the order values and argument
// columns are gathered into that order once; every window then slides over
// contiguous memory, and its results are scattered back to input order.
func (r *batchRun) windows(n *node, g *windowGroup, in *types.Block, aggCols []types.Column) error {
	w := in
	starts := []int{in.Len}
	if len(g.unions) > 0 {
		more := make([]*types.Block, len(g.unions))
		for i, u := range g.unions {
			b, err := r.eval(u)
			if err != nil {
				return err
			}
			more[i] = b
			starts = append(starts, starts[i]+b.Len)
		}
		w = types.Concat(in, more...)
	}
	c := newCtx()
	c.blk = w
	ts := orderValues(g, w, c)
	order, segs := partitionOrder(g, w, c, ts, starts)
	tsP := gatherInts(ts, order)
	back := inverse(order, in.Len)
	gc := &gathered{w: w, order: order, c: c, byCol: map[int]*types.Column{}}
	runs := make([]*windowRun, len(g.windows))
	for i, we := range g.windows {
		var err error
		if runs[i], err = newWindowRun(n, we, gc); err != nil {
			return err
		}
	}
	// Partition by partition, every window: a partition's gathered values
	// stay in cache across the windows.
	for p := 0; p+1 < len(segs); p++ {
		if p%1024 == 0 {
			if err := r.ctx.Err(); err != nil {
				return err
			}
		}
		sg := segment{a: segs[p], b: segs[p+1], orig: order, nOwn: in.Len}
		for _, wr := range runs {
			wr.sweep(sg, tsP)
		}
	}
	for i, we := range g.windows {
		for j, slot := range we.slots {
			aggCols[slot] = runs[i].outs[j].Gather(back)
		}
		for j, slot := range we.navs {
			aggCols[slot] = runs[i].navs[j].out.Gather(back)
		}
	}
	c.aggs = aggCols
	for _, we := range g.windows {
		for _, slot := range we.nested {
			ne := newNestedEval(n.aggs[slot], w, c)
			out := types.MakeColumn(n.aggs[slot].fn.Result, len(order))
			for p := 0; p+1 < len(segs); p++ {
				we.frame.sweepNested(segment{a: segs[p], b: segs[p+1], orig: order, nOwn: in.Len}, tsP, ne, &out)
			}
			aggCols[slot] = out.Gather(back)
		}
	}
	return c.err
}

// newWindowRun binds a window's aggregates and navigation functions to
// their gathered argument columns and fresh output columns in positions.
func newWindowRun(n *node, we *windowEval, gc *gathered) (*windowRun, error) {
	wr := &windowRun{f: &we.frame}
	for _, slot := range we.slots {
		cols, err := gc.args(n.aggs[slot])
		if err != nil {
			return nil, err
		}
		acc := n.aggs[slot].fn.Bind(cols)
		if nb, ok := acc.(agg.Numberer); ok {
			nb.NumberValues() // the accumulator slides over all of cols
		}
		w, _ := acc.(agg.ResultWriter)
		wr.accs = append(wr.accs, acc)
		wr.writers = append(wr.writers, w)
		wr.outs = append(wr.outs, types.MakeColumn(n.aggs[slot].fn.Result, len(gc.order)))
		if r, ok := acc.(agg.RangeSlider); ok {
			wr.rangers = append(wr.rangers, r)
		}
	}
	if len(wr.rangers) != len(wr.accs) {
		wr.rangers = nil
	}
	for _, slot := range we.navs {
		cols, err := gc.args(n.aggs[slot])
		if err != nil {
			return nil, err
		}
		site := n.aggs[slot]
		wr.navs = append(wr.navs, navTarget{col: cols[0], off: site.nav, ignoreNulls: site.ignoreNulls,
			out: types.MakeColumn(site.fn.Result, len(gc.order))})
	}
	f := wr.f
	wr.fused = f.includeCur && !f.ect && !f.instNot && len(wr.navs) == 0 && wr.rangers != nil && !slices.Contains(wr.writers, nil)
	return wr, nil
}

// gathered caches the argument columns of a window group's aggregates in
// partition-contiguous order: a column read by several aggregates is
// gathered once.
type gathered struct {
	w     *types.Block
	order []int
	c     *ectx
	byCol map[int]*types.Column
}

// args returns the aggregate's argument columns in gathered order.
func (gc *gathered) args(site *aggSite) ([]*types.Column, error) {
	cols := make([]*types.Column, len(site.args))
	for i, f := range site.args {
		if j := site.argCol[i]; j >= 0 {
			if gc.byCol[j] == nil {
				col := gc.w.Cols[j].Gather(gc.order)
				gc.byCol[j] = &col
			}
			cols[i] = gc.byCol[j]
			continue
		}
		// Computed in row order, which reads the input sequentially
		// (order is a permutation of its rows), then gathered.
		all := computeColumn(gc.c, f, site.fills[i], site.fn.Args[i], gc.w.Len)
		col := all.Gather(gc.order)
		cols[i] = &col
	}
	return cols, gc.c.err
}

// computeColumn computes an expression (f, and fill when it has one) for
// rows [0, n) of c's block into a new column of type t.
func computeColumn(c *ectx, f evalFn, fill fillFn, t types.Type, n int) types.Column {
	col := types.MakeColumn(t, n)
	if fill != nil {
		fill(c, n, &col)
		return col
	}
	for c.row = 0; c.row < n; c.row++ {
		col.Set(c.row, f(c))
	}
	return col
}

// inverse maps each own row (< nOwn) to its position in order, so a result
// column in positions is put back in row order by Gather(inverse).
func inverse(order []int, nOwn int) []int {
	inv := make([]int, nOwn)
	for k, i := range order {
		if i < nOwn {
			inv[i] = k
		}
	}
	return inv
}

func gatherInts(v []int64, order []int) []int64 {
	out := make([]int64, len(order))
	for k, i := range order {
		out[k] = v[i]
	}
	return out
}

// nestedEval computes an aggregate whose arguments contain aggregates of
// the same window: for each output row, the arguments are evaluated over
// that row's frame with the inner aggregates fixed to that row's values,
// then aggregated afresh. It costs O(frame) per row.
type nestedEval struct {
	site *aggSite
	c    *ectx
	cols []types.Column // argument values, filled for the rows of a frame
	acc  agg.Acc
}

func newNestedEval(site *aggSite, w *types.Block, c *ectx) *nestedEval {
	ne := &nestedEval{site: site, c: c, cols: make([]types.Column, len(site.args))}
	ptrs := make([]*types.Column, len(site.args))
	for i := range site.args {
		ne.cols[i] = types.MakeColumn(site.fn.Args[i], w.Len)
		ptrs[i] = &ne.cols[i]
	}
	ne.acc = site.fn.Bind(ptrs)
	return ne
}

// result aggregates rows (in window order) and, when cur >= 0, the current
// row cur, for output row out.
func (ne *nestedEval) result(q rowSeq, lo, hi, cur, out int) types.Value {
	ne.c.aggRow = out
	fill := func(row int) {
		ne.c.row = row
		for i, f := range ne.site.args {
			ne.cols[i].Set(row, f(ne.c))
		}
	}
	ne.acc.Reset()
	for i := lo; i < hi; i++ {
		fill(q.at(i))
		ne.acc.Add(q.at(i))
	}
	if cur < 0 {
		return ne.acc.Result()
	}
	fill(cur)
	return ne.acc.ResultWith(cur)
}

// navTargets binds the window's navigation functions to their value
// columns over w and to fresh output columns of n rows.
func navTargets(n *node, we *windowEval, w *types.Block, c *ectx, rows int) ([]navTarget, error) {
	navs := make([]navTarget, len(we.navs))
	for i, slot := range we.navs {
		site := n.aggs[slot]
		cols, err := argColumns(site, w, c)
		if err != nil {
			return nil, err
		}
		navs[i] = navTarget{col: cols[0], off: site.nav, ignoreNulls: site.ignoreNulls,
			out: types.MakeColumn(site.fn.Result, rows)}
	}
	return navs, nil
}

// orderValues returns the window order value of every row of w; a NULL
// orders first. Without ORDER BY the value is the row's position.
func orderValues(g *windowGroup, w *types.Block, c *ectx) []int64 {
	if g.orderCol >= 0 && !w.Cols[g.orderCol].HasNulls() {
		return w.Cols[g.orderCol].I
	}
	ts := make([]int64, w.Len)
	if g.order == nil {
		for i := range ts {
			ts[i] = int64(i)
		}
		return ts
	}
	for c.row = 0; c.row < w.Len; c.row++ {
		v := g.order(c)
		if v.Null {
			ts[c.row] = math.MinInt64
		} else {
			ts[c.row] = v.I
		}
	}
	return ts
}

// partitionOrder orders the rows of w partition by partition: order lists
// the rows, partition p at order[segs[p]:segs[p+1]], each sorted in window
// order.
func partitionOrder(g *windowGroup, w *types.Block, c *ectx, ts []int64, starts []int) (order, segs []int) {
	pid, nparts := partitionIDs(g, w, c)
	segs = make([]int, nparts+1)
	for _, p := range pid {
		segs[p+1]++
	}
	for p := 1; p <= nparts; p++ {
		segs[p] += segs[p-1]
	}
	next := append([]int(nil), segs[:nparts]...)
	order = make([]int, w.Len)
	for i, p := range pid {
		order[next[p]] = i
		next[p]++
	}
	for p := 0; p < nparts; p++ {
		sortPartition(order[segs[p]:segs[p+1]], ts, starts)
	}
	return order, segs
}

// partitionIDs numbers the partitions of w's rows in order of first
// appearance. A single bare integer or string key takes a fast path;
// other keys are encoded.
func partitionIDs(g *windowGroup, w *types.Block, c *ectx) ([]int32, int) {
	return keyIDs(g.spec.PartitionBy, g.partition, w, c)
}

// keyIDs numbers the distinct values of the key expressions keys
// (compiled: fns) over the rows of w in order of first appearance.
func keyIDs(keys []*plan.Expr, fns []evalFn, w *types.Block, c *ectx) ([]int32, int) {
	pid := make([]int32, w.Len)
	if len(keys) == 1 && keys[0].Op == plan.Col {
		col := &w.Cols[keys[0].Col]
		switch {
		case col.Type.Kind() == types.KindString:
			return pid, denseIDs(pid, col, col.S)
		case plan.KeyClass(col.Type) != 0 && !col.Type.IsFloat():
			return pid, denseIDs(pid, col, col.I)
		}
	}
	ids := map[string]int32{}
	var buf []byte
	for c.row = 0; c.row < w.Len; c.row++ {
		buf = keyOf(buf, c, fns)
		id, ok := ids[string(buf)]
		if !ok {
			id = int32(len(ids))
			ids[string(buf)] = id
		}
		pid[c.row] = id
	}
	return pid, len(ids)
}

// denseIDs numbers the distinct values of one key column; NULL is one more
// key of its own.
func denseIDs[K comparable](pid []int32, col *types.Column, vals []K) int {
	ids := make(map[K]int32)
	nullID := int32(-1)
	n := int32(0)
	for i, v := range vals {
		if col.IsNull(i) {
			if nullID < 0 {
				nullID, n = n, n+1
			}
			pid[i] = nullID
			continue
		}
		id, ok := ids[v]
		if !ok {
			id, n = n, n+1
			ids[v] = id
		}
		pid[i] = id
	}
	return int(n)
}

// sortPartition orders a partition's rows as OpenMLDB's window does: by
// order value; at equal values the union sources come first, the last
// listed oldest, then the table's own rows; within a source, by arrival.
// starts[k] is the first row of union source k+1 in the concatenated block
// (starts[0] is the number of own rows).
func sortPartition(p []int, ts []int64, starts []int) {
	u := len(starts)
	tie := func(i int) int { // own rows: u; union k (1-based): u-k
		k := 0
		for k < u && i >= starts[k] {
			k++
		}
		if k == 0 {
			return u
		}
		return u - k
	}
	less := func(a, b int) int {
		if ts[a] != ts[b] {
			if ts[a] < ts[b] {
				return -1
			}
			return 1
		}
		return tie(a) - tie(b)
	}
	if !slices.IsSortedFunc(p, less) {
		slices.SortStableFunc(p, less)
	}
}

// argColumns returns the argument columns of an aggregate over w: bare
// columns as they are, other expressions evaluated per row.
func argColumns(site *aggSite, w *types.Block, c *ectx) ([]*types.Column, error) {
	cols := make([]*types.Column, len(site.args))
	for i, f := range site.args {
		if j := site.argCol[i]; j >= 0 {
			cols[i] = &w.Cols[j]
			continue
		}
		col := computeColumn(c, f, site.fills[i], site.fn.Args[i], w.Len)
		cols[i] = &col
	}
	return cols, c.err
}

// lastJoin joins every left row with its last matching right row.
func (r *batchRun) lastJoin(n *node) (*types.Block, error) {
	left, err := r.eval(n.input)
	if err != nil {
		return nil, err
	}
	right, err := r.eval(n.right)
	if err != nil {
		return nil, err
	}
	match, err := joinMatches(n, left, right)
	if err != nil {
		return nil, err
	}
	out := &types.Block{Schema: n.p.Schema, Len: left.Len}
	out.Cols = append(append([]types.Column{}, left.Cols...), right.Gather(match).Cols...)
	return out, nil
}

// joinMatches returns, per left row, the index of the right row it joins
// (-1 for none).
func joinMatches(n *node, left, right *types.Block) ([]int, error) {
	if lk, rk := n.p.LeftKeys, n.p.RightKeys; len(lk) == 1 && lk[0].Op == plan.Col && rk[0].Op == plan.Col {
		lcol, rcol := &left.Cols[lk[0].Col], &right.Cols[rk[0].Col]
		if class := plan.KeyClass(lcol.Type); class == plan.KeyClass(rcol.Type) {
			switch {
			case class == 's':
				return joinByColumn(n, left, right, lcol, rcol, lcol.S, rcol.S)
			case class != 0 && class != 'f':
				return joinByColumn(n, left, right, lcol, rcol, lcol.I, rcol.I)
			}
		}
	}
	rc := newCtx()
	rc.blk = right
	var order []types.Value
	if n.orderBy != nil {
		order = make([]types.Value, right.Len)
	}
	cands := map[string][]int{}
	var buf []byte
	for rc.row = 0; rc.row < right.Len; rc.row++ {
		buf = keyOf(buf, rc, n.rightKeys)
		cands[string(buf)] = append(cands[string(buf)], rc.row)
		if order != nil {
			order[rc.row] = n.orderBy(rc)
		}
	}
	lc := newCtx()
	lc.blk, lc.right = left, right
	match := make([]int, left.Len)
	for lc.row = 0; lc.row < left.Len; lc.row++ {
		buf = keyOf(buf, lc, n.leftKeys)
		match[lc.row] = pickLast(n, lc, cands[string(buf)], order)
	}
	if rc.err != nil {
		return nil, rc.err
	}
	return match, lc.err
}

// joinByColumn is joinMatches for a single key that is a bare column of
// each side, of one key class stored as lv and rv: the right rows are
// numbered by key (NULL is a key of its own, as AppendKey has it) and
// listed per key in arrival order.
func joinByColumn[K comparable](n *node, left, right *types.Block, lcol, rcol *types.Column, lv, rv []K) ([]int, error) {
	ids := make(map[K]int32)
	nullID := int32(-1)
	rid := make([]int32, right.Len)
	var counts []int32
	for j := range rid {
		var id int32
		if rcol.IsNull(j) {
			if nullID < 0 {
				nullID = int32(len(counts))
				counts = append(counts, 0)
			}
			id = nullID
		} else {
			var ok bool
			if id, ok = ids[rv[j]]; !ok {
				id = int32(len(counts))
				ids[rv[j]] = id
				counts = append(counts, 0)
			}
		}
		rid[j] = id
		counts[id]++
	}
	// starts[id] is the first of key id's rows in rows, which lists the
	// right rows key by key, each in arrival order.
	starts := make([]int, len(counts)+1)
	for id, k := range counts {
		starts[id+1] = starts[id] + int(k)
	}
	rows := make([]int, right.Len)
	next := append([]int(nil), starts[:len(counts)]...)
	for j, id := range rid {
		rows[next[id]] = j
		next[id]++
	}
	var order []types.Value
	rc := newCtx()
	rc.blk = right
	if n.orderBy != nil {
		order = make([]types.Value, right.Len)
		for rc.row = 0; rc.row < right.Len; rc.row++ {
			order[rc.row] = n.orderBy(rc)
		}
	}
	lc := newCtx()
	lc.blk, lc.right = left, right
	match := make([]int, left.Len)
	for lc.row = 0; lc.row < left.Len; lc.row++ {
		id := int32(-1)
		if lcol.IsNull(lc.row) {
			id = nullID
		} else if k, ok := ids[lv[lc.row]]; ok {
			id = k
		}
		if id < 0 {
			match[lc.row] = -1
			continue
		}
		match[lc.row] = pickLast(n, lc, rows[starts[id]:starts[id+1]], order)
	}
	if rc.err != nil {
		return nil, rc.err
	}
	return match, lc.err
}

// pickLast chooses among candidate right rows (in arrival order) those
// passing the residual condition, the one with the largest order value,
// ties going to the latest arrival; -1 when none passes.
func pickLast(n *node, c *ectx, cands []int, order []types.Value) int {
	best := -1
	for _, j := range cands {
		if n.cond != nil {
			c.rrow = j
			if !n.cond(c).IsTrue() {
				continue
			}
		}
		if best < 0 || order == nil || orderCmp(order[j], order[best], n.p.OrderDesc) >= 0 {
			best = j
		}
	}
	return best
}

// orderCmp compares LAST JOIN order values (integers or timestamps),
// reversed for ORDER BY ... DESC. A NULL counts as math.MinInt64, as in a
// window's order and in a Source.
func orderCmp(a, b types.Value, desc bool) int {
	c := cmpInt(nullMin(a), nullMin(b))
	if desc {
		return -c
	}
	return c
}

func nullMin(v types.Value) int64 {
	if v.Null {
		return math.MinInt64
	}
	return v.I
}
