package bigtable_test

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
)

var tornFor = flag.Duration("torn.duration", 0,
	"how long TestTornReads runs per store (0: 2s on Mem and 3s on Bigtable, 1s with -short)")

// The table and view of TestTornReads. Rows of a key are numbered by a
// counter c, from 0; row c holds 2^(c%tornBits) in column b(c/tornBits)
// and 0 in the other b columns, so each row has a bit of its own among
// the sums of the b columns.
const (
	tornKeys   = 4
	tornCols   = 16
	tornBits   = 62 // bits 62 and 63 of a sum only carries set
	tornPerKey = tornCols * tornBits
	tornDay    = int64(86_400_000)
	tornT0     = int64(1_767_225_600_000) // 2026-01-01 UTC
	tornSpan   = 20 * tornDay
)

// tornSQL is the view: over 10 days tiled by day, the count of stored
// rows (count(id): the request's id is NULL), sum, max and distinct_count,
// and the sums of the bit columns.
func tornSQL() string {
	var cols, sums []string
	for j := range tornCols {
		cols = append(cols, fmt.Sprintf("b%d bigint", j))
		sums = append(sums, fmt.Sprintf("sum(b%d) OVER w AS s%d", j, j))
	}
	return fmt.Sprintf(`CREATE TABLE ev (k string, ts timestamp, id bigint, x double, y int, %s, INDEX(KEY=k, TS=ts));
DEPLOY v OPTIONS(long_windows="w:1d") SELECT k, ts, count(id) OVER w AS n, sum(x) OVER w AS sx, max(x) OVER w AS mx,
  distinct_count(y) OVER w AS dy, %s
FROM ev WINDOW w AS (PARTITION BY k ORDER BY ts ROWS_RANGE BETWEEN 10d PRECEDING AND CURRENT ROW);`,
		strings.Join(cols, ", "), strings.Join(sums, ", "))
}

// TestTornReads runs writers, tile builders and readers at once over one
// store (storage.Mem, and the Bigtable store on the emulator) and checks
// every read against the consistency rule of tiles (storage.TileStore):
//
//	a row stored before a request starts is counted exactly once;
//	a row written during the request is counted at most once;
//	no other row is counted.
//
// Writers only add rows, one row per Write, each with a sequence number
// of its own: mostly at a time front that moves over 20 days as the test
// runs, a quarter late, into older buckets, which usually have tiles.
// Builders rebuild the tiles of random keys over random spans
// (storage.TiledIndex.Rebuild), racing the writers and each other.
// Readers answer requests of random keys and times over the store's
// tiles, half of them near the newest rows.
//
// The check is exact, and no race makes "the raw answer" ambiguous: the
// oracles read a log, not the store. The log, under a mutex, marks each
// row started just before its Write is called and done just after it
// returns. A reader takes S0, the rows done before its request starts,
// answers the request, then takes S1, the rows started before the answer
// came: every row of S0 was stored throughout the request, and every row
// the store held during it is in S1. Row c of a key holds 2^(c%62) in
// column b(c/62) and 0 in the other b columns; the view sums every b
// column and counts the stored rows (count(id); a request's id is NULL):
//
//   - the sums name the set X of rows counted;
//   - a row counted twice shows: adding a power of two already present
//     carries, and each carry leaves one set bit fewer than rows added, so
//     the rows were counted once each iff the sums' set bits number the
//     count (bits 62 and 63 are set only by carries);
//   - with F the request's frame, the rule is S0∩F ⊆ X ⊆ S1∩F, both bounds
//     taken from raw request mode over eval.MemSources holding exactly S0
//     and exactly S1, so the frame is the evaluator's, not re-implemented;
//   - last, the whole answer, sum, max and distinct_count too, must equal
//     bit for bit raw request mode over exactly S0 ∪ X, the rows it
//     claims to have seen.
//
// A tile of a bucket read stale, or a tile and raw rows of one bucket
// both merged, fails one of these.
func TestTornReads(t *testing.T) {
	t.Parallel()
	for _, st := range []struct {
		name string
		dur  time.Duration
		new  func(t *testing.T) newTiledStore
	}{
		{"mem", 2 * time.Second, func(*testing.T) newTiledStore { return memStores }},
		{"bigtable", 3 * time.Second, bigtableStores},
	} {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			dur := *tornFor
			if dur == 0 {
				dur = st.dur
				if testing.Short() {
					dur = time.Second
				}
			}
			runTorn(t, st.new(t)(t, nil), dur)
		})
	}
}

