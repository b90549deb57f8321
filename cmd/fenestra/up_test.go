package main

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/emulators"
	"github.com/fenestra-dev/fenestra/examples"
	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/functions"
	"github.com/fenestra-dev/fenestra/internal/rowcsv"
	"github.com/fenestra-dev/fenestra/storage/bigtable"
	"github.com/fenestra-dev/fenestra/verify"
)

// TestUp runs fenestra up once on a small example: it generates, loads,
// backfills, serves, and answers its own printed request with the busiest
// card's history.
func TestUp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	code, out, errOut := runCmd("up", "--rows", "3000", "--once", "--addr", "127.0.0.1:0", "--dir", dir)
	if code != 0 {
		t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"materialize: ", "rows written to the Bigtable emulator",
		"backfill: ", "3000 rows written to " + filepath.Join(dir, "cards", "train.csv"),
		"curl -s -X POST http://127.0.0.1:", "/v1/views/card_features:compute", "console: http://127.0.0.1:",
		"answered:", "spend_10d", "fenestra verify --sql " + filepath.Join(dir, "cards", "features.sql"),
		"streaming: Kafka emulator at 127.0.0.1:", "new transactions streamed in (",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	// The busiest card has history: its 10-day count of merchants is more
	// than the request's own.
	if !strings.Contains(out, "merchants_10d") || strings.Contains(out, "merchants_10d      int64    1\n") {
		t.Errorf("the request found no history:\n%s", out)
	}
	// Half the streamed transactions are the busiest card's: its hour's
	// count moves.
	if m := regexp.MustCompile(`streamed in \(([^)]*) moved\)`).FindStringSubmatch(out); m == nil || !strings.Contains(m[1], "tx_1h") {
		t.Errorf("the second answer does not show tx_1h moved:\n%s", out)
	}
	train, err := os.ReadFile(filepath.Join(dir, "cards", "train.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(train), "\n"); lines != 3001 {
		t.Errorf("train.csv has %d lines, want a header and 3000 rows", lines)
	}
}

// TestGen writes an example twice with one seed and once with another:
// the same files, then others.
func TestGen(t *testing.T) {
	t.Parallel()
	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	seeds := []string{"7", "7", "8"}
	for i, dir := range dirs {
		code, out, errOut := runCmd("gen", "--rows", "2000", "--seed", seeds[i], "--start", "2024-05-01", "--out", dir)
		if code != 0 || !strings.Contains(out, "tx.csv (2000 rows of tx)") || !strings.Contains(out, "from 2024-05-01") {
			t.Fatalf("gen: exit code %d\n%s%s", code, out, errOut)
		}
	}
	read := func(dir, name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, f := range []string{"features.sql", "tx.csv", "cards.csv", "merchants.csv"} {
		if read(dirs[0], f) != read(dirs[1], f) {
			t.Errorf("%s differs between two runs of one seed", f)
		}
	}
	if read(dirs[0], "tx.csv") == read(dirs[2], "tx.csv") {
		t.Error("two seeds wrote the same transactions")
	}
	if !strings.HasPrefix(read(dirs[0], "tx.csv"), "tx_id,card,merchant,country,amount,ts\n1,") {
		t.Errorf("tx.csv starts %q", read(dirs[0], "tx.csv")[:60])
	}
	// --format parquet writes the same rows as Parquet.
	pq := t.TempDir()
	if code, out, errOut := runCmd("gen", "--rows", "2000", "--seed", "7", "--start", "2024-05-01", "--out", pq, "--format", "parquet"); code != 0 ||
		!strings.Contains(out, "tx.parquet (2000 rows of tx)") {
		t.Fatalf("gen --format parquet: exit code %d\n%s%s", code, out, errOut)
	}
	e, err := examples.Lookup("cards")
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range e.Module.Tables {
		a, errA := verify.ReadTable(tb.Schema, []string{filepath.Join(dirs[0], tb.Name+".csv")})
		b, errB := verify.ReadTable(tb.Schema, []string{filepath.Join(pq, tb.Name+".parquet")})
		if errA != nil || errB != nil || rowcsv.Format(a.Rows) != rowcsv.Format(b.Rows) {
			t.Errorf("%s: the Parquet file's rows differ from the CSV file's (%v, %v)", tb.Name, errA, errB)
		}
	}
	if code, _, errOut := runCmd("gen", "--out", dirs[0], "--start", "May 1"); code != 2 || !strings.Contains(errOut, "want YYYY-MM-DD") {
		t.Errorf("a bad --start: exit code %d, %s", code, errOut)
	}
}

// TestUpStopsOnInterrupt: without --once, up serves until its context
// ends (Ctrl-C), answering the curl it printed, then stops cleanly,
// exiting 0.
func TestUpStopsOnInterrupt(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"up", "--rows", "500", "--addr", "127.0.0.1:0", "--dir", t.TempDir()}, &out, &errOut)
	}()
	for deadline := time.Now().Add(60 * time.Second); !strings.Contains(out.String(), "Serving until Ctrl-C."); time.Sleep(20 * time.Millisecond) {
		select {
		case code := <-done:
			t.Fatalf("up exited with %d before serving\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("up did not start serving\nstdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
		}
	}
	// The printed curl works against the running function.
	m := regexp.MustCompile(`curl -s -X POST (\S+) \\\n\s+-d '([^']+)'`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no curl in the output:\n%s", out.String())
	}
	answer, err := post(context.Background(), m[1], []byte(m[2]))
	if err != nil || !strings.Contains(answer, `"view":"card_features"`) || !strings.Contains(answer, `"rows":[[`) {
		t.Errorf("the printed curl: %s, %v", answer, err)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 || !strings.HasSuffix(out.String(), "stopped\n") {
			t.Errorf("exit code %d, stdout ends %q", code, out.String()[max(0, len(out.String())-40):])
		}
	case <-time.After(15 * time.Second):
		t.Fatal("up did not stop")
	}
}

