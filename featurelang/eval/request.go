package eval

import (
	"context"
	"fmt"
	"math"

	"github.com/fenestra-dev/fenestra/featurelang/agg"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// requestRun evaluates a plan for one request row. The request flows up the
// left-most path of the plan as a one-row block; windows and joins fetch
// the stored rows they need from the Source.
//
// Fetches are pushed down to the Source when the window's partition and
// order (or the join's keys) are plain columns of a stored table reached
// through row-by-row operators; then the Source returns exactly the rows
// needed, already ordered. Otherwise the evaluator falls back to reading the
// whole tables involved and filtering: always correct, only slower.
type requestRun struct {
	ctx context.Context
	// version is the plan's version, which names its tiles.
	version string
	src     Source
	req     []types.Value
	plan    *plan.Plan
	// full caches whole-table reads of the fallback path.
	full map[string]*types.Block
	// taken is the pooled scratch this request uses, by node.
	taken []taken
	// joins caches the right-side candidates of each LAST JOIN by key:
	// the history rows of a window share keys, and a join is not
	// point-in-time, so each distinct key is fetched once per request.
	joins map[joinKey]*joinCands
}

type joinKey struct {
	n   *node
	key string
}

// row evaluates n for the request: a block of one row, or none when a
// filter drops it.
func (r *requestRun) row(n *node) (*types.Block, error) {
	if err := r.ctx.Err(); err != nil {
		return nil, err
	}
	switch n.p.Op {
	case plan.Scan:
		if n.p.Table != r.plan.RequestTable {
			return nil, fmt.Errorf("eval: request path reads table %q, not the request table %q", n.p.Table, r.plan.RequestTable)
		}
		b := r.scratch(n).block(n.p.Schema)
		b.AppendRow(r.req)
		return b, nil
	case plan.ConstRow:
		return projectRows(n, &types.Block{Len: 1}, nil)
	case plan.Filter, plan.Limit:
		in, err := r.row(n.input)
		if err != nil || in.Len == 0 {
			return in, err
		}
		return r.step(n, in)
	case plan.LastJoin:
		in, err := r.row(n.input)
		if err != nil || in.Len == 0 {
			return in, err
		}
		if ownJoin(n, r.plan.RequestTable) {
			return r.joinOwn(n, in)
		}
		return r.join(n, in)
	case plan.Project:
		in, err := r.row(n.input)
		if err != nil || in.Len == 0 {
			return in, err
		}
		s := r.scratch(n)
		for _, g := range n.groups {
			if err := r.windows(n, g, in, s.results); err != nil {
				return nil, err
			}
		}
		return projectInto(n, in, s.results, s.block(nil))
	}
	return nil, fmt.Errorf("eval: unknown node %q", n.p.Op)
}

// step applies a row-by-row operator (Filter, Limit, LastJoin, Project
// without windows) to a block of its input rows.
func (r *requestRun) step(n *node, in *types.Block) (*types.Block, error) {
	switch n.p.Op {
	case plan.Filter:
		return filterRows(n, in)
	case plan.Limit:
		if int64(in.Len) > n.p.N {
			return in.Gather(seq(0, int(n.p.N))), nil
		}
		return in, nil
	case plan.LastJoin:
		return r.join(n, in)
	case plan.Project:
		return projectRows(n, in, nil)
	}
	return nil, fmt.Errorf("eval: %q is not a row-by-row operator", n.p.Op)
}

// join joins each row of left with its last matching stored right row.
// The rows of a window's history mostly share a few join keys (a card's
// transactions all join its profile), so the work is per distinct key:
// its candidates are read once per request (prefetched in one call when
// the Source reads many), and the candidates matching the key, with their
// order values, are found once; each left row then only checks the join
// condition against them.
func (r *requestRun) join(n *node, left *types.Block) (*types.Block, error) {
	return r.joinFrom(n, left, 0)
}

// joinFrom is join for the rows of left from row first on; the rows
// before it get NULL right columns (joinprune.go: nothing reads them).
func (r *requestRun) joinFrom(n *node, left *types.Block, first int) (*types.Block, error) {
	c := newCtx()
	c.blk = left
	var (
		buf      []byte
		distinct = map[string]int{} // encoded key -> index into picks
		picks    []*joinCands
		rowPick  = make([]int32, left.Len)
		// the keys not read yet, their cache keys and entries
		missing [][]types.Value
		missJK  []joinKey
		missJC  []*joinCands
	)
	for c.row = first; c.row < left.Len; c.row++ {
		buf = buf[:0]
		for _, k := range n.leftKeys {
			buf = AppendKey(buf, k(c))
		}
		p, ok := distinct[string(buf)]
		if !ok {
			p = len(picks)
			jk := joinKey{n: n, key: string(buf)}
			distinct[jk.key] = p
			jc := r.joins[jk]
			if jc == nil {
				keys := make([]types.Value, len(n.leftKeys))
				for i, k := range n.leftKeys {
					keys[i] = k(c)
				}
				jc = &joinCands{keys: keys}
				missing, missJK, missJC = append(missing, keys), append(missJK, jk), append(missJC, jc)
			}
			picks = append(picks, jc)
		}
		rowPick[c.row] = int32(p)
	}
	if c.err != nil {
		return nil, c.err
	}
	if err := r.readCandidates(n, missing, missJK, missJC); err != nil {
		return nil, err
	}
	// The right row of each left row (-1: none), and the candidates block
	// they all come from, when one does: the right columns are then one
	// typed gather from it, else copied row by row.
	lc := newCtx()
	lc.blk = left
	idx := make([]int, left.Len)
	var src *types.Block
	oneSource := true
	for i := range first {
		idx[i] = -1
	}
	for i := first; i < left.Len; i++ {
		jc := picks[rowPick[i]]
		jc.match(n)
		lc.row, lc.right = i, jc.b
		idx[i] = pickLast(n, lc, jc.ids, jc.order)
		switch {
		case idx[i] < 0:
		case src == nil:
			src = jc.b
		case src != jc.b:
			oneSource = false
		}
	}
	var out *types.Block
	if oneSource {
		if src == nil {
			src = types.NewBlock(n.p.Right.Schema, 0)
		}
		out = src.Gather(idx)
	} else {
		out = types.NewBlock(n.p.Right.Schema, left.Len)
		nulls := nullRow(n.p.Right.Schema)
		for i, j := range idx {
			if j < 0 {
				out.AppendRow(nulls)
			} else {
				out.AppendFrom(picks[rowPick[i]].b, j)
			}
		}
	}
	joined := &types.Block{Schema: n.p.Schema, Len: left.Len}
	joined.Cols = append(append([]types.Column{}, left.Cols...), out.Cols...)
	return joined, lc.err
}

// joinOwn joins the request's row with the request's own row of the
// join's right side (see ownJoin), computed as the left side is.
func (r *requestRun) joinOwn(n *node, left *types.Block) (*types.Block, error) {
	right, err := r.row(n.right)
	if err != nil {
		return nil, err
	}
	if right.Len != 1 {
		return nil, fmt.Errorf("eval: the right side of a LAST JOIN gave %d rows for the request", right.Len)
	}
	joined := &types.Block{Schema: n.p.Schema, Len: 1}
	joined.Cols = append(append([]types.Column{}, left.Cols...), right.Cols...)
	return joined, nil
}

// ownJoin reports whether LAST JOIN n, on the request's path, takes the
// request's own row of its right side whatever the stored rows are: the
// right side reads the request table row for row (Projects, with windows
// or not, and LAST JOINs down to a Scan of it, so each request-table row
// gives one right row, in arrival order), the join has no ORDER BY and
// no condition besides its keys, and each key compares a column of the
// request row with the same column of the right side's row. Over the
// stored rows with the request appended last, the request's right row
// then matches (keys compare NULL-safely) and is the latest matching
// arrival. This is OpenMLDB's request join of subqueries over the
// request table, such as its JD demo's LAST JOINs of windowed subqueries
// on reqId: request mode computes the right side for the request, as the
// left side, instead of over the whole tables.
func ownJoin(n *node, requestTable string) bool {
	if n.p.Op != plan.LastJoin || n.p.OrderBy != nil || n.p.Cond != nil || len(n.p.LeftKeys) == 0 {
		return false
	}
	m := n.right
	for m != nil && (m.p.Op == plan.Project || m.p.Op == plan.LastJoin) {
		m = m.input
	}
	if m == nil || m.p.Op != plan.Scan || m.p.Table != requestTable {
		return false
	}
	for i, k := range n.p.LeftKeys {
		l, lok := requestCol(n.input, k)
		r, rok := requestCol(n.right, n.p.RightKeys[i])
		if !lok || !rok || l != r {
			return false
		}
	}
	return true
}

// requestCol follows a bare column expression over m's schema down m's
// inputs to the Scan at the bottom, returning the column's position in
// the Scan.
func requestCol(m *node, e *plan.Expr) (int, bool) {
	if e == nil || e.Op != plan.Col {
		return 0, false
	}
	col := e.Col
	for n := m; n != nil; n = n.input {
		switch n.p.Op {
		case plan.Scan:
			return col, true
		case plan.Project:
			if col = n.pass[col]; col < 0 {
				return 0, false
			}
		case plan.LastJoin:
			if col >= len(n.p.Input.Schema) {
				return 0, false
			}
		case plan.Filter, plan.Limit:
		default:
			return 0, false
		}
	}
	return 0, false
}

func nullRow(s types.Schema) []types.Value {
	row := make([]types.Value, len(s))
	for i, f := range s {
		row[i] = types.NullOf(f.Type)
	}
	return row
}

// joinCands are the right rows one join key may match, kept for the rest
// of the request: the candidates read (a superset of the matches), and,
// once match has run, the ones whose keys equal the key with their ORDER
// BY values (indexed by candidate row; nil without ORDER BY).
type joinCands struct {
	keys    []types.Value
	b       *types.Block
	matched bool
	ids     []int
	order   []types.Value
}

// match finds the candidates whose keys equal jc's, once.
func (jc *joinCands) match(n *node) {
	if jc.matched {
		return
	}
	jc.matched = true
	var want, buf []byte
	for _, k := range jc.keys {
		want = AppendKey(want, k)
	}
	rc := newCtx()
	rc.blk = jc.b
	if n.orderBy != nil {
		jc.order = make([]types.Value, jc.b.Len)
	}
	for rc.row = 0; rc.row < jc.b.Len; rc.row++ {
		if buf = keyOf(buf, rc, n.rightKeys); string(buf) != string(want) {
			continue
		}
		jc.ids = append(jc.ids, rc.row)
		if jc.order != nil {
			jc.order[rc.row] = n.orderBy(rc)
		}
	}
}

// readCandidates reads the candidates of the keys not cached yet (keys[i]
// for jcs[i], cached under jks[i]).
func (r *requestRun) readCandidates(n *node, keys [][]types.Value, jks []joinKey, jcs []*joinCands) error {
	if len(keys) == 0 {
		return nil
	}
	blocks, err := r.prefetch(n, keys)
	if err != nil {
		return err
	}
	for i, jc := range jcs {
		if blocks != nil {
			jc.b = blocks[i]
		} else if jc.b, err = r.candidates(n, keys[i]); err != nil {
			return err
		}
		r.remember(jks[i], jc)
	}
	return nil
}

func (r *requestRun) remember(jk joinKey, jc *joinCands) {
	if r.joins == nil {
		r.joins = map[joinKey]*joinCands{}
	}
	r.joins[jk] = jc
}

// prefetch reads the candidates of keys in one ScanMany call when the
// Source reads many and the join's right side is a pushed-down fetch;
// else it returns nil, and candidates reads them key by key.
func (r *requestRun) prefetch(n *node, keys [][]types.Value) ([]*types.Block, error) {
	ms, ok := r.src.(MultiSource)
	if !ok || len(keys) < 2 {
		return nil, nil
	}
	qs := make([]Query, len(keys))
	var steps []*node
	for i, k := range keys {
		q, st, ok := r.candidateQuery(n, k)
		if !ok {
			return nil, nil
		}
		qs[i], steps = q, st
	}
	blocks, err := ms.ScanMany(r.ctx, qs)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", qs[0].Table, err)
	}
	if len(blocks) != len(qs) {
		return nil, fmt.Errorf("reading %s from the source: %d blocks for %d queries", qs[0].Table, len(blocks), len(qs))
	}
	for i, b := range blocks {
		if err := r.checkScanned(qs[i], b); err != nil {
			return nil, err
		}
		if blocks[i], err = r.finishFetch(qs[i], steps, true, b); err != nil {
			return nil, err
		}
	}
	return blocks, nil
}