// tornLog is what the writers did: per key, its rows by counter, their
// sequence numbers, and which writes returned.
type tornLog struct {
	mu   sync.Mutex
	seq  uint64
	keys [tornKeys]tornKey
}

type tornKey struct {
	rows [][]types.Value
	seqs []uint64
	done []bool
}

// add records the next row of a random key that has room, at progress f
// of the run, as started, and returns its key, counter and sequence
// number; ok is false when every key is full.
func (l *tornLog) add(r *rand.Rand, schema types.Schema, f float64) (k, c int, row []types.Value, seq uint64, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var open []int
	for k := range l.keys {
		if len(l.keys[k].rows) < tornPerKey {
			open = append(open, k)
		}
	}
	if len(open) == 0 {
		return 0, 0, nil, 0, false
	}
	k = open[r.IntN(len(open))]
	key := &l.keys[k]
	c = len(key.rows)
	row = tornRow(r, schema, k, c, f, key.rows)
	l.seq++
	key.rows, key.seqs, key.done = append(key.rows, row), append(key.seqs, l.seq), append(key.done, false)
	return k, c, row, l.seq, true
}

// tornRow returns row c of key k at progress f (0 to 1) of the run:
// mostly in time order, at the front that moves over tornSpan as the run
// goes, a quarter late (into older buckets), some tied with an earlier
// row of the key, some on a day boundary.
func tornRow(r *rand.Rand, schema types.Schema, k, c int, f float64, prev [][]types.Value) []types.Value {
	front := tornT0 + int64(f*float64(tornSpan))
	ts := front + r.Int64N(tornDay/4)
	switch r.IntN(8) {
	case 0, 1:
		ts = tornT0 + r.Int64N(front-tornT0+1) // late
	case 2:
		if len(prev) > 0 {
			ts = prev[r.IntN(len(prev))][1].I
		}
	case 3:
		ts -= ts % tornDay
	}
	xs := []float64{0, 1.5, -2.25, 1e16, 0.1, -1e16, 3}
	x := types.DoubleValue(xs[r.IntN(len(xs))])
	if r.IntN(8) == 0 {
		x = types.NullOf(types.Double)
	}
	row := []types.Value{types.StringValue(fmt.Sprintf("k%d", k)), types.TimestampValue(ts), types.Int64Value(int64(c)),
		x, types.IntValue(schema[4].Type, int64(r.IntN(6)))}
	for j := range tornCols {
		v := int64(0)
		if j == c/tornBits {
			v = 1 << (c % tornBits)
		}
		row = append(row, types.Int64Value(v))
	}
	return row
}

// finish records that the Write of row c of key k returned.
func (l *tornLog) finish(k, c int) {
	l.mu.Lock()
	l.keys[k].done[c] = true
	l.mu.Unlock()
}

// snapshot returns the rows of key k with their sequence numbers: with
// doneOnly, those whose Write returned (S0), else all those whose Write
// started (S1).
func (l *tornLog) snapshot(k int, doneOnly bool) (rows [][]types.Value, seqs []uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	key := &l.keys[k]
	for c, row := range key.rows {
		if !doneOnly || key.done[c] {
			rows, seqs = append(rows, row), append(seqs, key.seqs[c])
		}
	}
	return rows, seqs
}

// tornStats adds up what the goroutines did.
type tornStats struct {
	writes, rebuilds, built, reads, tiled, merged atomic.Int64
	inFlight, inFlightCounted                     atomic.Int64 // rows written during a read, in its frame; of them counted
}

