package dataflow_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/dataflow"
	"github.com/fenestra-dev/fenestra/featurelang"
)

const splitTables = `
CREATE TABLE tx (id bigint, card string, shop string, amount double, ts timestamp, INDEX(KEY=card, TS=ts));
CREATE TABLE prof (card string, lim double, updated timestamp, INDEX(KEY=card, TS=updated));
`

// splitViews are views a key of which can be evaluated in parts: their
// outputs must not change.
var splitViews = map[string]string{
	"ranges and a point-in-time join": `SELECT id, sum(amount) OVER w1d AS s, count(amount) OVER w1h AS n, max(amount) OVER w5m AS m,
  distinct_count(amount) OVER w1d AS d, prof.lim AS lim, CEL('prof.lim == null ? 0.0 : amount / prof.lim') AS share
FROM tx LAST JOIN prof ORDER BY prof.updated ON tx.card = prof.card AND prof.updated <= tx.ts
WINDOW w1d AS (PARTITION BY tx.card ORDER BY ts ROWS_RANGE BETWEEN 1d PRECEDING AND CURRENT ROW),
  w1h AS (PARTITION BY tx.card ORDER BY ts ROWS_RANGE BETWEEN 1h PRECEDING AND CURRENT ROW),
  w5m AS (PARTITION BY tx.card ORDER BY ts ROWS_RANGE BETWEEN 5m PRECEDING AND CURRENT ROW)`,
	"rows frames and lag": `SELECT id, sum(amount) OVER w50 AS s, lag(amount, 3) OVER w50 AS l3, at(ts, 7) OVER w50 AS a7
FROM tx WINDOW w50 AS (PARTITION BY card ORDER BY ts ROWS BETWEEN 50 PRECEDING AND CURRENT ROW)`,
	"maxsize and exclude current_time": `SELECT id, avg(amount) OVER w AS a, count(amount) OVER w AS n
FROM tx WINDOW w AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 2h PRECEDING AND CURRENT ROW MAXSIZE 10 EXCLUDE CURRENT_TIME)`,
	"windows over windows": `SELECT id, s, max(s) OVER w2 AS ms FROM
  (SELECT id, card, ts, sum(amount) OVER w1 AS s FROM tx WINDOW w1 AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 3h PRECEDING AND CURRENT ROW))
WINDOW w2 AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 6h PRECEDING AND CURRENT ROW)`,
	"a finer partition": `SELECT id, count(amount) OVER w1 AS n, sum(amount) OVER w2 AS s FROM tx
WINDOW w1 AS (PARTITION BY card, shop ORDER BY ts ROWS_RANGE BETWEEN 1d PRECEDING AND CURRENT ROW),
  w2 AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 1h PRECEDING AND CURRENT ROW)`,
}

// splitRefused are views whose large keys cannot be evaluated in parts,
// and what the error must say.
var splitRefused = map[string]string{
	"unbounded frame": `SELECT id, sum(amount) OVER w AS s FROM tx
WINDOW w AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)`,
	"partition other than the key": `SELECT id, lag(amount, 1) OVER w1 AS l, sum(amount) OVER w2 AS s FROM tx
WINDOW w1 AS (PARTITION BY card, shop ORDER BY ts ROWS_RANGE BETWEEN 1d PRECEDING AND CURRENT ROW),
  w2 AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 1h PRECEDING AND CURRENT ROW)`,
	"reach back": `SELECT id, sum(amount) OVER w AS s FROM tx
WINDOW w AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 3650d PRECEDING AND CURRENT ROW)`,
}