// candidates returns rows of the join's right side whose keys may equal
// keys (a superset is fine: pickJoin checks), in arrival order. A right
// side reading the request table sees the request row as its latest
// arrival, as batch mode over the stored rows plus the request would.
func (r *requestRun) candidates(n *node, keys []types.Value) (*types.Block, error) {
	q, steps, ok := r.candidateQuery(n, keys)
	if !ok {
		return r.batchAll(n.right, true)
	}
	return r.fetch(q, steps, true)
}

// candidateQuery returns the query that fetches the candidates of keys,
// and the row-by-row steps to apply to what it reads; ok is false when the
// right side is not a fetch.
func (r *requestRun) candidateQuery(n *node, keys []types.Value) (q Query, steps []*node, ok bool) {
	base, steps, ok := rowChain(n.right)
	if !ok {
		return Query{}, nil, false
	}
	q = Query{Table: base.p.Table}
	for i, k := range n.p.RightKeys {
		name, ok := traceCol(n.right, k)
		if !ok {
			q.Keys, q.Values = nil, nil
			break
		}
		q.Keys, q.Values = append(q.Keys, name), append(q.Values, keys[i])
	}
	// When the join takes the row of the largest stored order value with
	// no other condition, that is the key's newest row by that column: the
	// Source reads just it. (Not when a filter could drop it, nor when the
	// right side reads the request table, whose request row is also a
	// candidate.)
	if ts, ok := traceCol(n.right, n.p.OrderBy); ok && len(q.Keys) > 0 && n.p.Cond == nil &&
		!n.p.OrderDesc && !hasFilter(steps) && base.p.Table != r.plan.RequestTable {
		q.TS, q.From, q.To, q.Limit = ts, math.MinInt64, math.MaxInt64, 1
	}
	return q, steps, true
}