// TestVerify runs fenestra verify on generated data: zero mismatches, then
// a deliberately different online definition (a 9-day window for the
// 10-day one) is caught, exiting 1.
func TestVerify(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if code, out, errOut := runCmd("gen", "--rows", "2000", "--out", dir); code != 0 {
		t.Fatalf("gen: %d\n%s%s", code, out, errOut)
	}
	args := []string{"verify", "--sql", filepath.Join(dir, "features.sql")}
	for _, tb := range []string{"tx", "cards", "merchants"} {
		args = append(args, "--table", tb+"="+filepath.Join(dir, tb+".csv"))
	}
	code, out, errOut := runCmd(args...)
	if code != 0 || !strings.Contains(out, "online == offline: 2000 of 2000 rows identical") || !strings.Contains(out, "replay: 2000 requests in process") {
		t.Fatalf("verify: exit code %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	sql, err := os.ReadFile(filepath.Join(dir, "features.sql"))
	if err != nil {
		t.Fatal(err)
	}
	changed := filepath.Join(dir, "changed.sql")
	if err := os.WriteFile(changed, []byte(strings.Replace(string(sql), "BETWEEN 10d PRECEDING", "BETWEEN 9d PRECEDING", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCmd(append(args, "--online-sql", changed)...)
	if code != 1 || !strings.Contains(out, "online != offline") {
		t.Fatalf("verify of a changed definition: exit code %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 3 && f[0] == "spend_10d" && f[3] == "0" {
			t.Errorf("spend_10d shows no mismatch: %s", line)
		}
	}
}

// TestVerifyOnline runs fenestra verify --online against running feature
// functions: one serving the file's definition (zero mismatches), one a
// changed one (a warning that the plans differ, and exit code 1).
func TestVerifyOnline(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if code, out, errOut := runCmd("gen", "--rows", "1500", "--out", dir); code != 0 {
		t.Fatalf("gen: %d\n%s%s", code, out, errOut)
	}
	sql, err := os.ReadFile(filepath.Join(dir, "features.sql"))
	if err != nil {
		t.Fatal(err)
	}
	serve := func(text string) string {
		mod, err := featurelang.Compile("features.sql", text, featurelang.Options{})
		if err != nil {
			t.Fatal(err)
		}
		emu, stop, err := emulators.StartBigtable("")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(stop)
		store, err := bigtable.Open(context.Background(), bigtable.Config{Project: "p", Instance: "i", EmulatorHost: emu})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		if err := store.Init(context.Background(), mod.Tables); err != nil {
			t.Fatal(err)
		}
		svc, err := functions.New(mod, store, functions.Options{})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(functions.NewServer(svc, functions.ServerOptions{}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	args := []string{"verify", "--sql", filepath.Join(dir, "features.sql")}
	for _, tb := range []string{"tx", "cards", "merchants"} {
		args = append(args, "--table", tb+"="+filepath.Join(dir, tb+".csv"))
	}
	same := serve(string(sql))
	code, out, errOut := runCmd(append(args, "--online", same)...)
	if code != 0 || !strings.Contains(out, "replay: 1500 requests through "+same) || !strings.Contains(out, "online == offline: 1500 of 1500 rows identical") {
		t.Fatalf("verify --online: exit code %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	changed := serve(strings.Replace(string(sql), "BETWEEN 1h PRECEDING", "BETWEEN 2h PRECEDING", 1))
	code, out, errOut = runCmd(append(args, "--online", changed)...)
	if code != 1 || !strings.Contains(out, "the definitions differ") || !strings.Contains(out, "online != offline") {
		t.Fatalf("verify --online of a changed function: exit code %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}
