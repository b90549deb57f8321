package eval

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/fenestra-dev/fenestra/featurelang/agg"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// Request mode over tiles. A window the plan serves from tiles is, for a
// request at order value t, the stored rows with order values in
// [lower, t] (its RANGE frame ending at CURRENT ROW, without the rows at t
// under EXCLUDE CURRENT_TIME) and the request row. The buckets that lie
// whole inside [lower, t) — starts from A = the first multiple of the
// width at or after lower, up to B = the start of the bucket holding t —
// can come from tiles; the rest, and every bucket without a current tile,
// is read raw. The window's aggregates are then the partials of the raw
// rows and the tiles, folded in window order: raw rows before a tile, the
// tile, the rows after it. agg.Partial.Merge folds a tile in as if its
// rows were added there, so the result equals the raw computation bit for
// bit. The bucket holding t is always read raw, so the rows EXCLUDE
// CURRENT_TIME drops (those at t) are never inside a tile.

// tileServe is how request mode serves a window from tiles: its
// TiledWindow, the aggregate slots served from tiles (slots) with the
// position of each one's partial in the tiles (pos), and rest: the
// window's other aggregates and navigation functions, computed from raw
// rows as a window of their own, or nil.
type tileServe struct {
	tw    *TiledWindow
	slots []int
	pos   []int
	rest  *windowEval
}

// attachTiles marks the windows request mode can serve from tiles: a
// window with a RANGE frame ending at CURRENT ROW, without MAXSIZE or
// INSTANCE_NOT_IN_WINDOW, in a group without union sources, whose tiles
// the evaluator can build (TiledWindows). Its tiled aggregates (as the
// plan decided, plan.Expr.Tile) come from tiles; the others, and its
// lag and at, read raw rows, as without tiles.
func (e *Evaluator) attachTiles() {
	walkNodes(e.root, func(n *node) {
		if n.p.Op != plan.Project {
			return
		}
		for _, g := range n.groups {
			if len(g.unions) > 0 || g.order == nil {
				continue
			}
			for _, we := range g.windows {
				w := n.p.Windows[we.index]
				f := &we.frame
				if w.Tiles == nil || w.Tiles.BucketMs <= 0 || f.rows || f.end != 0 || f.instNot || f.maxSize > 0 {
					continue
				}
				tw, err := e.tiledWindow(n, we.index)
				if err != nil || tw == nil {
					continue
				}
				ts := &tileServe{tw: tw}
				rest := &windowEval{index: we.index, frame: we.frame, navs: we.navs, nested: we.nested}
				for _, slot := range we.slots {
					if i := slices.Index(tw.sites, n.aggs[slot]); i >= 0 {
						ts.slots, ts.pos = append(ts.slots, slot), append(ts.pos, i)
					} else {
						rest.slots = append(rest.slots, slot)
					}
				}
				if len(ts.slots) == 0 {
					continue
				}
				if len(rest.slots) > 0 || len(rest.nested) > 0 || len(rest.navs) > 0 {
					if len(rest.slots) == 0 && len(rest.nested) == 0 {
						// Navigation reads the newest rows whatever the
						// frame: fetch from t, navHistory reads back.
						rest.frame.start, rest.frame.unbounded = 0, false
					}
					ts.rest = rest
				}
				we.tiles = ts
				g.tiled = true
			}
		}
	})
}

// tiledSpan is one tile-served window of a request: its frame's lower
// bound and its levels, the ranges of bucket starts that tiles may serve.
type tiledSpan struct {
	we     *windowEval
	lower  int64
	levels []*tileLevel
}

// tileLevel is a range [a, b) of bucket starts of one width inside a
// frame, the query of its tiles and what the Source returned.
type tileLevel struct {
	width  int64
	a, b   int64
	fine   bool // of the window's finer level
	q      TileQuery
	tiles  []StoredTile
	err    error
	missed []int64 // starts of buckets in [a, b) whose rows were read raw
	// raw counts, for a finer level, the rows read raw in [a, b) by
	// bucket of the coarse width (at most two).
	raw []coarseCount
}

type coarseCount struct {
	start int64
	n     int
}