// windows computes one window group's aggregates for the request row cur
// (a one-row block of the Project's input).
func (r *requestRun) windows(n *node, g *windowGroup, cur *types.Block, aggCols []types.Column) error {
	c := newCtx()
	c.blk = cur
	key := make([]types.Value, len(g.partition))
	for i, p := range g.partition {
		key[i] = p(c)
	}
	t := int64(math.MaxInt64) // without ORDER BY every stored row is earlier
	if g.order != nil {
		t = math.MinInt64
		if tv := g.order(c); !tv.Null {
			t = tv.I
		}
	}
	if c.err != nil {
		return c.err
	}
	if ts, ok := r.src.(TileSource); ok && g.tiled && t != math.MinInt64 {
		return r.tiledWindows(n, g, ts, cur, aggCols, key, t)
	}
	return r.rawWindows(n, g, g.windows, cur, aggCols, key, t)
}

// rawWindows computes windows (of group g) from the stored rows of the
// key, read raw.
func (r *requestRun) rawWindows(n *node, g *windowGroup, windows []*windowEval, cur *types.Block, aggCols []types.Column, key []types.Value, t int64) error {
	from, limit := fetchRange(windows, t)
	w, err := r.navHistory(n.input, true, g, key, t, from, limit, joinsFrom(g, t))
	if err != nil {
		return err
	}
	nOwn := w.Len
	var unions []*types.Block
	for _, u := range g.unions {
		h, err := r.navHistory(u, false, g, key, t, from, limit, nil)
		if err != nil {
			return err
		}
		unions = append(unions, h)
	}
	starts := []int{nOwn}
	if len(unions) == 0 {
		w.AppendFrom(cur, 0) // the block is ours: Sources return fresh blocks
	} else {
		for _, u := range unions {
			starts = append(starts, starts[len(starts)-1]+u.Len)
		}
		w = types.Concat(w, append(unions, cur)...)
	}
	c := newCtx()
	c.blk = w
	ts := orderValues(g, w, c)
	if g.order == nil {
		t = int64(w.Len - 1)
	}
	seqs := windowSeq(w.Len-1, starts, ts)
	for _, we := range windows {
		if err := r.windowAggs(n, we, w, c, ts, seqs, nOwn, t, w.Len-1, aggCols); err != nil {
			return err
		}
	}
	return c.err
}

