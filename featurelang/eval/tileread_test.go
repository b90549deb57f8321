package eval_test

import (
	"context"
	"flag"
	"fmt"
	"hash/fnv"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/eval/tiletest"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

var tileIters = flag.Int("tiles.iters", 0, "cases TestRequestOverTiles generates (0: 400, or 100 with -short)")

// withholding serves MemTiles' tiles but withholds a fifth of them,
// chosen by a hash of the seed and the tile, as a store withholds a stale
// or missing tile, and records which, so the test can check that request
// mode reports exactly those as missing (TileRepairer). Safe for
// concurrent use, as a Source must be: request mode reads the tiles of
// several windows at once.
type withholding struct {
	*eval.MemTiles
	seed              uint64
	mu                sync.Mutex
	withheld, missing map[string][]int64 // by window and key, in one request
	served            int
	fine              map[string]bool // the finer levels, by window and width
	fineKey           map[string]bool // tileKeys of finer levels, in one request
	servedFine        int
}

func tileKey(q eval.TileQuery) string {
	var b []byte
	for _, v := range q.Values {
		b = eval.AppendKey(b, v)
	}
	return fmt.Sprint(q.Window, "\x00", q.Width, "\x00", string(b))
}

func (w *withholding) Tiles(ctx context.Context, q eval.TileQuery) ([]eval.StoredTile, error) {
	all, err := w.MemTiles.Tiles(ctx, q)
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []eval.StoredTile
	for _, tile := range all {
		h := fnv.New64a()
		fmt.Fprintf(h, "%d %s %d", w.seed, tileKey(q), tile.Start)
		if h.Sum64()%5 == 0 {
			w.withheld[tileKey(q)] = append(w.withheld[tileKey(q)], tile.Start)
			continue
		}
		out = append(out, tile)
	}
	w.served += len(out)
	if w.fine[fmt.Sprint(q.Window, q.Width)] {
		w.servedFine += len(out)
		w.fineKey[tileKey(q)] = true
	}
	return out, err
}

func (w *withholding) MissingTiles(q eval.TileQuery, starts []int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.missing[tileKey(q)] = append(w.missing[tileKey(q)], starts...)
}

// reset starts a request.
func (w *withholding) reset() {
	w.withheld, w.missing, w.fineKey = map[string][]int64{}, map[string][]int64{}, map[string]bool{}
}

// mismatch reports a difference between what was withheld and what the
// request reported missing.
// A finer level is reported only where enough rows were read raw (see
// eval.FineMinRows): its reports must be withheld tiles, not all of them.
func (w *withholding) mismatch() string {
	for k, want := range w.withheld {
		got := w.missing[k]
		if w.fineKey[k] {
			for _, s := range got {
				if !slices.Contains(want, s) {
					return fmt.Sprintf("window/key %q (finer level): withheld tiles %v, reported missing %v", k, want, got)
				}
			}
			continue
		}
		if !slices.Equal(got, want) {
			return fmt.Sprintf("window/key %q: withheld tiles %v, reported missing %v", k, want, got)
		}
	}
	for k, got := range w.missing {
		if _, ok := w.withheld[k]; !ok {
			return fmt.Sprintf("window/key %q: reported missing %v, none withheld", k, got)
		}
	}
	return ""
}

// withholdingMany adds ScanMany, answering each query with Scan.
type withholdingMany struct {
	*withholding
	calls int
}

func (m *withholdingMany) ScanMany(ctx context.Context, qs []eval.Query) ([]*types.Block, error) {
	m.calls++
	return (&multiSource{Source: m.withholding}).ScanMany(ctx, qs)
}

// withholdingTilesMany adds TilesMany, answering each query with Tiles.
type withholdingTilesMany struct {
	*withholding
	calls atomic.Int64
}

func (m *withholdingTilesMany) TilesMany(ctx context.Context, qs []eval.TileQuery) ([][]eval.StoredTile, error) {
	m.calls.Add(1)
	out := make([][]eval.StoredTile, len(qs))
	for i, q := range qs {
		ts, err := m.Tiles(ctx, q)
		if err != nil {
			return nil, err
		}
		out[i] = ts
	}
	return out, nil
}

// rawOnly hides a source's tiles.
type rawOnly struct{ eval.Source }

// TestRequestOverTiles is the differential test of the tile reader: on
// random views with long windows (tiled and raw aggregates, RANGE frames
// of minutes to weeks, UNBOUNDED and OPEN starts, EXCLUDE CURRENT_TIME,
// windows tiles cannot serve next to ones they can, WHERE clauses, LAST
// JOINs) and random rows (ties, NULLs, -0, late arrivals), every request
// answered with tiles (a random fifth of them withheld) equals, bit for
// bit, the same request over raw rows; the buckets it reports missing are
// exactly the withheld ones.
func TestRequestOverTiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	n := *tileIters
	if n == 0 {
		n = 400
		if testing.Short() {
			n = 100
		}
	}
	var served, servedFine, requests, joins, joinServed, manyCalls, tilesManyCalls, missing int
	for i := range n {
		seed := uint64(i + 1)
		o := tiletest.Options{}
		if seed%8 == 0 { // busy keys: the finer levels get tiles
			o = tiletest.Options{Rows: 4000, Busy: true}
		}
		c, err := tiletest.New(seed, o)
		if err != nil {
			t.Fatal(err)
		}
		ev := mustEval(t, c.View)
		mem := eval.NewMemSource()
		mem.Create("t", c.Table.Schema)
		if err := mem.Insert("t", c.Rows...); err != nil {
			t.Fatal(err)
		}
		if c.Profiles != nil {
			joins++
			mem.Create("p", c.Profiles.Schema)
			if err := mem.Insert("p", c.ProfileRows...); err != nil {
				t.Fatal(err)
			}
		}
		tiles, err := mem.Tiled(ctx, ev)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		src := &withholding{MemTiles: tiles, seed: seed, fine: map[string]bool{}}
		for _, tw := range ev.ServedTiledWindows() {
			if tw.Coarse > 0 {
				src.fine[fmt.Sprint(tw.Name, tw.Width)] = true
			}
		}
		many := &withholdingMany{withholding: src}
		tmany := &withholdingTilesMany{withholding: src}
		for ri, req := range c.Requests {
			want, err := ev.Request(ctx, req, rawOnly{mem})
			if err != nil {
				t.Fatalf("seed %d request %d raw: %v\n%s", seed, ri, err, c.SQL)
			}
			var over eval.Source = src
			switch seed % 3 {
			case 0:
				over = many
			case 1:
				over = tmany
			}
			src.reset()
			before := src.served
			got, err := ev.Request(ctx, req, over)
			if err != nil {
				t.Fatalf("seed %d request %d over tiles: %v\n%s", seed, ri, err, c.SQL)
			}
			requests++
			if !identicalRows(got, want) {
				t.Fatalf("seed %d request %d (%s): over tiles %s, raw %s\n%s", seed, ri, fmtRow(req), fmtRow(got), fmtRow(want), c.SQL)
			}
			if got != nil {
				if msg := src.mismatch(); msg != "" {
					t.Fatalf("seed %d request %d (%s): %s\n%s", seed, ri, fmtRow(req), msg, c.SQL)
				}
			}
			for _, m := range src.missing {
				missing += len(m)
			}
			if c.Profiles != nil {
				joinServed += src.served - before
			}
		}
		served += src.served
		servedFine += src.servedFine
		manyCalls += many.calls
		tilesManyCalls += int(tmany.calls.Load())
	}
	// The test means something only if tiles served a good share.
	if served < requests || joinServed == 0 || servedFine == 0 || manyCalls == 0 || tilesManyCalls == 0 || missing == 0 {
		t.Fatalf("%d tiles served over %d requests (%d with a LAST JOIN, %d of finer levels), %d ScanMany calls, %d reported missing: the test hardly used tiles",
			served, requests, joinServed, servedFine, manyCalls, missing)
	}
	t.Logf("%d cases (%d with a LAST JOIN), %d requests, %d tiles merged (%d with a LAST JOIN, %d of finer levels), %d withheld and reported missing, %d ScanMany and %d TilesMany calls",
		n, joins, requests, served, joinServed, servedFine, missing, manyCalls, tilesManyCalls)
}