// report returns the missed buckets to report: for a finer level, only
// those in coarse buckets where FineMinRows rows or more were read raw,
// the only ones a builder builds (FineBuckets); reporting others would
// make rebuilds that build nothing.
func (lv *tileLevel) report(coarse int64) []int64 {
	if !lv.fine {
		return lv.missed
	}
	var out []int64
	for _, s := range lv.missed {
		c, _ := bucketStart(s, coarse)
		for _, cc := range lv.raw {
			if cc.start == c && cc.n >= FineMinRows {
				out = append(out, s)
			}
		}
	}
	return out
}

// tiledWindows computes the windows of group g for the request row cur
// (key, order value t) with the tile-served ones from the tiles of src.
// The tiles are read concurrently with the raw rows the tiles cannot
// cover whatever they hold: each tiled frame's edges (before its first
// whole bucket, from the bucket holding t on), plus, when the group's
// other windows only need a time range, theirs. A bucket inside a frame
// without a tile is read in a second round. Other windows needing more
// (lag, ROWS frames) are computed from their own fetch, as without tiles.
func (r *requestRun) tiledWindows(n *node, g *windowGroup, src TileSource, cur *types.Block, aggCols []types.Column, key []types.Value, t int64) error {
	base, _, ok := rowChain(n.input)
	if !ok {
		return r.rawWindows(n, g, g.windows, cur, aggCols, key, t)
	}
	var spans []*tiledSpan
	var others []*windowEval
	for _, we := range g.windows {
		if we.tiles == nil {
			others = append(others, we)
			continue
		}
		if we.tiles.rest != nil {
			others = append(others, we.tiles.rest)
		}
		spans = append(spans, r.tileSpan(n.input, base.p.Table, g, we, key, t))
	}
	// Read the tiles in the background while the edges are read.
	var levels []*tileLevel
	for _, sp := range spans {
		levels = append(levels, sp.levels...)
	}
	var wg sync.WaitGroup
	if ms, ok := src.(MultiTileSource); ok && len(levels) > 1 {
		wg.Go(func() { readTilesMany(r.ctx, ms, levels) })
	} else {
		for _, lv := range levels {
			wg.Go(func() { lv.tiles, lv.err = src.Tiles(r.ctx, lv.q) })
		}
	}
	var edges []interval
	for _, sp := range spans {
		edges = append(edges, sp.edges(t)...)
	}
	shared := false
	if len(others) > 0 {
		from, limit := fetchRange(others, t)
		if limit == 0 && g.maxNav == 0 && !g.navNulls {
			shared = true
			edges = append(edges, interval{from, t})
		} else if err := r.rawWindows(n, g, others, cur, aggCols, key, t); err != nil {
			wg.Wait()
			return err
		}
	}
	edges = mergeIntervals(edges)
	blocks, err := r.readIntervals(n.input, g, key, edges)
	wg.Wait()
	if err != nil {
		return err
	}
	var gaps []interval
	for _, sp := range spans {
		for _, lv := range sp.levels {
			if err := lv.checkTiles(); err != nil {
				return err
			}
			gaps = append(gaps, lv.gaps()...)
		}
	}
	if gaps = subtractIntervals(mergeIntervals(gaps), edges); len(gaps) > 0 {
		more, err := r.readIntervals(n.input, g, key, gaps)
		if err != nil {
			return err
		}
		blocks = append(blocks, more...)
	}
	w := joinIntervals(n.input, blocks)
	w.AppendFrom(cur, 0)
	c := newCtx()
	c.blk = w
	ts := orderValues(g, w, c)
	q := rowSeq{n: w.Len - 1}
	curRow := w.Len - 1
	rep, _ := src.(TileRepairer)
	for _, sp := range spans {
		if err := sp.compute(n, w, c, ts, q, t, curRow, aggCols); err != nil {
			return err
		}
		for _, lv := range sp.levels {
			if m := lv.report(sp.we.tiles.tw.Width); rep != nil && len(m) > 0 {
				rep.MissingTiles(lv.q, m)
			}
		}
	}
	if shared {
		for _, we := range others {
			if err := r.windowAggs(n, we, w, c, ts, q, w.Len-1, t, curRow, aggCols); err != nil {
				return err
			}
		}
	}
	return c.err
}

// readTilesMany reads the tiles of levels in one TilesMany call.
func readTilesMany(ctx context.Context, ms MultiTileSource, levels []*tileLevel) {
	qs := make([]TileQuery, len(levels))
	for i, lv := range levels {
		qs[i] = lv.q
	}
	res, err := ms.TilesMany(ctx, qs)
	if err == nil && len(res) != len(qs) {
		err = fmt.Errorf("the source returned %d tile lists for %d queries", len(res), len(qs))
	}
	for i, lv := range levels {
		if err != nil {
			lv.err = err
			continue
		}
		lv.tiles = res[i]
	}
}

