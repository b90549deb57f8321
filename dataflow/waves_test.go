package dataflow_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/fenestra-dev/fenestra/dataflow"
	"github.com/fenestra-dev/fenestra/dataflow/bucket"
	"github.com/fenestra-dev/fenestra/examples"
	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
)

// cardsJob writes rows generated rows of the cards example as CSV files
// in dir and returns the backfill of its view into dir/out, and the
// input's size in bytes.
func cardsJob(t *testing.T, dir string, rows int) (dataflow.BackfillJob, int64) {
	t.Helper()
	ex, err := examples.Lookup("cards")
	if err != nil {
		t.Fatal(err)
	}
	tables, err := ex.Generate(examples.Config{Rows: rows, Seed: 7, Start: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	job := dataflow.BackfillJob{Buckets: 6}
	for _, v := range ex.Module.Views {
		if v.Name == ex.View {
			job.View = v
		}
	}
	var size int64
	for _, tb := range ex.Module.Tables {
		path := filepath.Join(dir, tb.Name+".csv")
		writeFile(t, path, tables[tb.Name])
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		size += info.Size()
		job.Inputs = append(job.Inputs, dataflow.Input{Table: tb.Name, Path: path})
	}
	return job, size
}

// backfillOnce runs job in one pipeline and returns its output.
func backfillOnce(t *testing.T, job dataflow.BackfillJob) []byte {
	t.Helper()
	p, s := beam.NewPipelineWithRoot()
	if _, err := dataflow.Backfill(s, job); err != nil {
		t.Fatal(err)
	}
	if _, err := dataflow.Run(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(job.Out)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// checkEmpty fails the test if dir holds anything.
func checkEmpty(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("%s was left in the temporary directory", e.Name())
	}
}

// TestWavesEqualOneWave backfills generated cards rows (its view reads
// the merchants whole) in one pipeline, then in the waves a tiny memory
// budget asks for, to CSV and to Parquet: the outputs must be the same
// bytes, the waves must read every row once, and leave nothing behind.
func TestWavesEqualOneWave(t *testing.T) {
	dir := t.TempDir()
	job, size := cardsJob(t, dir, 3000)
	waves := dataflow.WavesFor(job, size, 1)
	if waves != job.Buckets {
		t.Fatalf("WavesFor a tiny budget: %d waves, want one per bucket, %d", waves, job.Buckets)
	}
	if n := dataflow.WavesFor(job, size, 1<<30); n != 1 {
		t.Errorf("WavesFor 1 GiB: %d waves for %d bytes, want 1", n, size)
	}
	for _, ext := range []string{".csv", ".parquet"} {
		t.Run(ext, func(t *testing.T) {
			one := job
			one.Out = filepath.Join(dir, "one"+ext)
			before := dataflow.Progress.Read.Load()
			want := backfillOnce(t, one)
			read := dataflow.Progress.Read.Load() - before

			tmp := t.TempDir()
			job.Out = filepath.Join(dir, "waves"+ext)
			var stats []dataflow.WaveStats
			n, err := dataflow.RunWaves(context.Background(), job, waves, tmp, func(s dataflow.WaveStats) { stats = append(stats, s) })
			if err != nil {
				t.Fatal(err)
			}
			if n != 3000 {
				t.Errorf("%d rows written, want 3000", n)
			}
			got, err := os.ReadFile(job.Out)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("the output of %d waves differs from one pipeline's (%d bytes, want %d)", waves, len(got), len(want))
			}
			if len(stats) != waves {
				t.Fatalf("%d waves reported, want %d", len(stats), waves)
			}
			var sum int64
			for i, s := range stats {
				if s.N != i || s.Of != waves || s.Read == 0 || s.Runs == 0 {
					t.Errorf("wave %d: %+v", i, s)
				}
				sum += s.Read
			}
			if sum != read {
				t.Errorf("the waves read %d rows, one pipeline %d", sum, read)
			}
			checkEmpty(t, tmp)
		})
	}
}

// TestWavesNoSplit checks that a view whose windows share no partition
// column, which bucket.Plan does not split, runs as one pipeline whatever
// the budget.
func TestWavesNoSplit(t *testing.T) {
	mod, err := featurelang.Compile("nosplit.sql", `CREATE TABLE tx (card string, merchant string, amount double, ts timestamp);
DEPLOY both SELECT card, sum(amount) OVER wc AS by_card, sum(amount) OVER wm AS by_merchant FROM tx
WINDOW wc AS (PARTITION BY card ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW),
       wm AS (PARTITION BY merchant ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW);`, featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	view := mod.Views[0]
	if bucket.Plan(view).Split {
		t.Fatal("the view splits")
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "tx.csv")
	if err := os.WriteFile(in, []byte("card,merchant,amount,ts\na,m,1,1000\nb,m,2,2000\na,n,4,3000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	job := dataflow.BackfillJob{View: view, Buckets: 8, Out: filepath.Join(dir, "out.csv"), Inputs: []dataflow.Input{{Table: "tx", Path: in}}}
	if n := dataflow.WavesFor(job, 1<<40, 1); n != 1 {
		t.Errorf("WavesFor: %d waves, want 1", n)
	}
	tmp := t.TempDir()
	reported := 0
	if _, err := dataflow.RunWaves(context.Background(), job, 5, tmp, func(dataflow.WaveStats) { reported++ }); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(job.Out)
	if want := "card,by_card,by_merchant\na,1,1\nb,2,3\na,5,4\n"; string(got) != want {
		t.Errorf("output\n%s\nwant\n%s", got, want)
	}
	if reported != 0 {
		t.Errorf("%d waves reported, want none (one pipeline)", reported)
	}
	checkEmpty(t, tmp)
}

// TestWavesFailure checks that a backfill in waves that fails (a bad row,
// or an interrupt) fails as one pipeline does and leaves nothing behind,
// and that skipped bad rows are counted once, not once a wave.
func TestWavesFailure(t *testing.T) {
	mod, err := featurelang.Compile("spend.sql", badRowsSQL, featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "tx.csv")
	if err := os.WriteFile(in, []byte("card,amount,ts\na,1,1000\na,2\nb,x,3000\nb,4,4000\nc,8,5000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	job := func(policy dataflow.BadRows) dataflow.BackfillJob {
		return dataflow.BackfillJob{View: mod.Views[0], Buckets: 4, BadRows: policy, Out: filepath.Join(t.TempDir(), "out.csv"),
			Inputs: []dataflow.Input{{Table: "tx", Path: in}}}
	}

	tmp := t.TempDir()
	j := job(dataflow.FailOnBadRows)
	_, err = dataflow.RunWaves(context.Background(), j, 3, tmp, nil)
	if want := in + ":3: 2 fields, the header has 3"; err == nil || err.Error() != want {
		t.Errorf("failing on bad rows: error %v, want %s", err, want)
	}
	if _, err := os.Stat(j.Out); err == nil {
		t.Error("a failed backfill left an output file")
	}
	checkEmpty(t, tmp)

	// Interrupted after the first wave, whose runs are in tmp by then.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runs := int64(0)
	j = job(dataflow.SkipBadRows)
	if _, err := dataflow.RunWaves(ctx, j, 3, tmp, func(s dataflow.WaveStats) { runs = s.Runs; cancel() }); err == nil {
		t.Error("an interrupted backfill did not fail")
	}
	if runs == 0 {
		t.Error("the first wave wrote no runs")
	}
	if _, err := os.Stat(j.Out); err == nil {
		t.Error("an interrupted backfill left an output file")
	}
	checkEmpty(t, tmp)

	j = job(dataflow.SkipBadRows)
	var read, bad int64
	if _, err := dataflow.RunWaves(context.Background(), j, 3, tmp, func(s dataflow.WaveStats) { read, bad = read+s.Read, bad+s.Bad }); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(j.Out)
	if want := "card,s\na,1\nb,4\nc,8\n"; string(got) != want {
		t.Errorf("skipping bad rows: output\n%s\nwant\n%s", got, want)
	}
	if read != 3 || bad != 2 {
		t.Errorf("the waves read %d rows and skipped %d, want 3 and 2", read, bad)
	}
	checkEmpty(t, tmp)
}

// TestMaterializeWaves materializes 3,000 random rows of tilesSQL's tx
// (two indexes; NULL keys and times, ties; a busy key, so that the tiled
// window's finer level has tiles too), from a CSV and a JSON Lines file,
// with its views, into one emulator in one pipeline of 3 writers and
// into another in 3 waves of 2 writers: every key of both indexes must
// read back the same rows from both, and have the same current tiles at
// both levels; the waves must read and store every row once, and the
// model must ask for waves only when the input does not fit.
func TestMaterializeWaves(t *testing.T) {
	ctx := context.Background()
	mod, err := featurelang.Compile("t.sql", tilesSQL, featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tx := mod.Tables[0]
	rows := randomRows(rand.New(rand.NewPCG(11, 1)), tx.Schema, 3000)
	spreadTimes(rand.New(rand.NewPCG(11, 2)), rows, tx.Schema.Index("ts"), 20)
	for i := 0; i < rows.Len; i += 4 { // 750 rows over two days
		rows.Cols[tx.Schema.Index("card")].Set(i, types.StringValue("busy"))
		rows.Cols[tx.Schema.Index("ts")].Set(i, types.TimestampValue(1_700_000_000_000+int64(i)*60_000))
	}
	dir := t.TempDir()
	var inputs []dataflow.Input
	for f, part := range []*types.Block{rows.Gather(seq(0, 1500)), rows.Gather(seq(1500, rows.Len))} {
		path := filepath.Join(dir, "tx"+[]string{".csv", ".jsonl"}[f])
		writeFile(t, path, part)
		inputs = append(inputs, dataflow.Input{Table: "tx", Path: path})
	}
	if w := dataflow.MaterializeWavesFor(1<<30, 0); w != 1 {
		t.Errorf("MaterializeWavesFor without a budget: %d waves, want 1", w)
	}
	if w := dataflow.MaterializeWavesFor(1<<20, 1<<30); w != 1 {
		t.Errorf("MaterializeWavesFor 1 MiB in 1 GiB: %d waves, want 1", w)
	}
	if w := dataflow.MaterializeWavesFor(1<<30, 1); w != dataflow.MaxMaterializeWaves {
		t.Errorf("MaterializeWavesFor a tiny budget: %d waves, want %d", w, dataflow.MaxMaterializeWaves)
	}

	one, oneAddr := emulatorStore(t, mod.Tables)
	waved, wavedAddr := emulatorStore(t, mod.Tables)
	job := dataflow.MaterializeJob{Tables: mod.Tables, Inputs: inputs, Writers: 3, Views: mod.Views[:1],
		Target: dataflow.BigtableTarget{Project: "p", Instance: "i", EmulatorHost: oneAddr}}
	before := dataflow.Progress.Tiles.Load()
	n, err := dataflow.RunMaterializeWaves(ctx, job, 1, func(dataflow.WaveStats) { t.Error("one pipeline reported a wave") })
	if err != nil || n != rows.Len {
		t.Fatalf("one pipeline: %d rows written, %v; want %d", n, err, rows.Len)
	}
	built := dataflow.Progress.Tiles.Load() - before
	job.Writers, job.Target.EmulatorHost = 2, wavedAddr
	var stats []dataflow.WaveStats
	before = dataflow.Progress.Tiles.Load()
	n, err = dataflow.RunMaterializeWaves(ctx, job, 3, func(s dataflow.WaveStats) { stats = append(stats, s) })
	if err != nil || n != rows.Len {
		t.Fatalf("3 waves: %d rows written, %v; want %d", n, err, rows.Len)
	}
	// A key's tiles are built by the one writer of the one wave that has
	// its rows: as many tiles as by one pipeline (a key whose rows were
	// in two waves would have its shared buckets built twice).
	if w := dataflow.Progress.Tiles.Load() - before; w != built || built == 0 {
		t.Errorf("the waves built %d tiles, one pipeline %d", w, built)
	}
	var read int64
	for i, s := range stats {
		if s.N != i || s.Of != 3 || s.Written == 0 || s.Read != s.Written || s.Bad != 0 {
			t.Errorf("wave %d: %+v", i, s)
		}
		read += s.Read
	}
	if len(stats) != 3 || read != int64(rows.Len) {
		t.Errorf("%d waves reported, reading %d rows; want 3, reading %d", len(stats), read, rows.Len)
	}

	if c := compareStores(t, mod.Tables, map[string]*types.Block{"tx": rows}, one, waved); c < 2*rows.Len-300 {
		t.Errorf("compared %d rows", c)
	}
	tiles, fine := compareTiles(t, mod.Views[0], rows, one, waved)
	if tiles < 500 || fine < 24 {
		t.Errorf("compared %d tiles, %d of them of the finer level", tiles, fine)
	}
}

// compareTiles reads the current tiles of every key (card) of rows in
// the view's tiled windows (the window and its finer level, index 0) from
// both stores, reports differences, and returns how many it compared,
// and how many of them were of a finer level.
func compareTiles(t *testing.T, view *plan.Plan, rows *types.Block, want, got storage.TileStore) (tiles, fine int) {
	t.Helper()
	ctx := context.Background()
	ev, err := eval.New(view)
	if err != nil {
		t.Fatal(err)
	}
	tws, err := ev.TiledWindows()
	if err != nil || len(tws) != 2 {
		t.Fatalf("tiled windows: %d, %v; want the window and its finer level", len(tws), err)
	}
	keys := map[string]types.Value{}
	for i := range rows.Len {
		v := rows.Cols[rows.Schema.Index("card")].Value(i)
		keys[string(eval.AppendKey(nil, v))] = v
	}
	for _, tw := range tws {
		for _, key := range keys {
			r := storage.TileRange{Table: "tx", Index: 0, Window: storage.WindowID(plan.Version(view), tw.Name),
				Key: []types.Value{key}, Width: tw.Width, From: math.MinInt64, To: math.MaxInt64}
			w, err := want.ReadTiles(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			g, err := got.ReadTiles(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			if gs, ws := tilesText(g), tilesText(w); gs != ws {
				t.Errorf("key %v, width %d: tiles\n%s\nwant (one pipeline's)\n%s", key, tw.Width, gs, ws)
			}
			tiles += len(g)
			if tw.Coarse > 0 {
				fine += len(g)
			}
		}
	}
	return tiles, fine
}

// TestMaterializeWavesBadRows checks that a materialize in waves fails on
// a bad row as one pipeline does (file and line), and that skipped bad
// rows are counted once, not once a wave, while every good row is
// stored.
func TestMaterializeWavesBadRows(t *testing.T) {
	ctx := context.Background()
	mod, err := featurelang.Compile("spend.sql", badRowsSQL, featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(t.TempDir(), "tx.csv")
	if err := os.WriteFile(in, []byte("card,amount,ts\na,1,1000\na,2\nb,x,3000\nb,4,4000\nc,8,5000\nd,16,6000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	store, addr := emulatorStore(t, mod.Tables)
	job := dataflow.MaterializeJob{Tables: mod.Tables, Inputs: []dataflow.Input{{Table: "tx", Path: in}}, Writers: 2,
		Target: dataflow.BigtableTarget{Project: "p", Instance: "i", EmulatorHost: addr}}
	reported := 0
	_, err = dataflow.RunMaterializeWaves(ctx, job, 3, func(dataflow.WaveStats) { reported++ })
	if want := in + ":3: 2 fields, the header has 3"; err == nil || err.Error() != want {
		t.Errorf("failing on bad rows: error %v, want %s", err, want)
	}
	if reported != 0 {
		t.Errorf("%d waves reported before the failure, want none (wave 1 fails)", reported)
	}

	job.BadRows = dataflow.SkipBadRows
	var read, bad, written int64
	n, err := dataflow.RunMaterializeWaves(ctx, job, 3, func(s dataflow.WaveStats) { read, bad, written = read+s.Read, bad+s.Bad, written+s.Written })
	if err != nil {
		t.Fatal(err)
	}
	if read != 4 || bad != 2 || written != 4 || n != 4 {
		t.Errorf("the waves read %d rows, skipped %d and wrote %d (returned %d), want 4, 2 and 4", read, bad, written, n)
	}
	for card, want := range map[string]string{"a": "[[a 1 1970-01-01 08:00:01]]", "b": "[[b 4 1970-01-01 08:00:04]]", "c": "[[c 8 1970-01-01 08:00:05]]", "d": "[[d 16 1970-01-01 08:00:06]]"} {
		got, err := store.Read(ctx, storage.Range{Table: "tx", Keys: []string{"card"}, TS: "ts", Values: []types.Value{types.StringValue(card)}, From: 0, To: 1 << 40})
		if err != nil {
			t.Fatal(err)
		}
		if g := fmt.Sprint(got.Rows()); g != want {
			t.Errorf("card %s: read back %s, want %s", card, g, want)
		}
	}
}
