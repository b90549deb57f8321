package verify

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/emulators"
	"github.com/fenestra-dev/fenestra/examples"
	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/functions"
	"github.com/fenestra-dev/fenestra/storage/bigtable"
)

// exampleData returns the cards example with n generated transactions,
// as replay tables, and the batch evaluator's training set for them.
func exampleData(t *testing.T, n int) (*examples.Example, *plan.Plan, map[string]*Table, *Table) {
	t.Helper()
	e, err := examples.Lookup("cards")
	if err != nil {
		t.Fatal(err)
	}
	// Recent data: the function of TestReplayHTTP enforces TTLs with the
	// wall clock.
	blocks, err := e.Generate(examples.Config{Rows: n, Seed: 3, Start: examples.DefaultStart(time.Now(), e.Days)})
	if err != nil {
		t.Fatal(err)
	}
	tables := map[string]*Table{}
	for name, b := range blocks {
		tb := &Table{Rows: b, Seqs: make([]uint64, b.Len)}
		for i := range tb.Seqs {
			tb.Seqs[i] = uint64(i + 2) // lines of a file with a header
		}
		tables[name] = tb
	}
	view := e.Module.Views[0]
	ev, err := eval.New(view)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ev.Batch(context.Background(), blocks)
	if err != nil {
		t.Fatal(err)
	}
	return e, view, tables, &Table{Rows: out}
}

func describe(i int) string { return "row " + string(rune('0'+i%10)) }

// TestReplayInProcess: the example replayed in process, in parallel by
// card, answers every request as the training set has it, its busy days
// compacted as they are read; an online
// definition with a 9-day window instead of 10 is caught, on that feature
// only.
func TestReplayInProcess(t *testing.T) {
	t.Parallel()
	e, view, tables, training := exampleData(t, 3000)
	ctx := context.Background()
	online, err := NewInProcess(ctx, e.Module, view.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer online.Close()
	var done atomic.Int64
	answers, err := Replay(ctx, online, view, tables, 4, 64, &done)
	if err != nil {
		t.Fatal(err)
	}
	if r := Compare(answers, training.Rows, describe); !r.OK() || r.Compared != 3000 || done.Load() != 3000 {
		var b strings.Builder
		r.Print(&b)
		t.Fatalf("%d requests done; report:\n%s", done.Load(), b.String())
	}
	// The busy card's days, stored a row at a time, were compacted as they
	// were read, and every answer is still the training row.
	if rows, segments := online.Compacted(); rows == 0 || segments < 8*rows {
		t.Errorf("the replay's store compacted %d day rows of %d segments; want some, of 8 segments or more each", rows, segments)
	}

	changed := strings.Replace(e.SQL, "w10d AS (PARTITION BY tx.card ORDER BY ts ROWS_RANGE BETWEEN 10d", "w10d AS (PARTITION BY tx.card ORDER BY ts ROWS_RANGE BETWEEN 9d", 1)
	mod, err := featurelang.Compile("changed.sql", changed, featurelang.Options{})
	if err != nil || changed == e.SQL {
		t.Fatalf("the changed definition: %v", err)
	}
	other, err := NewInProcess(ctx, mod, view.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	answers, err = Replay(ctx, other, view, tables, 2, 64, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := Compare(answers, training.Rows, describe)
	if r.OK() {
		t.Fatal("a 9-day window passed for a 10-day one")
	}
	for _, f := range r.Features {
		switch f.Name {
		case "spend_10d", "merchants_10d", "abroad_big_10d":
			if f.Mismatches == 0 || len(f.First) == 0 {
				t.Errorf("%s: %d mismatches: the 9-day window went unnoticed", f.Name, f.Mismatches)
			}
		case "tx_id", "tx_1h", "max_5m", "online_1h", "limit_share", "category":
			if f.Mismatches != 0 {
				t.Errorf("%s: %d mismatches, but its window did not change", f.Name, f.Mismatches)
			}
		}
	}
}

// TestReplayHTTP: the example replayed through a feature function over
// HTTP (fenestra serve's handler over a Bigtable emulator) answers every
// request as the training set has it.
func TestReplayHTTP(t *testing.T) {
	t.Parallel()
	e, view, tables, training := exampleData(t, 1500)
	ctx := context.Background()
	emu, stop, err := emulators.StartBigtable("")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	store, err := bigtable.Open(ctx, bigtable.Config{Project: "p", Instance: "i", EmulatorHost: emu})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.Init(ctx, e.Module.Tables); err != nil {
		t.Fatal(err)
	}
	// A generous deadline: what this test checks is the replay's answers,
	// and under the race detector and a loaded machine a call of 8 rows
	// can outlast the default 2 s.
	svc, err := functions.New(e.Module, store, functions.Options{Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(functions.NewServer(svc, functions.ServerOptions{}))
	defer srv.Close()
	online, err := NewHTTP(ctx, srv.URL, view.Name, "")
	if err != nil {
		t.Fatal(err)
	}
	if online.Version() != plan.Version(view) {
		t.Errorf("the function serves plan %s, the file's is %s", online.Version(), plan.Version(view))
	}
	answers, err := Replay(ctx, online, view, tables, 4, 8, nil) // a few rows a call, as --online sends few
	if err != nil {
		t.Fatal(err)
	}
	if r := Compare(answers, training.Rows, describe); !r.OK() || r.Compared != 1500 {
		var b strings.Builder
		r.Print(&b)
		t.Fatalf("report:\n%s", b.String())
	}
}
