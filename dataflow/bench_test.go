package dataflow_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/fenestra-dev/fenestra/dataflow"
	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/datafile"
)

// benchSQL is the benchmark view: spend over 10 days, count over
// one hour, largest amount over 5 minutes.
const benchSQL = `CREATE TABLE tx (card bigint, ts timestamp, amount double, INDEX(KEY=card, TS=ts));
DEPLOY card_windows SELECT card, ts,
  sum(amount) OVER w10d AS spend_10d,
  count(amount) OVER w1h AS tx_1h,
  max(amount) OVER w5m AS max_5m
FROM tx WINDOW
  w10d AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 10d PRECEDING AND CURRENT ROW),
  w1h AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 1h PRECEDING AND CURRENT ROW),
  w5m AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 5m PRECEDING AND CURRENT ROW);`

const benchRows, benchKeys = 1_000_000, 10_000

// benchInput writes the benchmark's transactions as CSV, once per process:
// benchRows rows over benchKeys cards, 30 days, in time order.
func benchInput(b *testing.B) (*plan.Plan, string) {
	b.Helper()
	mod, err := featurelang.Compile("bench.sql", benchSQL, featurelang.Options{})
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(os.TempDir(), fmt.Sprintf("fenestra-bench-tx-%d.csv", benchRows))
	if _, err := os.Stat(path); err == nil {
		return mod.Views[0], path
	}
	f, err := os.Create(path + ".tmp")
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.WriteString("card,ts,amount\n")
	r := rand.New(rand.NewPCG(1, 1))
	const start, span = 1_700_000_000_000, 30 * 24 * 3600 * 1000
	var line []byte
	for i := range benchRows {
		ts := start + int64(i)*span/benchRows
		line = strconv.AppendInt(line[:0], r.Int64N(benchKeys), 10)
		line = append(line, ',')
		line = strconv.AppendInt(line, ts, 10)
		line = append(line, ',')
		line = strconv.AppendFloat(line, float64(r.IntN(100000))/100, 'f', -1, 64)
		line = append(line, '\n')
		w.Write(line)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	if err := os.Rename(path+".tmp", path); err != nil {
		b.Fatal(err)
	}
	return mod.Views[0], path
}

// BenchmarkBackfill1M is the benchmark: 1,000,000 rows of CSV in,
// the three-window view through Beam on prism, CSV out. It reports rows/s
// and the process's peak RSS (which includes the test binary's own).
func BenchmarkBackfill1M(b *testing.B) {
	view, in := benchInput(b)
	out := filepath.Join(b.TempDir(), "out.csv")
	for b.Loop() {
		p, s := beam.NewPipelineWithRoot()
		if _, err := dataflow.Backfill(s, dataflow.BackfillJob{View: view, Out: out, Buckets: 16,
			Inputs: []dataflow.Input{{Table: "tx", Path: in}}}); err != nil {
			b.Fatal(err)
		}
		if _, err := dataflow.Run(context.Background(), p); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*benchRows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(peakRSS(b), "peak-RSS-MB")
}

// BenchmarkEvaluator1M is the same data through the in-process evaluator
// alone: rows already in memory, one Batch call.
func BenchmarkEvaluator1M(b *testing.B) {
	view, in := benchInput(b)
	tx := readCSV(b, in, view.Tables[0].Schema)
	ev, err := eval.New(view)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := ev.Batch(context.Background(), map[string]*types.Block{"tx": tx}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*benchRows)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkInProcessCSV1M is CSV in, evaluator, CSV out in one goroutine,
// without Beam: what the pipeline adds its overhead to.
func BenchmarkInProcessCSV1M(b *testing.B) {
	view, in := benchInput(b)
	ev, err := eval.New(view)
	if err != nil {
		b.Fatal(err)
	}
	out := filepath.Join(b.TempDir(), "out.csv")
	for b.Loop() {
		tx := readCSV(b, in, view.Tables[0].Schema)
		res, err := ev.Batch(context.Background(), map[string]*types.Block{"tx": tx})
		if err != nil {
			b.Fatal(err)
		}
		f, err := os.Create(out)
		if err != nil {
			b.Fatal(err)
		}
		w := datafile.NewWriter(f, datafile.CSV, res.Schema)
		if err := w.Write(res); err != nil {
			b.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
	b.ReportMetric(float64(b.N*benchRows)/b.Elapsed().Seconds(), "rows/s")
}

func readCSV(b *testing.B, path string, schema types.Schema) *types.Block {
	b.Helper()
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	r, err := datafile.NewReader(bufio.NewReaderSize(f, 1<<20), path, datafile.CSV, schema)
	if err != nil {
		b.Fatal(err)
	}
	blk := types.NewBlock(schema, benchRows)
	var lines []int64
	for {
		if _, err := r.Next(blk, &lines, 1<<20); err != nil {
			if errors.Is(err, io.EOF) {
				return blk
			}
			b.Fatal(err)
		}
	}
}

// peakRSS returns the process's peak resident set size in MB (VmHWM).
func peakRSS(b *testing.B) float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return -1
}