// tileSpan returns the tiled span of window we for the request at t: the
// whole buckets inside the frame, and, when the window has a finer level,
// the whole fine buckets inside the partial buckets at its edges (or
// inside the frame, when it holds no whole bucket). None when the
// window's columns do not trace to the table's.
func (r *requestRun) tileSpan(in *node, table string, g *windowGroup, we *windowEval, key []types.Value, t int64) *tiledSpan {
	tw := we.tiles.tw
	lower, _ := we.frame.rangeLimits(t)
	sp := &tiledSpan{we: we, lower: lower}
	if lower > t {
		return sp
	}
	q := TileQuery{Table: table, Values: key, Version: r.version, Window: tw.Name}
	for _, p := range g.spec.PartitionBy {
		name, ok := traceCol(in, p)
		if !ok {
			return sp
		}
		q.Keys = append(q.Keys, name)
	}
	name, ok := traceCol(in, g.spec.OrderBy)
	if !ok {
		return sp
	}
	q.TS = name
	level := func(width, a, b int64, fine bool) {
		if a < b {
			lq := q
			lq.Width, lq.From, lq.To = width, a, b
			sp.levels = append(sp.levels, &tileLevel{width: width, a: a, b: b, fine: fine, q: lq})
		}
	}
	b, okB := bucketStart(t, tw.Width)
	a, okA := bucketCeil(lower, tw.Width)
	whole := okA && okB && a < b
	if whole {
		level(tw.Width, a, b, false)
	}
	if f := tw.Fine; f != nil {
		fa, okA := bucketCeil(lower, f.Width)
		fb, okB := bucketStart(t, f.Width)
		switch {
		case !okA || !okB:
		case whole:
			level(f.Width, fa, a, true)
			level(f.Width, b, fb, true)
		default:
			level(f.Width, fa, fb, true)
		}
	}
	return sp
}

// checkTiles checks what the Source returned: tiles of [a, b), aligned,
// oldest first. Anything else is the Source's error, not a reason to
// answer wrongly.
func (lv *tileLevel) checkTiles() error {
	if lv.err != nil {
		return fmt.Errorf("reading the tiles of window %s: %w", lv.q.Window, lv.err)
	}
	for i, tile := range lv.tiles {
		if tile.Start < lv.a || tile.Start >= lv.b || tile.Start%lv.width != 0 || (i > 0 && tile.Start <= lv.tiles[i-1].Start) {
			return fmt.Errorf("reading the tiles of window %s: the source returned a tile at %d, outside the buckets [%d, %d) of width %d or out of order",
				lv.q.Window, tile.Start, lv.a, lv.b, lv.width)
		}
	}
	return nil
}

// edges returns the parts of the window's frame [lower, t] that no level
// covers, whatever tiles it holds.
func (sp *tiledSpan) edges(t int64) []interval {
	if sp.lower > t {
		return nil
	}
	var covered []interval
	for _, lv := range sp.levels {
		covered = append(covered, interval{lv.a, lv.b - 1})
	}
	return subtractIntervals([]interval{{sp.lower, t}}, mergeIntervals(covered))
}

// gaps returns the buckets of [a, b) the tiles do not cover.
func (lv *tileLevel) gaps() []interval {
	var out []interval
	from := lv.a
	for _, tile := range lv.tiles {
		if tile.Start > from {
			out = append(out, interval{from, tile.Start - 1})
		}
		from = tile.Start + lv.width
	}
	if from < lv.b {
		out = append(out, interval{from, lv.b - 1})
	}
	return out
}