// windowAggs computes window we's aggregates and navigation functions over
// the window rows w (the stored rows, then the request row at curRow), in
// window order seqs, nOwn of them the own input's.
func (r *requestRun) windowAggs(n *node, we *windowEval, w *types.Block, c *ectx, ts []int64, seqs rowSeq, nOwn int, t int64, curRow int, aggCols []types.Column) error {
	q := seqs
	if we.frame.instNot {
		q = rowSeq{s: unionOnly(seqs, nOwn)}
		q.n = len(q.s)
	}
	lo, hi, cEnd := we.frame.requestBounds(q, ts, t)
	navs, err := navTargets(n, we, w, c, 1)
	if err != nil {
		return err
	}
	for i, slot := range we.navs {
		navs[i].out.Set(0, navs[i].value(q, cEnd, curRow))
		aggCols[slot] = navs[i].out
	}
	for _, slot := range we.slots {
		acc, err := r.acc(n, slot, w, c)
		if err != nil {
			return err
		}
		addRows(acc, q, lo, hi)
		res := acc.Result()
		if we.frame.includeCur {
			res = acc.ResultWith(curRow)
		}
		aggCols[slot].Set(0, res)
	}
	c.aggs = aggCols
	for _, slot := range we.nested {
		cur := -1
		if we.frame.includeCur {
			cur = curRow
		}
		col := types.MakeColumn(n.aggs[slot].fn.Result, 1)
		col.Set(0, newNestedEval(n.aggs[slot], w, c).result(q, lo, hi, cur, 0))
		aggCols[slot] = col
	}
	return nil
}

