package bigtable_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/emulators"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/eval/tiletest"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
	"github.com/fenestra-dev/fenestra/storage/bigtable"
)

var storedTileIters = flag.Int("tilediff.iters", 0,
	"cases TestRequestOverStoredTiles runs per store (0: 120 on Mem and 40 on Bigtable, a third of that under -race, a quarter with -short)")

// raceEnabled is set (race_test.go) under the race detector, which slows
// the sequential differential test down without finding more in it.
var raceEnabled = false

// tiledStore is what the tests need of a store: rows, tiles, and the
// evaluator's view of both. storage.Mem and bigtable.Store are ones.
type tiledStore interface {
	storage.Store
	storage.TileStore
	eval.TileSource
}

// newTiledStore returns an empty store whose TTLs run on clock. Each call
// of the Bigtable one gets tables of their own (a fresh prefix) on one
// emulator.
type newTiledStore func(t *testing.T, clock storage.Clock) tiledStore

func memStores(t *testing.T, clock storage.Clock) tiledStore { return storage.NewMem(clock) }

// bigtableStores starts an emulator for the test and returns stores on it,
// with NoGC, so the emulator's wall-clock GC never deletes rows the
// stores' clocks (inside the data) consider live.
func bigtableStores(t *testing.T) newTiledStore {
	t.Helper()
	addr, stop, err := emulators.StartBigtable("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	var n atomic.Int64
	return func(t *testing.T, clock storage.Clock) tiledStore {
		t.Helper()
		s, err := bigtable.Open(context.Background(), bigtable.Config{Project: "p", Instance: "i", EmulatorHost: addr,
			Prefix: fmt.Sprintf("s%d_", n.Add(1)), Clock: clock, NoGC: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}

// rawOnly hides a source's tiles: request mode reads every row raw.
type rawOnly struct{ eval.Source }

// counting passes a store's tiles to request mode and counts them, and
// the buckets request mode reports it read raw inside a tiled frame
// (eval.TileRepairer). It is safe for concurrent use (request mode reads
// the tiles of several windows at once).
type counting struct {
	eval.TileSource
	tiles, missing atomic.Int64
}

func (c *counting) Tiles(ctx context.Context, q eval.TileQuery) ([]eval.StoredTile, error) {
	ts, err := c.TileSource.Tiles(ctx, q)
	c.tiles.Add(int64(len(ts)))
	return ts, err
}

func (c *counting) MissingTiles(q eval.TileQuery, starts []int64) { c.missing.Add(int64(len(starts))) }

// countingMany is counting over a store that reads several ranges in one
// call (eval.MultiSource), which request mode then uses for the raw
// intervals of tiled windows.
type countingMany struct {
	*counting
	many eval.MultiSource
}

func (c *countingMany) ScanMany(ctx context.Context, qs []eval.Query) ([]*types.Block, error) {
	return c.many.ScanMany(ctx, qs)
}

// overTiles returns the source request mode reads s through, counting
// tiles, with ScanMany when s has it.
func overTiles(s eval.TileSource) (eval.TileRepairer, *counting) {
	c := &counting{TileSource: s}
	if m, ok := s.(eval.MultiSource); ok {
		return &countingMany{counting: c, many: m}, c
	}
	return c, c
}

// clock is a storage.Clock set by the test, safe for concurrent use.
type clock struct{ ms atomic.Int64 }

func (c *clock) now() time.Time { return time.UnixMilli(c.ms.Load()) }

// TestRequestOverStoredTiles is the differential test of tiles over real
// stores, storage.Mem and the Bigtable store on the emulator: on random
// views with long windows (tiletest), rows written in a few batches,
// tiles built by the real builder (storage.TiledIndex.Rebuild over
// ReadBuckets and WriteTiles, for every served tiled window an index can
// hold and every key), every request answered over the store's tiles
// equals, bit for bit, the same request over the store with its tiles
// hidden. Then rows are written late (into buckets that have tiles) and
// after the data, without rebuilding: the stale tiles must be ignored and
// the answers stay equal; then the tiles are rebuilt and the clock moves
// on, and they must be equal again. A third of the cases give t's index
// an absolute TTL, the clock inside the data, so expired rows and tiles
// are left out alike. The test fails if tiles were hardly merged, if no
// stale tile was skipped, or, in a case without TTL whose tiled windows
// all have an index, if a freshly rebuilt store leaves a bucket of a
// tiled frame with rows to be read raw.
func TestRequestOverStoredTiles(t *testing.T) {
	t.Parallel()
	n := *storedTileIters
	for _, st := range []struct {
		name string
		n    int
		new  func(t *testing.T) newTiledStore
	}{
		{"mem", 120, func(*testing.T) newTiledStore { return memStores }},
		{"bigtable", 40, bigtableStores},
	} {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			iters := n
			if iters == 0 {
				switch iters = st.n; {
				case testing.Short():
					iters /= 4
				case raceEnabled:
					iters /= 3
				}
			}
			runStoredTiles(t, iters, st.new(t))
		})
	}
}

// storedTileStats adds up what runStoredTiles did.
type storedTileStats struct {
	cases, ttl, joins, requests, windows, refused int
	built                                         int // tiles written by Rebuild
	merged                                        [3]int
	builtFine                                     int    // tiles of finer levels built
	missing                                       [3]int // buckets read raw inside tiled frames, by phase
	changed                                       int    // requests whose answer the late rows changed, with tiles merged
}

func runStoredTiles(t *testing.T, iters int, newStore newTiledStore) {
	var st storedTileStats
	for i := range iters {
		seed := uint64(i + 1)
		storedTileCase(t, seed, newStore, &st)
	}
	t.Logf("%d cases (%d with a TTL, %d with a LAST JOIN), %d tiled windows (%d no index can hold), %d tiles built, "+
		"%d requests per phase; tiles merged %v, buckets read raw inside tiled frames %v (fresh, stale, rebuilt); "+
		"%d answers changed by late rows while tiles were merged; %d tiles of finer levels built",
		st.cases, st.ttl, st.joins, st.windows, st.refused, st.built, st.requests, st.merged, st.missing, st.changed, st.builtFine)
	switch {
	case st.builtFine == 0:
		t.Errorf("no tile of a finer level was built: the busy cases test nothing")
	case 2*st.merged[0] < st.requests || st.merged[1] == 0 || 2*st.merged[2] < st.requests:
		t.Errorf("tiles merged %v over %d requests per phase: the test hardly used tiles", st.merged, st.requests)
	case st.missing[1] == 0 || st.changed == 0:
		t.Errorf("after the late rows, %d buckets read raw inside tiled frames and %d answers changed: no stale tile was tested",
			st.missing[1], st.changed)
	}
}

// storedTileCase runs the case of seed on a fresh store.
func storedTileCase(t *testing.T, seed uint64, newStore newTiledStore, st *storedTileStats) {
	t.Helper()
	ctx := context.Background()
	o := tiletest.Options{}
	if seed%3 == 0 {
		o.TTL = int64(2+seed%12) * 24 * 60 // 2 to 13 days, in minutes
	}
	if seed%4 == 1 { // busy keys: the finer levels of long windows get tiles
		o.Rows, o.Busy = 3000, true
	}
	c, err := tiletest.New(seed, o)
	if err != nil {
		t.Fatal(err)
	}
	st.cases++
	if o.TTL > 0 {
		st.ttl++
	}
	if c.Profiles != nil {
		st.joins++
	}
	r := rand.New(rand.NewPCG(seed, 0x646966))
	var clk clock
	clk.ms.Store(tiletest.T0 + tiletest.Span - r.Int64N(3*tiletest.Day))
	s := newStore(t, clk.now)
	if err := s.Init(ctx, c.View.Tables); err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	writeBatches(t, ctx, r, s, c.Table, c.Rows, 1)
	if c.Profiles != nil {
		writeBatches(t, ctx, r, s, c.Profiles, c.ProfileRows, 1)
	}
	ev, err := eval.New(c.View)
	if err != nil {
		t.Fatal(err)
	}
	var tis []*storage.TiledIndex
	for _, tw := range ev.ServedTiledWindows() {
		st.windows++
		ti, err := storage.NewTiledIndex(c.Table, plan.Version(c.View), tw)
		if errors.Is(err, storage.ErrNoIndex) || errors.Is(err, storage.ErrNoTiles) {
			st.refused++
			continue
		}
		if err != nil {
			t.Fatalf("seed %d, window %s: %v", seed, tw.Name, err)
		}
		tis = append(tis, ti)
	}
	rows := c.Rows
	rebuild := func() {
		t.Helper()
		for _, ti := range tis {
			for _, key := range partitionKeys(ti.Window, rows) {
				n, err := ti.Rebuild(ctx, s, key, math.MinInt64, math.MaxInt64)
				if err != nil {
					t.Fatalf("seed %d, window %s, key %v: %v", seed, ti.Window.Name, key, err)
				}
				st.built += n
				if ti.Window.Coarse > 0 {
					st.builtFine += n
				}
			}
		}
	}
	// Without TTLs (tiles expire by bucket, rows by time) and with an
	// index for every tiled window, a rebuilt store serves every bucket of
	// a tiled frame that has rows from its tile.
	allTiled := o.TTL == 0 && len(tis) == len(ev.ServedTiledWindows())
	rebuild()
	st.requests += len(c.Requests)
	fresh := compareRequests(t, ctx, c, ev, s, 0, st)
	if raw := missing(fresh); allTiled && raw > 0 {
		t.Fatalf("seed %d: every tile rebuilt, yet %d buckets inside tiled frames were read raw\n%s", seed, raw, c.SQL)
	}

	// Late rows into buckets that have tiles, and rows after the data:
	// without a rebuild, the tiles of their buckets are stale.
	more := tiletest.Rows(r, c.Table.Schema, 5+r.IntN(40), true)
	for i, row := range more {
		row[0] = types.Int64Value(int64(len(rows) + i))
		if r.IntN(5) == 0 && !row[2].Null {
			row[2] = types.TimestampValue(tiletest.T0 + tiletest.Span + r.Int64N(3*tiletest.Day))
		}
	}
	writeBatches(t, ctx, r, s, c.Table, more, uint64(len(rows)+1))
	rows = append(rows[:len(rows):len(rows)], more...)
	stale := compareRequests(t, ctx, c, ev, s, 1, st)
	for i := range fresh {
		if fresh[i].merged > 0 && stale[i].merged > 0 && !identical(fresh[i].row, stale[i].row) {
			st.changed++
		}
	}

	rebuild()
	clk.ms.Add(r.Int64N(tiletest.Day))
	rebuilt := compareRequests(t, ctx, c, ev, s, 2, st)
	if raw := missing(rebuilt); allTiled && raw > 0 {
		t.Fatalf("seed %d: every tile rebuilt after the late rows, yet %d buckets inside tiled frames were read raw\n%s", seed, raw, c.SQL)
	}
}

// writeBatches writes rows to table def of s, with sequence numbers from
// seq on, in one to four batches of random sizes (so Bigtable's day rows
// get several segments).
func writeBatches(t *testing.T, ctx context.Context, r *rand.Rand, s storage.Store, def *plan.Table, rows [][]types.Value, seq uint64) {
	t.Helper()
	for len(rows) > 0 {
		n := len(rows)
		if r.IntN(4) > 0 {
			n = 1 + r.IntN(len(rows))
		}
		seqs := make([]uint64, n)
		for i := range seqs {
			seqs[i] = seq + uint64(i)
		}
		if err := s.Write(ctx, def.Name, types.BlockOf(def.Schema, rows[:n]), seqs); err != nil {
			t.Fatal(err)
		}
		rows, seq = rows[n:], seq+uint64(n)
	}
}

// partitionKeys returns the distinct PARTITION BY values of tw among rows.
func partitionKeys(tw *eval.TiledWindow, rows [][]types.Value) [][]types.Value {
	seen := map[string]bool{}
	var keys [][]types.Value
	for _, row := range rows {
		var b []byte
		key := make([]types.Value, len(tw.PartitionBy))
		for i, col := range tw.PartitionBy {
			key[i] = row[col]
			b = eval.AppendKey(b, row[col])
		}
		if !seen[string(b)] {
			seen[string(b)] = true
			keys = append(keys, key)
		}
	}
	return keys
}

// answer is one request's answer over tiles, how many tiles it merged
// and how many buckets inside tiled frames it read raw.
type answer struct {
	row             []types.Value
	merged, missing int
}

func missing(as []answer) int {
	n := 0
	for _, a := range as {
		n += a.missing
	}
	return n
}

// compareRequests answers every request of c over s's tiles and over s's
// raw rows and requires identical rows; phase indexes st's counters.
func compareRequests(t *testing.T, ctx context.Context, c *tiletest.Case, ev *eval.Evaluator, s tiledStore, phase int, st *storedTileStats) []answer {
	t.Helper()
	out := make([]answer, len(c.Requests))
	for i, req := range c.Requests {
		want, err := ev.Request(ctx, req, rawOnly{s})
		if err != nil {
			t.Fatalf("seed %d, phase %d, request %d raw: %v\n%s", c.Seed, phase, i, err, c.SQL)
		}
		src, n := overTiles(s)
		got, err := ev.Request(ctx, req, src)
		if err != nil {
			t.Fatalf("seed %d, phase %d, request %d over tiles: %v\n%s", c.Seed, phase, i, err, c.SQL)
		}
		merged, missing := int(n.tiles.Load()), int(n.missing.Load())
		if !identical(got, want) {
			t.Fatalf("seed %d, phase %d, request %d (%v):\nover tiles %v (%d tiles merged)\nraw        %v\n%s",
				c.Seed, phase, i, req, got, merged, want, c.SQL)
		}
		st.merged[phase] += merged
		st.missing[phase] += missing
		out[i] = answer{row: got, merged: merged, missing: missing}
	}
	return out
}

// identical compares rows value by value, bit for bit (types.Identical);
// a nil row (filtered out) equals only a nil row.
func identical(a, b []types.Value) bool {
	if (a == nil) != (b == nil) || len(a) != len(b) {
		return false
	}
	for i := range a {
		if !types.Identical(a[i], b[i]) {
			return false
		}
	}
	return true
}