// compute sets the window's aggregates: the raw rows of its frame in w
// that no tile covers, and the tiles of every level, folded in window
// order, then the request row when the frame includes it.
func (sp *tiledSpan) compute(n *node, w *types.Block, c *ectx, ts []int64, q rowSeq, t int64, curRow int, aggCols []types.Column) error {
	we := sp.we
	tw := we.tiles.tw
	lo, hi, _ := we.frame.requestBounds(q, ts, t)
	serve := we.tiles
	parts := make([]agg.Partial, len(serve.slots))
	cols := make([][]*types.Column, len(serve.slots))
	for i, slot := range serve.slots {
		parts[i] = tw.Funcs[serve.pos[i]].NewPartial()
		var err error
		if cols[i], err = argColumns(n.aggs[slot], w, c); err != nil {
			return err
		}
	}
	var args []types.Value
	add := func(row int) {
		for i := range parts {
			args = args[:0]
			for _, col := range cols[i] {
				args = append(args, col.Value(row))
			}
			parts[i].Add(args)
		}
	}
	// The tiles of all levels, oldest first: their buckets never overlap.
	type levelTile struct {
		StoredTile
		width int64
	}
	var tiles []levelTile
	for _, lv := range sp.levels {
		for _, tile := range lv.tiles {
			tiles = append(tiles, levelTile{tile, lv.width})
		}
	}
	slices.SortFunc(tiles, func(a, b levelTile) int { return cmp.Compare(a.Start, b.Start) })
	next := 0 // the next tile to fold in
	fold := func() error {
		tile := tiles[next]
		next++
		if len(tile.Partials) != len(tw.Funcs) {
			return fmt.Errorf("%w: a tile of window %s at %d has %d partials, the window tiles %d aggregates", ErrInput, tw.Name, tile.Start, len(tile.Partials), len(tw.Funcs))
		}
		for i, pos := range serve.pos {
			if err := agg.MergeBinary(parts[i], tw.Funcs[pos], tile.Partials[pos]); err != nil {
				return fmt.Errorf("a tile of window %s at %d, %s: %w", tw.Name, tile.Start, tw.Funcs[pos].Name, err)
			}
		}
		return nil
	}
	for i := lo; i < hi; i++ {
		row := q.at(i)
		v := ts[row]
		for next < len(tiles) && tiles[next].Start+tiles[next].width <= v {
			if err := fold(); err != nil {
				return err
			}
		}
		if next < len(tiles) && tiles[next].Start <= v {
			continue // in the tile's bucket: read for another window of the group
		}
		add(row)
		for _, lv := range sp.levels {
			if v >= lv.a && v < lv.b {
				if s, _ := bucketStart(v, lv.width); len(lv.missed) == 0 || lv.missed[len(lv.missed)-1] != s {
					lv.missed = append(lv.missed, s)
				}
				if lv.fine {
					c, _ := bucketStart(v, tw.Width)
					if k := len(lv.raw) - 1; k >= 0 && lv.raw[k].start == c {
						lv.raw[k].n++
					} else {
						lv.raw = append(lv.raw, coarseCount{c, 1})
					}
				}
				break
			}
		}
	}
	for next < len(tiles) {
		if err := fold(); err != nil {
			return err
		}
	}
	if we.frame.includeCur {
		add(curRow)
	}
	for i, slot := range serve.slots {
		aggCols[slot].Set(0, parts[i].Result())
	}
	return nil
}

// interval is an inclusive range of order values.
type interval struct{ from, to int64 }

// mergeIntervals returns the union of ivs as sorted, disjoint,
// non-adjacent intervals.
func mergeIntervals(ivs []interval) []interval {
	slices.SortFunc(ivs, func(a, b interval) int {
		switch {
		case a.from < b.from:
			return -1
		case a.from > b.from:
			return 1
		}
		return 0
	})
	var out []interval
	for _, iv := range ivs {
		if iv.from > iv.to {
			continue
		}
		if k := len(out) - 1; k >= 0 && (iv.from <= out[k].to || out[k].to != math.MaxInt64 && iv.from == out[k].to+1) {
			out[k].to = max(out[k].to, iv.to)
			continue
		}
		out = append(out, iv)
	}
	return out
}

// readIntervals reads the stored rows of the window's input in the key
// over each interval, one block per interval, in window order: in one
// call when the Source is a MultiSource.
func (r *requestRun) readIntervals(m *node, g *windowGroup, key []types.Value, ivs []interval) ([]ivBlock, error) {
	var blocks []ivBlock
	if qs, steps, ok := r.intervalQueries(m, g, key, ivs); ok && len(qs) > 1 {
		if ms, ok := r.src.(MultiSource); ok {
			bs, err := ms.ScanMany(r.ctx, qs)
			if err != nil {
				return nil, fmt.Errorf("reading %s: %w", qs[0].Table, err)
			}
			if len(bs) != len(qs) {
				return nil, fmt.Errorf("reading %s from the source: %d blocks for %d queries", qs[0].Table, len(bs), len(qs))
			}
			for i, b := range bs {
				if err := r.checkScanned(qs[i], b); err != nil {
					return nil, err
				}
				if b, err = r.finishFetch(qs[i], steps, false, b); err != nil {
					return nil, err
				}
				blocks = append(blocks, ivBlock{ivs[i], b})
			}
			return blocks, nil
		}
	}
	for _, iv := range ivs {
		b, err := r.history(m, true, g, key, iv.to, iv.from, 0, nil)
		if err != nil {
			return nil, err
		}
		blocks = append(blocks, ivBlock{iv, b})
	}
	return blocks, nil
}