// reqScratch is what one node's request-mode evaluation can reuse from one
// request to the next, pooled per node: accumulators that can be rebound,
// one-row result columns, and an output block. It is taken by one request
// at a time and returned when the request ends.
type reqScratch struct {
	accs    []agg.Acc      // per aggregate slot: a rebindable accumulator, or nil
	results []types.Column // per aggregate slot: the one-row result
	out     *types.Block
}

func newReqScratch(n *node) *reqScratch {
	s := &reqScratch{accs: make([]agg.Acc, len(n.aggs)), results: make([]types.Column, len(n.aggs))}
	for slot, site := range n.aggs {
		s.results[slot] = types.MakeColumn(site.fn.Result, 1)
	}
	return s
}

// block returns the scratch's output block, emptied: with the columns of
// schema, or, for a nil schema, with no columns (projectInto fills them).
func (s *reqScratch) block(schema types.Schema) *types.Block {
	switch {
	case s.out == nil && schema != nil:
		s.out = types.NewBlock(schema, 1)
	case s.out == nil:
		s.out = &types.Block{}
	case schema == nil:
		s.out.Cols = s.out.Cols[:0] // headers of the last request's columns: drop them
	}
	s.out.Reset()
	return s.out
}

// scratch returns n's scratch for this request, taking it from n's pool
// the first time.
func (r *requestRun) scratch(n *node) *reqScratch {
	for _, t := range r.taken {
		if t.n == n {
			return t.s
		}
	}
	s := n.scratch.Get().(*reqScratch)
	r.taken = append(r.taken, taken{n: n, s: s})
	return s
}

type taken struct {
	n *node
	s *reqScratch
}

// release returns the scratch the request took; its results must have been
// copied out.
func (r *requestRun) release() {
	for _, t := range r.taken {
		t.n.scratch.Put(t.s)
	}
}

// acc returns slot's accumulator over the window rows w, empty: the
// scratch's, rebound, when the aggregate supports it, else a new one.
func (r *requestRun) acc(n *node, slot int, w *types.Block, c *ectx) (agg.Acc, error) {
	cols, err := argColumns(n.aggs[slot], w, c)
	if err != nil {
		return nil, err
	}
	s := r.scratch(n)
	if acc := s.accs[slot]; acc != nil {
		acc.(agg.Rebinder).Rebind(cols)
		return acc, nil
	}
	acc := n.aggs[slot].fn.Bind(cols)
	if _, ok := acc.(agg.Rebinder); ok {
		s.accs[slot] = acc
	}
	return acc, nil
}

