package integration

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/fenestra-dev/fenestra/dataflow"
	"github.com/fenestra-dev/fenestra/emulators"
	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/functions"
	"github.com/fenestra-dev/fenestra/internal/datafile"
	"github.com/fenestra-dev/fenestra/storage"
	"github.com/fenestra-dev/fenestra/storage/bigtable"
)

// The long-window benchmark's view: a 30-day sum, count, avg, max and
// distinct_count, tiled in 1-day buckets.
const longSQL = `CREATE TABLE tx (card string, merchant string, amount double, ts timestamp, INDEX(KEY=card, TS=ts));
DEPLOY f OPTIONS(long_windows="w30d:1d")
SELECT card, sum(amount) OVER w30d AS s, count(amount) OVER w30d AS c, avg(amount) OVER w30d AS a,
  max(amount) OVER w30d AS m, distinct_count(merchant) OVER w30d AS d
FROM tx WINDOW w30d AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 30d PRECEDING AND CURRENT ROW);
DEPLOY fh OPTIONS(long_windows="w30d:1h")
SELECT card, sum(amount) OVER w30d AS s, count(amount) OVER w30d AS c, avg(amount) OVER w30d AS a,
  max(amount) OVER w30d AS m, distinct_count(merchant) OVER w30d AS d
FROM tx WINDOW w30d AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 30d PRECEDING AND CURRENT ROW);`

const (
	longEnd      = int64(1_767_225_600_000) // 2026-01-01: the requests' time
	longDays     = 30
	heavyRows    = 100_000
	lightKeys    = 10_000
	lightHistory = 100
)

// longData writes the benchmark's history as CSV: one key ("heavy") with
// heavyRows rows and lightKeys keys with lightHistory rows each, spread
// over the 30 days before longEnd, and returns the module and inputs.
func longData(b *testing.B, lightKeys int) (*featurelang.Module, []dataflow.Input, int) {
	b.Helper()
	mod, err := featurelang.Compile("long.sql", longSQL, featurelang.Options{})
	if err != nil {
		b.Fatal(err)
	}
	schema := mod.Tables[0].Schema
	r := rand.New(rand.NewPCG(7, 7))
	span := int64(longDays) * 86_400_000
	blk := types.NewBlock(schema, heavyRows+lightKeys*lightHistory)
	row := func(card string, ts int64) {
		blk.AppendRow([]types.Value{types.StringValue(card), types.StringValue(fmt.Sprintf("m%03d", r.IntN(500))),
			types.DoubleValue(float64(r.IntN(100_000)) / 100), types.TimestampValue(ts)})
	}
	for i := range heavyRows {
		row("heavy", longEnd-span+int64(i)*(span/heavyRows))
	}
	for k := range lightKeys {
		for i := range lightHistory {
			row(fmt.Sprintf("card%05d", k), longEnd-span+int64(i)*(span/lightHistory)+int64(k))
		}
	}
	path := filepath.Join(b.TempDir(), "tx.csv")
	if err := datafile.WriteFile(path, blk); err != nil {
		b.Fatal(err)
	}
	return mod, []dataflow.Input{{Table: "tx", Path: path}}, blk.Len
}

// materializeInto loads the inputs into the tables under prefix, with the
// tiles of views, and returns the time it took.
func materializeInto(b *testing.B, emu, prefix string, mod *featurelang.Module, inputs []dataflow.Input, views []*plan.Plan) (*bigtable.Store, time.Duration) {
	b.Helper()
	ctx := context.Background()
	s, err := bigtable.Open(ctx, bigtable.Config{Project: "local", Instance: "local", EmulatorHost: emu, Prefix: prefix})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if err := s.Init(ctx, mod.Tables); err != nil {
		b.Fatal(err)
	}
	p, sc := beam.NewPipelineWithRoot()
	target := dataflow.BigtableTarget{Project: "local", Instance: "local", EmulatorHost: emu, Prefix: prefix}
	if _, err := dataflow.Materialize(sc, dataflow.MaterializeJob{Tables: mod.Tables, Inputs: inputs, Target: target, Views: views}); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if _, err := dataflow.Run(ctx, p); err != nil {
		b.Fatalf("materialize: %v", err)
	}
	return s, time.Since(start)
}

// rawStore hides a store's tiles: requests read raw rows.
type rawStore struct{ storage.Store }