// splitData writes tx rows (the card "bot" has bot of them, over days
// days; the other cards' rows are others, over the same time) and a
// profile table as CSV in dir, in an arrival order that is not the time
// order (a row in ten arrives late). Times repeat, so that parts must end
// between equal times.
func splitData(t *testing.T, dir string, bot, others, days int) []dataflow.Input {
	t.Helper()
	r := rand.New(rand.NewPCG(3, 4))
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	span := int64(days) * 86_400_000
	txPath, profPath := filepath.Join(dir, "tx.csv"), filepath.Join(dir, "prof.csv")
	f, err := os.Create(txPath)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "id,card,shop,amount,ts")
	n := bot + others
	var late []string
	for i := range n {
		card := "bot"
		if r.IntN(n) >= bot {
			card = fmt.Sprintf("c%d", r.IntN(200))
		}
		ts := start + span*int64(i)/int64(n)
		ts -= ts % 1000 // whole seconds: equal times
		amount := ""
		if r.IntN(50) > 0 {
			amount = fmt.Sprintf("%d.%02d", r.IntN(500), r.IntN(100))
		}
		line := fmt.Sprintf("%d,%s,s%d,%s,%d", i, card, r.IntN(5), amount, ts)
		if r.IntN(10) == 0 {
			late = append(late, line)
			continue
		}
		fmt.Fprintln(w, line)
		if len(late) > 0 && r.IntN(3) == 0 {
			fmt.Fprintln(w, late[0])
			late = late[1:]
		}
	}
	for _, l := range late {
		fmt.Fprintln(w, l)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	var prof strings.Builder
	prof.WriteString("card,lim,updated\n")
	for c := range 200 {
		fmt.Fprintf(&prof, "c%d,%d.5,%d\n", c, 100+c, start+int64(c)*3_600_000)
	}
	for v := range 20 {
		fmt.Fprintf(&prof, "bot,%d,%d\n", 1000+v, start+span*int64(v)/20)
	}
	if err := os.WriteFile(profPath, []byte(prof.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return []dataflow.Input{{Table: "tx", Path: txPath}, {Table: "prof", Path: profPath}}
}

// splitJob returns the backfill of a view over the split tables' inputs
// (those it reads), in 16 buckets.
func splitJob(t *testing.T, query string, inputs []dataflow.Input) dataflow.BackfillJob {
	t.Helper()
	mod, err := featurelang.Compile("split.sql", splitTables+"DEPLOY v "+query+";", featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	job := dataflow.BackfillJob{View: mod.Views[0], Buckets: 16}
	for _, in := range inputs {
		if job.View.Table(in.Table) != nil {
			job.Inputs = append(job.Inputs, in)
		}
	}
	return job
}

// TestSplitKeysEqualWhole backfills views over a large key in parts of
// at most 500 rows (the other keys' buckets hold fewer), in one pipeline
// and in waves: the outputs must be
// those of the key evaluated whole, byte for byte.
func TestSplitKeysEqualWhole(t *testing.T) {
	dir := t.TempDir()
	inputs := splitData(t, dir, 4000, 2000, 20)
	const limit = 500
	for name, query := range splitViews {
		t.Run(name, func(t *testing.T) {
			job := splitJob(t, query, inputs)
			job.Out = filepath.Join(t.TempDir(), "whole.csv")
			want := backfillOnce(t, job)
			splits, err := dataflow.SplitKeys(context.Background(), job, func(rows int64) int64 {
				if rows != 6000 {
					t.Errorf("SplitKeys counted %d rows, want 6000", rows)
				}
				return limit
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(splits) != 1 || splits[0].Key != "card=bot" || splits[0].Rows < 3500 || len(splits[0].Cuts) < 8 {
				t.Fatalf("splits: %+v, want the card bot cut in 9 parts or more", splits)
			}
			job.Splits = splits
			dataflow.Progress.MaxEvaluated.Store(0)
			job.Out = filepath.Join(t.TempDir(), "parts.csv")
			if got := backfillOnce(t, job); !bytes.Equal(got, want) {
				t.Errorf("in parts, in one pipeline: the output differs from the whole key's")
			}
			if m := dataflow.Progress.MaxEvaluated.Load(); m > limit {
				t.Errorf("an evaluation held %d rows of tx, over the limit of %d", m, limit)
			}
			job.Out = filepath.Join(t.TempDir(), "waves.csv")
			if _, err := dataflow.RunWaves(context.Background(), job, 5, t.TempDir(), nil); err != nil {
				t.Fatal(err)
			}
			if got, err := os.ReadFile(job.Out); err != nil || !bytes.Equal(got, want) {
				t.Errorf("in parts, in 5 waves: the output differs from the whole key's (%v)", err)
			}
		})
	}
}

// TestSplitKeysOneTime asks for a large key whose rows share one time:
// no part can end among them, so it is an error naming the key and the
// time, not a part over the limit.
func TestSplitKeysOneTime(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("id,card,shop,amount,ts\n")
	for i := range 3000 {
		ts := 1_735_689_600_000 + int64(i)*1000
		if i >= 1000 {
			ts = 1_735_689_600_000 + 1000_000 // 2,000 rows at once
		}
		fmt.Fprintf(&b, "%d,bot,s1,1.5,%d\n", i, ts)
	}
	path := filepath.Join(dir, "tx.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	job := splitJob(t, splitViews["rows frames and lag"], []dataflow.Input{{Table: "tx", Path: path}})
	_, err := dataflow.SplitKeys(context.Background(), job, func(int64) int64 { return 500 })
	if !errors.Is(err, dataflow.ErrKeyTooLarge) || !strings.Contains(err.Error(), "card=bot") || !strings.Contains(err.Error(), "2000 of its rows have the same order value") {
		t.Errorf("error %v, want ErrKeyTooLarge naming card=bot and its 2000 rows at one time", err)
	}
}

// TestSplitKeysRefused asks for a large key of views that cannot be
// evaluated in parts: the error names the key, its rows, the limit and
// the reason; a limit the key fits in is no error.
func TestSplitKeysRefused(t *testing.T) {
	inputs := splitData(t, t.TempDir(), 4000, 2000, 20)
	for name, query := range splitRefused {
		t.Run(name, func(t *testing.T) {
			job := splitJob(t, query, inputs)
			_, err := dataflow.SplitKeys(context.Background(), job, func(int64) int64 { return 500 })
			if !errors.Is(err, dataflow.ErrKeyTooLarge) || !strings.Contains(err.Error(), "card=bot") || !strings.Contains(err.Error(), "500 rows") || !strings.Contains(err.Error(), name) {
				t.Errorf("error %v, want ErrKeyTooLarge naming card=bot, the limit and %q", err, name)
			}
			splits, err := dataflow.SplitKeys(context.Background(), job, func(int64) int64 { return 6000 })
			if err != nil || splits != nil {
				t.Errorf("with a limit of 6000 rows: %v, %v; want no splits", splits, err)
			}
		})
	}
}

// TestSplitKeysInPieces backfills, in waves, a large key whose rows all
// come after the other keys' in its file, so that pieces of the file
// (parsed apart, datafile.Splitter) hold nothing but the key's rows: a
// piece holding only context rows of a part, whose own rows are in
// other waves, must still reach the part.
func TestSplitKeysInPieces(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("id,card,shop,amount,ts\n")
	t0, t1 := int64(1_794_096_000_000), int64(1_794_096_000_000+10*86_400_000) // a day: 40,000 of the bot's rows
	const others, bot = 30_000, 400_000
	for i := range others {
		fmt.Fprintf(&b, "%d,c%d,s1,1.5,%d\n", i, i%50, t0+(t1-t0)*int64(i)/others)
	}
	for i := range int64(bot) {
		fmt.Fprintf(&b, "%d,bot,s%d,%d.%02d,%d\n", others+i, i%7, i%500, i%100, t0+(t1-t0)*i/bot)
	}
	path := filepath.Join(dir, "tx.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	prof := filepath.Join(dir, "prof.csv")
	if err := os.WriteFile(prof, []byte("card,lim,updated\nbot,100,1794096000000\nc1,50,1794096000000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	job := splitJob(t, splitViews["ranges and a point-in-time join"], []dataflow.Input{{Table: "tx", Path: path}, {Table: "prof", Path: prof}})
	job.Out = filepath.Join(dir, "whole.csv")
	want := backfillOnce(t, job)
	splits, err := dataflow.SplitKeys(context.Background(), job, func(int64) int64 { return 150_000 })
	if err != nil {
		t.Fatal(err)
	}
	if len(splits) != 1 || len(splits[0].Parts) < 3 {
		t.Fatalf("splits %+v: want the bot in 3 parts or more", splits)
	}
	job.Splits = splits
	job.Out = filepath.Join(dir, "waves.csv")
	if _, err := dataflow.RunWaves(context.Background(), job, 6, t.TempDir(), nil); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(job.Out); err != nil || !bytes.Equal(got, want) {
		t.Errorf("in parts, in 6 waves: the output differs from the whole key's (%v)", err)
	}
}

// TestWavesWithSplits: the parts of a large key weigh on the waves that
// hold them, so a budget that fits the input in 2 waves needs more when
// the bot, two thirds of the rows, is in parts.
func TestWavesWithSplits(t *testing.T) {
	dir := t.TempDir()
	job := splitJob(t, splitViews["rows frames and lag"], splitData(t, dir, 4000, 2000, 20))
	var size int64
	for _, in := range job.Inputs {
		info, err := os.Stat(in.Path)
		if err != nil {
			t.Fatal(err)
		}
		size += info.Size()
	}
	memory := int64(256<<20) + 12*size/2 // the memory model's: the input in 2 waves
	if w := dataflow.WavesFor(job, size, memory); w != 2 {
		t.Fatalf("WavesFor: %d waves, want 2", w)
	}
	splits, err := dataflow.SplitKeys(context.Background(), job, func(int64) int64 { return 500 })
	if err != nil {
		t.Fatal(err)
	}
	job.Splits = splits
	if w := dataflow.WavesWithSplits(job, size, 6000, memory); w <= 2 {
		t.Errorf("WavesWithSplits: %d waves for %d parts of up to 500 of 6,000 rows, want more than 2", w, len(splits[0].Parts))
	}
	if w := dataflow.WavesWithSplits(job, size, 6000, 0); w != 1 {
		t.Errorf("WavesWithSplits without a budget: %d waves, want 1", w)
	}
}