// windowSeq orders the n stored rows of a request window (the table's own
// rows first, then each union source from starts[k]) as the window does.
// Each source's rows already are in window order (history returns them
// so), so without unions they are S as they stand.
func windowSeq(n int, starts []int, ts []int64) rowSeq {
	if starts[0] == n {
		return rowSeq{n: n}
	}
	s := seq(0, n)
	sortPartition(s, ts, starts)
	return rowSeq{s: s, n: n}
}

// addRows adds S[lo:hi] to acc, as one range when S is the identity.
func addRows(acc agg.Acc, q rowSeq, lo, hi int) {
	if q.s == nil {
		acc.AddRange(q.base+lo, q.base+hi)
		return
	}
	for _, i := range q.s[lo:hi] {
		acc.Add(i)
	}
}

func unionOnly(q rowSeq, nOwn int) []int {
	out := make([]int, 0, q.len())
	for i := 0; i < q.len(); i++ {
		if j := q.at(i); j >= nOwn {
			out = append(out, j)
		}
	}
	return out
}

// navHistory is history plus what the group's navigation functions need:
// lag(x, k) reads k rows back whatever the frame, so when the frame's
// fetch holds fewer than k rows before the request, the newest k rows (plus
// any at the request's own time, for EXCLUDE CURRENT_TIME) are fetched.
func (r *requestRun) navHistory(m *node, own bool, g *windowGroup, key []types.Value, t, from int64, limit int, jp *joinPrune) (*types.Block, error) {
	h, err := r.history(m, own, g, key, t, from, limit, jp)
	if err != nil || (g.maxNav == 0 && !g.navNulls) || (from == math.MinInt64 && limit == 0) {
		return h, err
	}
	c := newCtx()
	c.blk = h
	eq := 0
	for _, v := range orderValues(g, h, c) {
		if v == t {
			eq++
		}
	}
	if h.Len-eq >= g.maxNav && !g.navNulls {
		return h, nil
	}
	if g.navNulls {
		return r.history(m, own, g, key, t, math.MinInt64, 0, jp)
	}
	return r.history(m, own, g, key, t, math.MinInt64, g.maxNav+eq, jp)
}

// fetchRange returns the lowest order value any of windows can reach back
// to from t, and how many newest rows suffice (0: every row in range).
func fetchRange(windows []*windowEval, t int64) (from int64, limit int) {
	from = math.MaxInt64
	limited := true
	for _, we := range windows {
		f := &we.frame
		if f.rows || f.unbounded {
			from = math.MinInt64
		} else {
			lower, _ := f.rangeLimits(t)
			from = min(from, lower)
		}
		if n := f.maxPrecedingRows(); n > 0 {
			limit = max(limit, int(n))
		} else {
			limited = false
		}
	}
	if !limited {
		limit = 0
	}
	// A frame starting after t (0 OPEN PRECEDING) reaches no row, but the
	// rows at t are still fetched: navHistory counts them.
	return min(from, t), limit
}

// history returns the stored rows of m (a node with the window's input
// schema) in the partition key, with order values in [from, t], sorted by
// order value then arrival: by the Source when the fetch is pushed down
// (its contract), else by filterHistory. own says m is the window's own input (the
// request's path) rather than a union source. jp, when not nil, prunes
// the joins of a fetch pushed down (joinprune.go).
func (r *requestRun) history(m *node, own bool, g *windowGroup, key []types.Value, t, from int64, limit int, jp *joinPrune) (*types.Block, error) {
	q, steps, withReq, pushed, ok := r.historyQuery(m, own, g, key, t, from, limit)
	if !ok {
		// As in batch mode, m runs over the stored rows and the request:
		// the stored rows' own windows and joins may see the request. When
		// m is the window's own input, its last row is the request's, which
		// is not history.
		all, err := r.batchAll(m, true)
		if err != nil {
			return nil, err
		}
		if own && all.Len > 0 {
			all = all.Gather(seq(0, all.Len-1))
		}
		return filterHistory(g, all, key, t, from), nil
	}
	if !pushed {
		jp = nil
	}
	rows, err := r.fetchPruned(q, steps, withReq, jp)
	if err != nil || pushed {
		return rows, err
	}
	return filterHistory(g, rows, key, t, from), nil
}