func runTorn(t *testing.T, s tiledStore, dur time.Duration) {
	ctx := context.Background()
	m, err := featurelang.Compile("torn.sql", tornSQL(), featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	view := m.Views[0]
	def := view.Table("ev")
	if err := s.Init(ctx, view.Tables); err != nil {
		t.Fatal(err)
	}
	ev, err := eval.New(view)
	if err != nil {
		t.Fatal(err)
	}
	// The window and its finer level (tiles only in busy buckets).
	tws := ev.ServedTiledWindows()
	if len(tws) != 2 || len(tws[0].Funcs) != 4+tornCols || tws[1].Coarse != tws[0].Width {
		t.Fatalf("the view serves %d windows from tiles, want 1 with every aggregate tiled and its finer level", len(tws))
	}
	var tis []*storage.TiledIndex
	for _, tw := range tws {
		ti, err := storage.NewTiledIndex(def, plan.Version(view), tw)
		if err != nil {
			t.Fatal(err)
		}
		tis = append(tis, ti)
	}
	run, cancel := context.WithTimeout(ctx, dur)
	defer cancel()
	start := time.Now()
	progress := func() float64 { return min(float64(time.Since(start))/float64(dur), 1) }
	var (
		log   tornLog
		st    tornStats
		wg    sync.WaitGroup
		fails atomic.Int64
	)
	fail := func(format string, args ...any) {
		if fails.Add(1) <= 3 {
			t.Errorf(format, args...)
		}
		cancel()
	}
	// Writers pace themselves to fill about the keys' room in dur; the
	// others pause too, so that writers get their share of the CPUs.
	const writers, builders, readers = 2, 2, 3
	pace := max(dur*writers/(tornKeys*tornPerKey), time.Microsecond)
	for w := range writers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for run.Err() == nil {
				k, c, row, seq, ok := log.add(r, def.Schema, progress())
				if !ok {
					return
				}
				// Not run: the last write completes, rather than fail
				// when the time is up.
				if err := s.Write(ctx, "ev", types.BlockOf(def.Schema, [][]types.Value{row}), []uint64{seq}); err != nil {
					fail("write: %v", err)
					return
				}
				log.finish(k, c)
				st.writes.Add(1)
				time.Sleep(time.Duration(r.Int64N(int64(2 * pace))))
			}
		})
	}
	for b := range builders {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(b), 2))
			for run.Err() == nil {
				key := []types.Value{types.StringValue(fmt.Sprintf("k%d", r.IntN(tornKeys)))}
				front := int64(progress() * float64(tornSpan))
				from := tornT0 - tornDay + r.Int64N(front+2*tornDay)
				to := from + r.Int64N(12*tornDay)
				n, err := tis[r.IntN(len(tis))].Rebuild(ctx, s, key, from, to)
				if err != nil {
					fail("rebuild %v [%d, %d): %v", key, from, to, err)
					return
				}
				st.rebuilds.Add(1)
				st.built.Add(int64(n))
				time.Sleep(time.Duration(r.Int64N(int64(4 * pace))))
			}
		})
	}
	for rd := range readers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(rd), 3))
			for run.Err() == nil {
				if msg := tornRead(ctx, r, ev, s, &log, def, &st); msg != "" {
					fail("%s", msg)
					return
				}
				time.Sleep(time.Duration(r.Int64N(int64(2 * pace))))
			}
		})
	}
	wg.Wait()
	t.Logf("%v: %d rows written, %d rebuilds writing %d tiles, %d reads checked (%d merged tiles, %d tiles in all); "+
		"%d rows written during a read were in its frame, %d of them counted",
		dur, st.writes.Load(), st.rebuilds.Load(), st.built.Load(), st.reads.Load(), st.tiled.Load(), st.merged.Load(),
		st.inFlight.Load(), st.inFlightCounted.Load())
	if fails.Load() == 0 && (st.reads.Load() < 20 || st.tiled.Load() < st.reads.Load()/4 || st.writes.Load() < 50) {
		t.Errorf("%d reads, %d of them over tiles, %d writes: the test hardly ran", st.reads.Load(), st.tiled.Load(), st.writes.Load())
	}
}