// BenchmarkLongWindow times requests of a 30-day window (sum, count, avg,
// max, distinct_count) through the functions core over the Bigtable
// emulator, interleaved in each iteration, at a random time of the last
// day (so both edge buckets hold rows read raw): the heavy key (100,000
// rows) over 1-day tiles, over 1-hour tiles and over raw rows, and keys
// of 100 rows over 1-day tiles and over raw rows. It reports each one's
// p50 and p99 and the ratios the issue sets goals for.
//
//	go test ./integration -run '^$' -bench BenchmarkLongWindow -benchtime 40x
func BenchmarkLongWindow(b *testing.B) {
	emu, stop, err := emulators.StartBigtable("")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(stop)
	mod, inputs, _ := longData(b, lightKeys)
	store, _ := materializeInto(b, emu, "", mod, inputs, mod.Views)
	ctx := context.Background()
	clock := func() time.Time { return time.UnixMilli(longEnd) }
	tiled, err := functions.New(mod, store, functions.Options{Clock: clock})
	if err != nil {
		b.Fatal(err)
	}
	raw, err := functions.New(mod, rawStore{store}, functions.Options{Clock: clock})
	if err != nil {
		b.Fatal(err)
	}
	req := func(card string, at int64) *types.Block {
		blk := types.NewBlock(mod.Tables[0].Schema, 1)
		blk.AppendRow([]types.Value{types.StringValue(card), types.StringValue("m000"), types.DoubleValue(1), types.TimestampValue(at)})
		return blk
	}
	heavy := req("heavy", longEnd-43_200_000)
	// The answers over tiles and raw rows must be the same bits, and the
	// tiles must have been read.
	a, err := tiled.Compute(ctx, "f", heavy, false)
	if err != nil {
		b.Fatal(err)
	}
	w, err := raw.Compute(ctx, "f", heavy, false)
	if err != nil {
		b.Fatal(err)
	}
	if !slices.EqualFunc(a.Rows[0], w.Rows[0], func(x, y types.Value) bool { return types.Identical(x, y) }) || a.TilesRead == 0 {
		b.Fatalf("heavy key: over tiles %v (%d tiles, %d rows read), raw %v", a.Rows[0], a.TilesRead, a.RowsRead, w.Rows[0])
	}
	h, err := tiled.Compute(ctx, "fh", heavy, false)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("heavy key at mid-day: %d tiles + %d rows read over 1-day tiles, %d tiles + %d rows over 1-hour tiles, %d rows raw",
		a.TilesRead, a.RowsRead, h.TilesRead, h.RowsRead, w.RowsRead)
	var heavyTiles, heavyHour, heavyRaw, light, lightRaw []time.Duration
	timeOne := func(svc *functions.Service, view string, blk *types.Block, into *[]time.Duration) {
		start := time.Now()
		if _, err := svc.Compute(ctx, view, blk, false); err != nil {
			b.Fatal(err)
		}
		*into = append(*into, time.Since(start))
	}
	r := rand.New(rand.NewPCG(1, 1))
	b.ResetTimer()
	for b.Loop() {
		at := longEnd - 1 - r.Int64N(86_400_000)
		timeOne(tiled, "f", req("heavy", at), &heavyTiles)
		timeOne(tiled, "fh", req("heavy", at), &heavyHour)
		timeOne(raw, "f", req("heavy", at), &heavyRaw)
		for range 5 {
			card := req(fmt.Sprintf("card%05d", r.IntN(lightKeys)), at)
			timeOne(tiled, "f", card, &light)
			timeOne(raw, "f", card, &lightRaw)
		}
	}
	b.StopTimer()
	p := func(d []time.Duration, q float64) float64 {
		s := slices.Clone(d)
		slices.Sort(s)
		return float64(s[min(len(s)-1, int(q*float64(len(s))))]) / 1e6
	}
	b.ReportMetric(p(heavyTiles, 0.5), "heavy-tiles-p50-ms")
	b.ReportMetric(p(heavyTiles, 0.99), "heavy-tiles-p99-ms")
	b.ReportMetric(p(heavyHour, 0.5), "heavy-1h-tiles-p50-ms")
	b.ReportMetric(p(heavyHour, 0.99), "heavy-1h-tiles-p99-ms")
	b.ReportMetric(p(heavyRaw, 0.5), "heavy-raw-p50-ms")
	b.ReportMetric(p(heavyRaw, 0.99), "heavy-raw-p99-ms")
	b.ReportMetric(p(light, 0.5), "light-p50-ms")
	b.ReportMetric(p(light, 0.99), "light-p99-ms")
	b.ReportMetric(p(lightRaw, 0.5), "light-raw-p50-ms")
	b.ReportMetric(p(lightRaw, 0.99), "light-raw-p99-ms")
	b.ReportMetric(p(heavyRaw, 0.5)/p(heavyTiles, 0.5), "raw/tiles-p50")
	b.ReportMetric(p(heavyTiles, 0.5)/p(light, 0.5), "tiles/light-p50")
	b.ReportMetric(p(heavyTiles, 0.5)/p(lightRaw, 0.5), "tiles/light-raw-p50")
	b.ReportMetric(p(heavyRaw, 0.5)/p(heavyHour, 0.5), "raw/1h-tiles-p50")
	b.ReportMetric(p(heavyHour, 0.5)/p(light, 0.5), "1h-tiles/light-p50")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkMaterializeTiles times materialize of the long-window history
// (1,100,000 rows) into the Bigtable emulator with and without the tiles
// of view f (1-day buckets, and hours in the heavy key's days),
// interleaved in each iteration, and reports rows/s of each.
//
//	go test ./integration -run '^$' -bench BenchmarkMaterializeTiles -benchtime 3x
func BenchmarkMaterializeTiles(b *testing.B) {
	emu, stop, err := emulators.StartBigtable("")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(stop)
	mod, inputs, n := longData(b, lightKeys)
	var with, without time.Duration
	i := 0
	for b.Loop() {
		_, d := materializeInto(b, emu, fmt.Sprintf("raw%d_", i), mod, inputs, nil)
		without += d
		_, d = materializeInto(b, emu, fmt.Sprintf("tiles%d_", i), mod, inputs, mod.Views[:1])
		with += d
		b.Logf("run %d: %d rows without tiles %v, with tiles %v", i+1, n, without/time.Duration(i+1), with/time.Duration(i+1))
		i++
	}
	b.ReportMetric(float64(n*i)/without.Seconds(), "rows/s-without-tiles")
	b.ReportMetric(float64(n*i)/with.Seconds(), "rows/s-with-tiles")
	b.ReportMetric(with.Seconds()/without.Seconds(), "with/without")
	b.ReportMetric(0, "ns/op")
}
