package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/emulators"
	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/functions"
	"github.com/fenestra-dev/fenestra/storage/bigtable"
)

// TestSetupAndRun writes a small history to an emulator and runs a short
// load against a functions server on it. (Not parallel: it sets the
// environment.)
func TestSetupAndRun(t *testing.T) {
	addr, stop, err := emulators.StartBigtable("")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	t.Setenv("BIGTABLE_EMULATOR_HOST", addr)
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"setup", "--sql", "features.sql", "--keys", "20", "--history", "10", "--prefix", "load_"}, &out, &errOut); code != 0 {
		t.Fatalf("setup: %d\n%s%s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "wrote 200 rows of tx (20 cards × 10) to Bigtable table load_tx") {
		t.Errorf("setup said %s", out.String())
	}
	text, _ := os.ReadFile("features.sql")
	mod, err := featurelang.Compile("features.sql", string(text), featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	store, err := bigtable.Open(context.Background(), bigtable.Config{Project: "local", Instance: "local", Prefix: "load_"})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	svc, err := functions.New(mod, store, functions.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(functions.NewServer(svc, functions.ServerOptions{}))
	defer ts.Close()
	out.Reset()
	if code := run(context.Background(), []string{"run", "--target", ts.URL, "--rate", "200", "--duration", "500ms", "--keys", "20"}, &out, &errOut); code != 0 {
		t.Fatalf("run: %d\n%s%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{"100 requests in", "latency p50", "from schedule p50", "server time p50", "errors 0", "server RSS before"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("run said\n%s\nwant %q in it", out.String(), want)
		}
	}
	t.Log(out.String())

	// A soak: rows ingested meanwhile, a line per period. The ingested
	// rows are stored: the cards' history grows by them.
	out.Reset()
	if code := run(context.Background(), []string{"run", "--target", ts.URL, "--rate", "100", "--duration", "1s", "--keys", "20",
		"--ingest", "100", "--every", "300ms"}, &out, &errOut); code != 0 {
		t.Fatalf("run: %d\n%s%s", code, out.String(), errOut.String())
	}
	lines := strings.Split(out.String(), "\n")
	if !strings.HasPrefix(strings.TrimSpace(lines[0]), "elapsed") || len(strings.Fields(lines[1])) != 8 {
		t.Errorf("no soak lines:\n%s", out.String())
	}
	var ingested int
	for _, l := range lines {
		if rest, ok := strings.CutPrefix(l, "ingested "); ok {
			ingested, _ = strconv.Atoi(strings.Fields(rest)[0])
			if !strings.Contains(l, "(0 calls failed)") {
				t.Errorf("ingest failed: %s", l)
			}
		}
	}
	if ingested < 50 {
		t.Errorf("ingested %d rows in a second at 100/s:\n%s", ingested, out.String())
	}
	stored, err := store.Scan(context.Background(), eval.Query{Table: "tx"})
	if err != nil {
		t.Fatal(err)
	}
	if stored.Len != 200+ingested {
		t.Errorf("%d rows stored, want the 200 of setup and the %d ingested", stored.Len, ingested)
	}
	t.Log(out.String())
}

// TestServerTotal reads the total of Server-Timing headers.
func TestServerTotal(t *testing.T) {
	for _, c := range []struct {
		header string
		want   time.Duration
	}{
		{"storage;dur=0.412, total;dur=0.735", 735 * time.Microsecond},
		{"total;dur=12", 12 * time.Millisecond},
		{`total;desc="all";dur=1.5`, 1500 * time.Microsecond},
		{"db;dur=3", -1},
		{"total", -1},
		{"total;dur=abc", -1},
		{"total;dur=-1", -1},
		{"", -1},
	} {
		if got := serverTotal(c.header); got != c.want {
			t.Errorf("serverTotal(%q) = %v, want %v", c.header, got, c.want)
		}
	}
}

// TestNoop runs a short load against the no-op server's handler, and the
// command itself until interrupted.
func TestNoop(t *testing.T) {
	ts := httptest.NewServer(noopHandler())
	defer ts.Close()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"run", "--target", ts.URL, "--rate", "200", "--duration", "250ms"}, &out, &errOut); code != 0 {
		t.Fatalf("run: %d\n%s%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{"50 requests in", "errors 0", "server RSS before"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("run said\n%s\nwant %q in it", out.String(), want)
		}
	}
	if strings.Contains(out.String(), "server time") {
		t.Errorf("run reports a server time the no-op server does not give:\n%s", out.String())
	}
	// The server's CPU time, from /proc: here the test's own process.
	out.Reset()
	if code := run(context.Background(), []string{"run", "--target", ts.URL, "--rate", "200", "--duration", "250ms", "--server-pid", strconv.Itoa(os.Getpid())}, &out, &errOut); code != 0 {
		t.Fatalf("run --server-pid: %d\n%s%s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "server CPU (process "+strconv.Itoa(os.Getpid())+", /proc utime+stime): ") || !strings.Contains(out.String(), "µs per request") {
		t.Errorf("run --server-pid said\n%s", out.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	out.Reset()
	go func() { done <- run(ctx, []string{"noop", "--addr", "127.0.0.1:0"}, &out, &errOut) }()
	time.Sleep(100 * time.Millisecond)
	cancel()
	if code := <-done; code != 0 || !strings.Contains(out.String(), "no-op server on http://127.0.0.1:") {
		t.Errorf("noop: %d, said %q %q", code, out.String(), errOut.String())
	}
}

// TestParseStatCPU reads utime and stime of /proc/PID/stat, whatever the
// command name holds.
func TestParseStatCPU(t *testing.T) {
	stat := "1234 (a (weird) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 8 0 100 0 0"
	if got, err := parseStatCPU(stat); err != nil || got != 3*time.Second {
		t.Errorf("parseStatCPU = %v, %v; want 3s (250+50 ticks)", got, err)
	}
	for _, bad := range []string{"", "1234 (x) S 1", "1234 (x) S 1 1 1 0 -1 0 0 0 0 0 x y"} {
		if _, err := parseStatCPU(bad); err == nil {
			t.Errorf("parseStatCPU(%q) did not fail", bad)
		}
	}
	if _, err := processCPU(os.Getpid()); err != nil {
		t.Errorf("processCPU of the test: %v", err)
	}
}