// ivBlock is the rows of one interval.
type ivBlock struct {
	iv  interval
	blk *types.Block
}

// joinIntervals returns the rows of disjoint intervals as one block in
// window order: their rows, oldest interval first.
func joinIntervals(m *node, blocks []ivBlock) *types.Block {
	slices.SortFunc(blocks, func(a, b ivBlock) int { return cmp.Compare(a.iv.from, b.iv.from) })
	switch len(blocks) {
	case 0:
		return types.NewBlock(m.p.Schema, 1)
	case 1:
		return blocks[0].blk
	}
	rest := make([]*types.Block, len(blocks)-1)
	for i, b := range blocks[1:] {
		rest[i] = b.blk
	}
	return types.Concat(blocks[0].blk, rest...)
}

// subtractIntervals returns the parts of a not in b; both are sorted and
// disjoint.
func subtractIntervals(a, b []interval) []interval {
	var out []interval
	for _, iv := range a {
		from, done := iv.from, false
		for _, x := range b {
			if x.to < from || x.from > iv.to {
				continue
			}
			if x.from > from {
				out = append(out, interval{from, x.from - 1})
			}
			if x.to >= iv.to {
				done = true
				break
			}
			from = x.to + 1
		}
		if !done {
			out = append(out, interval{from, iv.to})
		}
	}
	return out
}

// intervalQueries returns the pushed-down queries of the intervals, as
// history builds them, when every one is pushed down.
func (r *requestRun) intervalQueries(m *node, g *windowGroup, key []types.Value, ivs []interval) ([]Query, []*node, bool) {
	base, steps, ok := rowChain(m)
	if !ok || base.p.Table == "" {
		return nil, nil, false
	}
	q := Query{Table: base.p.Table}
	for i, p := range g.spec.PartitionBy {
		name, ok := traceCol(m, p)
		if !ok {
			return nil, nil, false
		}
		q.Keys, q.Values = append(q.Keys, name), append(q.Values, key[i])
	}
	name, ok := traceCol(m, g.spec.OrderBy)
	if !ok {
		return nil, nil, false
	}
	q.TS = name
	qs := make([]Query, len(ivs))
	for i, iv := range ivs {
		qs[i] = q
		qs[i].From, qs[i].To = iv.from, iv.to
	}
	return qs, steps, true
}

// bucketCeil returns the smallest multiple of width at or above v; ok is
// false when it is above math.MaxInt64.
func bucketCeil(v, width int64) (int64, bool) {
	q := v / width
	if v%width > 0 {
		q++
	}
	if q > math.MaxInt64/width {
		return 0, false
	}
	return q * width, true
}

// tiled reports whether any window of p has tiles.
func tiled(p *plan.Plan) bool {
	var walk func(n *plan.Node) bool
	walk = func(n *plan.Node) bool {
		if n == nil {
			return false
		}
		for _, w := range n.Windows {
			if w.Tiles != nil {
				return true
			}
		}
		return walk(n.Input) || walk(n.Right)
	}
	return walk(p.Root)
}

// ServedTiledWindows returns the windows request mode serves from tiles
// (some of their aggregates at least), in plan order, each followed by
// its finer level when it has one: what a host keeps tiles of.
func (e *Evaluator) ServedTiledWindows() []*TiledWindow {
	var tws []*TiledWindow
	walkNodes(e.root, func(n *node) {
		for _, g := range n.groups {
			for _, we := range g.windows {
				if we.tiles != nil {
					tws = append(tws, we.tiles.tw)
					if we.tiles.tw.Fine != nil {
						tws = append(tws, we.tiles.tw.Fine)
					}
				}
			}
		}
	})
	return tws
}