// historyQuery returns the query that fetches the history of key over m
// (see history), with the row-by-row steps to apply to what it reads;
// withReq says the request row joins what it reads, pushed that the
// Source's answer is the history as it is. ok is false when m is not a
// fetch: the history is then computed over the whole tables.
func (r *requestRun) historyQuery(m *node, own bool, g *windowGroup, key []types.Value, t, from int64, limit int) (q Query, steps []*node, withReq, pushed, ok bool) {
	base, steps, ok := rowChain(m)
	if !ok {
		return Query{}, nil, false, false, false
	}
	q = Query{Table: base.p.Table}
	// A union source reading the request table sees the request as its
	// latest row, as in batch mode; the Source cannot filter that row.
	withReq = !own && base.p.Table == r.plan.RequestTable
	pushed = !withReq
	for i, p := range g.spec.PartitionBy {
		name, ok := traceCol(m, p)
		if !ok {
			q.Keys, q.Values, pushed = nil, nil, false
			break
		}
		q.Keys, q.Values = append(q.Keys, name), append(q.Values, key[i])
	}
	if name, ok := traceCol(m, g.spec.OrderBy); ok {
		q.TS, q.From, q.To = name, from, t
		if pushed && !hasFilter(steps) {
			q.Limit = limit
		}
	} else {
		pushed = false
	}
	return q, steps, withReq, pushed, true
}

func hasFilter(steps []*node) bool {
	for _, s := range steps {
		if s.p.Op == plan.Filter {
			return true
		}
	}
	return false
}

// scan reads from the Source and checks that the rows have the table's
// column types, so a misbehaving Source gives an error, not a panic.
func (r *requestRun) scan(q Query) (*types.Block, error) {
	b, err := r.src.Scan(r.ctx, q)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", q.Table, err)
	}
	if err := r.checkScanned(q, b); err != nil {
		return nil, err
	}
	return b, nil
}

// checkScanned reports a block the Source returned for q that does not
// fit q's table.
func (r *requestRun) checkScanned(q Query, b *types.Block) error {
	if b == nil {
		return fmt.Errorf("reading %s from the source: no block", q.Table)
	}
	t := r.plan.Table(q.Table)
	if t == nil {
		return fmt.Errorf("eval: the plan does not describe table %q", q.Table)
	}
	if err := checkSchema(t, b.Schema); err != nil {
		return fmt.Errorf("reading %s from the source: %w", q.Table, err)
	}
	if len(b.Cols) != len(b.Schema) || b.Len < 0 {
		return fmt.Errorf("reading %s from the source: a malformed block", q.Table)
	}
	for i := range b.Cols {
		if b.Cols[i].Len() != b.Len || b.Cols[i].Nulls != nil && len(b.Cols[i].Nulls) != b.Len {
			return fmt.Errorf("reading %s from the source: column %s has %d values for %d rows", q.Table, b.Schema[i].Name, b.Cols[i].Len(), b.Len)
		}
	}
	return nil
}

// fetch scans the Source and applies the row-by-row steps, innermost
// first. withReq appends the request row to a scan of the request table
// (it matches any key: pickJoin and filterHistory check).
func (r *requestRun) fetch(q Query, steps []*node, withReq bool) (*types.Block, error) {
	return r.fetchPruned(q, steps, withReq, nil)
}

// fetchPruned is fetch, its joins pruned by jp when not nil.
func (r *requestRun) fetchPruned(q Query, steps []*node, withReq bool, jp *joinPrune) (*types.Block, error) {
	b, err := r.scan(q)
	if err != nil {
		return nil, err
	}
	return r.finishFetchPruned(q, steps, withReq, b, jp)
}

// finishFetch is fetch after the scan: b is what the Source read for q.
func (r *requestRun) finishFetch(q Query, steps []*node, withReq bool, b *types.Block) (*types.Block, error) {
	return r.finishFetchPruned(q, steps, withReq, b, nil)
}