// tornRead answers one random request over the store's tiles and checks
// the answer (see TestTornReads); it returns what was wrong, or "".
func tornRead(ctx context.Context, r *rand.Rand, ev *eval.Evaluator, s tiledStore, log *tornLog, def *plan.Table, st *tornStats) string {
	k := r.IntN(tornKeys)
	s0, seqs0 := log.snapshot(k, true)
	// Half the requests near the key's last row written, where writes land.
	ts := tornT0 - tornDay + r.Int64N(tornSpan+3*tornDay)
	if len(s0) > 0 && r.IntN(2) == 0 {
		ts = s0[len(s0)-1][1].I + r.Int64N(tornDay)
	}
	req := make([]types.Value, len(def.Schema))
	for i, col := range def.Schema {
		req[i] = types.NullOf(col.Type)
	}
	req[0], req[1] = types.StringValue(fmt.Sprintf("k%d", k)), types.TimestampValue(ts)
	src, n := overTiles(s)
	got, err := ev.Request(ctx, req, src)
	if err != nil {
		return fmt.Sprintf("request %v over tiles: %v", req, err)
	}
	s1, seqs1 := log.snapshot(k, false)
	merged := n.tiles.Load()
	st.reads.Add(1)
	st.merged.Add(merged)
	if merged > 0 {
		st.tiled.Add(1)
	}
	x, msg := countedRows(got)
	if msg != "" {
		return fmt.Sprintf("request %v over tiles (%d tiles merged): %s", req, merged, msg)
	}
	lo, hi, err := frameRows(ctx, ev, req, def, s0, seqs0, s1, seqs1)
	if err != nil {
		return err.Error()
	}
	for c := range lo {
		if !x[c] {
			return fmt.Sprintf("request %v over tiles (%d tiles merged): row %d of k%d, stored before the request, in its frame, was not counted (counted %v)",
				req, merged, c, k, sortedRows(x))
		}
	}
	for c := range x {
		if !hi[c] {
			return fmt.Sprintf("request %v over tiles (%d tiles merged): row %d of k%d was counted but was not written before the request ended or is outside its frame (counted %v)",
				req, merged, c, k, sortedRows(x))
		}
	}
	st.inFlight.Add(int64(len(hi) - len(lo)))
	st.inFlightCounted.Add(int64(len(x) - len(lo)))
	// The whole answer is raw request mode over S0 and the rows of S1
	// it counted.
	stored := map[uint64]bool{}
	for _, seq := range seqs0 {
		stored[seq] = true
	}
	var seen [][]types.Value
	var seenSeqs []uint64
	for i, row := range s1 {
		if x[int(row[2].I)] || stored[seqs1[i]] {
			seen, seenSeqs = append(seen, row), append(seenSeqs, seqs1[i])
		}
	}
	want, err := rawAnswer(ctx, ev, req, def, seen, seenSeqs)
	if err != nil {
		return err.Error()
	}
	if !identical(got, want) {
		return fmt.Sprintf("request %v: over tiles (%d tiles merged) %v, raw over the rows it counted %v", req, merged, got, want)
	}
	return ""
}

// countedRows returns the rows an answer of the view counted, by counter,
// or what shows a row counted more than once.
func countedRows(out []types.Value) (map[int]bool, string) {
	if out == nil {
		return nil, "no answer"
	}
	count, sums := out[2], out[6:]
	x := map[int]bool{}
	ones := 0
	for j, s := range sums {
		if s.Null {
			continue
		}
		u := uint64(s.I)
		if u>>tornBits != 0 {
			return nil, fmt.Sprintf("sum of b%d is %#x: a carry, a row counted twice", j, u)
		}
		ones += bits.OnesCount64(u)
		for ; u != 0; u &= u - 1 {
			x[j*tornBits+bits.TrailingZeros64(u)] = true
		}
	}
	if count.Null || count.I != int64(ones) {
		return nil, fmt.Sprintf("count %v but %d distinct rows in the sums: a row counted twice", count, ones)
	}
	return x, ""
}

// frameRows returns the rows of S0 and of S1 in the request's frame, by
// counter, as raw request mode over each finds them.
func frameRows(ctx context.Context, ev *eval.Evaluator, req []types.Value, def *plan.Table,
	s0 [][]types.Value, seqs0 []uint64, s1 [][]types.Value, seqs1 []uint64) (lo, hi map[int]bool, err error) {
	for i, set := range []struct {
		rows [][]types.Value
		seqs []uint64
		out  *map[int]bool
	}{{s0, seqs0, &lo}, {s1, seqs1, &hi}} {
		a, err := rawAnswer(ctx, ev, req, def, set.rows, set.seqs)
		if err != nil {
			return nil, nil, err
		}
		x, msg := countedRows(a)
		if msg != "" {
			return nil, nil, fmt.Errorf("raw request %v over S%d: %s", req, i, msg)
		}
		*set.out = x
	}
	return lo, hi, nil
}

// rawAnswer answers req in raw request mode over exactly rows, in the
// arrival order of their sequence numbers.
func rawAnswer(ctx context.Context, ev *eval.Evaluator, req []types.Value, def *plan.Table, rows [][]types.Value, seqs []uint64) ([]types.Value, error) {
	order := make([]int, len(rows))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(seqs[a], seqs[b]) })
	src := eval.NewMemSource()
	src.Create(def.Name, def.Schema)
	for _, i := range order {
		if err := src.Insert(def.Name, rows[i]); err != nil {
			return nil, err
		}
	}
	out, err := ev.Request(ctx, req, src)
	if err != nil {
		return nil, fmt.Errorf("raw request %v: %w", req, err)
	}
	return out, nil
}

func sortedRows(x map[int]bool) []int {
	var out []int
	for c := range x {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}
