package dataflow_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/dataflow"
	"github.com/fenestra-dev/fenestra/examples"
)

// raceEnabled is set (race_test.go) under the race detector, which slows
// the pipeline tenfold: TestBigKey then runs at a tenth of its size.
var raceEnabled = false

// TestBigKey backfills the cards example's view over a card with
// 5,000,000 transactions over a year (a bot) beside 500,000 of 5,000
// other cards, with at most 1,000,000 rows of a key in one evaluation:
// the bot is cut into parts, no evaluation holds more than the limit, and
// the training set is byte for byte that of the bot evaluated whole.
func TestBigKey(t *testing.T) {
	bot, others, limit := 5_000_000, 500_000, int64(1_000_000)
	if raceEnabled {
		bot, others, limit = bot/10, others/10, limit/10
	}
	dir := t.TempDir()
	ex, err := examples.Lookup("cards")
	if err != nil {
		t.Fatal(err)
	}
	job := dataflow.BackfillJob{Buckets: 16, Inputs: bigKeyData(t, dir, bot, others)}
	for _, v := range ex.Module.Views {
		if v.Name == ex.View {
			job.View = v
		}
	}

	job.Out = filepath.Join(dir, "whole.csv")
	dataflow.Progress.MaxEvaluated.Store(0)
	want := backfillOnce(t, job)
	if m := dataflow.Progress.MaxEvaluated.Load(); m < int64(bot) {
		t.Fatalf("evaluated whole, the largest evaluation held %d rows, fewer than the bot's %d", m, bot)
	}

	splits, err := dataflow.SplitKeys(context.Background(), job, func(int64) int64 { return limit })
	if err != nil {
		t.Fatal(err)
	}
	if len(splits) != 1 || splits[0].Key != "card=bot" || splits[0].Rows != int64(bot) || len(splits[0].Cuts) < 4 {
		t.Fatalf("splits %+v: want the bot's %d rows in 5 parts or more", splits, bot)
	}
	job.Splits = splits
	job.Out = filepath.Join(dir, "parts.csv")
	dataflow.Progress.MaxEvaluated.Store(0)
	if _, err := dataflow.RunWaves(context.Background(), job, 6, t.TempDir(), nil); err != nil {
		t.Fatal(err)
	}
	if m := dataflow.Progress.MaxEvaluated.Load(); m > limit {
		t.Errorf("in parts, an evaluation held %d rows, over the limit of %d", m, limit)
	}
	got, err := os.ReadFile(job.Out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("in %d parts, the training set (%d bytes) differs from the bot evaluated whole (%d bytes)", len(splits[0].Cuts)+1, len(got), len(want))
	}
	t.Logf("the bot's %d rows in %d parts; the largest evaluation held %d rows", bot, len(splits[0].Cuts)+1, dataflow.Progress.MaxEvaluated.Load())
}

// bigKeyData writes the cards example's tables as CSV in dir: bot
// transactions of the card "bot" and others of 5,000 other cards, in
// time order over a year, the cards' profiles (a few versions each) and
// 100 merchants.
func bigKeyData(t *testing.T, dir string, bot, others int) []dataflow.Input {
	t.Helper()
	r := rand.New(rand.NewPCG(5, 6))
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	const year = 365 * 86_400_000
	const cards = 5000
	write := func(name string, fill func(w *bufio.Writer)) dataflow.Input {
		path := filepath.Join(dir, name+".csv")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		w := bufio.NewWriterSize(f, 1<<20)
		fill(w)
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		return dataflow.Input{Table: name, Path: path}
	}
	countries := []string{"FR", "DE", "US", ""}
	tx := write("tx", func(w *bufio.Writer) {
		w.WriteString("tx_id,card,merchant,country,amount,ts\n")
		var line []byte
		n := bot + others
		for i := range n {
			line = strconv.AppendInt(line[:0], int64(i), 10)
			if (i+1)*bot/n > i*bot/n { // exactly bot of them, evenly spread
				line = append(line, ",bot,"...)
			} else {
				line = fmt.Appendf(line, ",c%d,", r.IntN(cards))
			}
			line = fmt.Appendf(line, "m%d,%s,", r.IntN(120), countries[r.IntN(len(countries))])
			if r.IntN(100) > 0 {
				line = strconv.AppendFloat(line, float64(r.IntN(50_000))/100, 'f', -1, 64)
			}
			line = append(line, ',')
			line = strconv.AppendInt(line, start+year*int64(i)/int64(n)/1000*1000, 10)
			line = append(line, '\n')
			w.Write(line)
		}
	})
	profiles := write("cards", func(w *bufio.Writer) {
		w.WriteString("card,home,credit_limit,updated\n")
		for v := range 12 {
			fmt.Fprintf(w, "bot,%s,%d,%d\n", countries[v%3], 1000*(v+1), start+year*int64(v)/12)
		}
		for c := range cards {
			fmt.Fprintf(w, "c%d,%s,%d,%d\n", c, countries[c%3], 500+c, start+int64(c)*60_000)
		}
	})
	merchants := write("merchants", func(w *bufio.Writer) {
		w.WriteString("merchant,category\n")
		for m := range 100 {
			fmt.Fprintf(w, "m%d,%s\n", m, [...]string{"online", "grocery", "travel", ""}[m%4])
		}
	})
	return []dataflow.Input{tx, profiles, merchants}
}