// finishFetchPruned is finishFetch, its joins pruned by jp when not nil:
// b is then sorted by jp's order column.
func (r *requestRun) finishFetchPruned(q Query, steps []*node, withReq bool, b *types.Block, jp *joinPrune) (_ *types.Block, err error) {
	if withReq && q.Table == r.plan.RequestTable {
		b.AppendRow(r.req)
	}
	for i := len(steps) - 1; i >= 0; i-- {
		if from, ok := jp.joinFrom(steps[i]); ok {
			b, err = r.joinFrom(steps[i], b, firstFrom(b, jp.orderCol, from))
		} else {
			b, err = r.step(steps[i], b)
		}
		if err != nil {
			return nil, err
		}
	}
	return b, nil
}

// filterHistory keeps the rows of all in the partition key with order
// values in [from, t], sorted by order value, stable.
func filterHistory(g *windowGroup, all *types.Block, key []types.Value, t, from int64) *types.Block {
	c := newCtx()
	c.blk = all
	var want, buf []byte
	for _, k := range key {
		want = AppendKey(want, k)
	}
	ts := orderValues(g, all, c)
	var keep []int
	for c.row = 0; c.row < all.Len; c.row++ {
		if ts[c.row] < from || ts[c.row] > t {
			continue
		}
		if string(keyOf(buf, c, g.partition)) == string(want) {
			keep = append(keep, c.row)
		}
	}
	sortPartition(keep, ts, []int{all.Len})
	return all.Gather(keep)
}

// batchAll evaluates m in batch mode over the whole stored tables it reads
// (the fallback when a fetch cannot be pushed down); withReq adds the
// request row to the request table as its latest arrival.
func (r *requestRun) batchAll(m *node, withReq bool) (*types.Block, error) {
	if r.full == nil {
		r.full = map[string]*types.Block{}
	}
	tables := map[string]*types.Block{}
	for _, name := range tablesOf(m) {
		b, ok := r.full[name]
		if !ok {
			var err error
			if b, err = r.scan(Query{Table: name}); err != nil {
				return nil, err
			}
			r.full[name] = b
		}
		if withReq && name == r.plan.RequestTable {
			b = types.Concat(b, types.BlockOf(b.Schema, [][]types.Value{r.req}))
		}
		tables[name] = b
	}
	return (&batchRun{ctx: r.ctx, tables: tables}).eval(m)
}

// tablesOf lists the tables a subtree scans.
func tablesOf(n *node) []string {
	var out []string
	var visit func(n *node)
	visit = func(n *node) {
		if n == nil {
			return
		}
		if n.p.Op == plan.Scan {
			out = append(out, n.p.Table)
		}
		visit(n.input)
		visit(n.right)
		for _, g := range n.groups {
			for _, u := range g.unions {
				visit(u)
			}
		}
	}
	visit(n)
	return out
}

// rowChain walks m down its inputs to a Scan through row-by-row operators
// (Filter, LastJoin, Project without windows), returning the Scan and the
// operators from the top down; ok is false when m is not such a chain.
func rowChain(m *node) (base *node, steps []*node, ok bool) {
	for n := m; n != nil; n = n.input {
		switch {
		case n.p.Op == plan.Scan:
			return n, steps, true
		case n.p.Op == plan.Filter, n.p.Op == plan.LastJoin,
			n.p.Op == plan.Project && len(n.aggs) == 0:
			steps = append(steps, n)
		default:
			return nil, nil, false
		}
	}
	return nil, nil, false
}

// traceCol follows a bare column expression over m's schema down to the
// stored column it copies, returning that column's name.
func traceCol(m *node, e *plan.Expr) (string, bool) { return followCol(m, e, false) }

// followCol follows a bare column expression over m's schema down its
// inputs, through Filters, LAST JOINs' left sides and Projects (with
// windows too when windows is set), to the stored column it copies,
// returning that column's name.
func followCol(m *node, e *plan.Expr, windows bool) (string, bool) {
	if e == nil || e.Op != plan.Col {
		return "", false
	}
	col := e.Col
	for n := m; n != nil; n = n.input {
		switch n.p.Op {
		case plan.Scan:
			return n.p.Schema[col].Name, true
		case plan.Project:
			if col = n.pass[col]; col < 0 || len(n.aggs) > 0 && !windows {
				return "", false
			}
		case plan.LastJoin:
			if col >= len(n.p.Input.Schema) {
				return "", false
			}
		case plan.Filter:
		default:
			return "", false
		}
	}
	return "", false
}
