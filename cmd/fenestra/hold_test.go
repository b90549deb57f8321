package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/fenestra-dev/fenestra/emulators"
	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/producer"
	"github.com/fenestra-dev/fenestra/internal/records"
	"github.com/fenestra-dev/fenestra/storage"
	"github.com/fenestra-dev/fenestra/storage/bigtable"
)

// TestServeFollow serves a table held in memory (--follow): what Bigtable
// held at start, where fenestra stream had committed its offsets, joined
// with the topic's records from those offsets on, each row once; records
// produced while serving, and rows written through the server, are seen
// by the next request; and the store is not ready until caught up.
// (Not parallel: it sets the environment.)
func TestServeFollow(t *testing.T) {
	brokers := startEmulators(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	mod, store := okStore(t, ctx, "follow_")
	tx := mod.Tables[0]
	const t0 = int64(1714528800000)
	row := func(id int64, card string, amount float64, ts int64) []types.Value {
		return []types.Value{types.Int64Value(id), types.StringValue(card), types.DoubleValue(amount), types.TimestampValue(ts)}
	}
	// Three records: the stream has written the first two to Bigtable,
	// beside a loaded row, and committed offset 1 (it may commit less
	// than it wrote), so the follower reads offset 1 again.
	prod, err := producer.New(brokers, "tx-topic", tx)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	recs := prod.Records(types.BlockOf(tx.Schema, [][]types.Value{row(1, "c1", 1, t0+1000), row(2, "c1", 2, t0+2000), row(3, "c1", 4, t0+3000)}), 0, 3)
	if err := prod.Send(ctx, recs); err != nil {
		t.Fatal(err)
	}
	written := types.BlockOf(tx.Schema, [][]types.Value{row(0, "c1", 10, t0), row(1, "c1", 1, t0+1000), row(2, "c1", 2, t0+2000)})
	seqs := []uint64{7, seqOf(t, recs[0]), seqOf(t, recs[1])}
	if err := store.Write(ctx, "tx", written, seqs); err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var commit kadm.Offsets
	commit.AddOffset("tx-topic", 0, 1, -1)
	if _, err := kadm.NewClient(cl).CommitOffsets(ctx, "fenestra-stream", commit); err != nil {
		t.Fatal(err)
	}

	var out, errOut syncBuffer
	done := make(chan int)
	go func() {
		done <- runServe(ctx, []string{"--sql", "testdata/ok.sql", "--addr", "127.0.0.1:0", "--prefix", "follow_", "--console=false",
			"--follow", "tx=tx-topic", "--brokers", brokers}, &out, &errOut)
	}()
	base := waitServing(t, regexp.MustCompile(`serving 1 views of testdata/ok.sql on (http://127\.0\.0\.1:\d+)`), &out, &errOut, done)
	waitFor(t, "ready", func() (bool, string) {
		code, body := call(t, "GET", base+"/readyz", "")
		return code == 200, body
	})
	waitFor(t, "the caught-up line", func() (bool, string) {
		return strings.Contains(out.String(), "caught up with the topics of tx (4 rows held)"), out.String()
	})
	if _, body := call(t, "GET", base+"/metrics", ""); !strings.Contains(body, "fenestra_held_rows 4") ||
		!strings.Contains(body, "fenestra_follow_rows_applied_total 2") || !strings.Contains(body, `fenestra_follow_lag_records{partition="0",topic="tx-topic"} 0`) {
		t.Errorf("metrics:\n%s\nwant 4 rows held, 2 applied (offsets 1 and 2), no lag", body)
	}
	compute := func(id int64, card string, ts int64) string {
		_, body := call(t, "POST", base+"/v1/views/spend:compute", `{"rows": [[`+itoa(id)+`, "`+card+`", 0.5, `+itoa(ts)+`]]}`)
		return body
	}
	// 10 + 1 + 2 from Bigtable, 4 from the topic, offset 1 once; and the
	// request's own 0.5.
	if got := compute(9, "c1", t0+4000); !strings.Contains(got, `"rows":[[9,17.5]]`) {
		t.Errorf("compute: %s, want 17.5", got)
	}
	// Bigtable itself has not the third record: the answer came from memory.
	if b, err := store.Read(ctx, storage.Range{Table: "tx", Keys: []string{"card"}, Values: []types.Value{types.StringValue("c1")}, TS: "ts", From: 0, To: t0 + 10000}); err != nil || b.Len != 3 {
		t.Fatalf("Bigtable holds %v rows of c1 (%v), want 3", b.Len, err)
	}
	// A record produced while serving.
	if err := prod.Send(ctx, prod.Records(types.BlockOf(tx.Schema, [][]types.Value{row(4, "c1", 100, t0+5000)}), 0, 1)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new record", func() (bool, string) {
		got := compute(10, "c1", t0+6000)
		return strings.Contains(got, `"rows":[[10,117.5]]`), got
	})
	// Rows written through the server go to Bigtable and to memory.
	if code, body := call(t, "PUT", base+"/v1/tables/tx/rows", `{"rows": [[20, "c2", 3, `+itoa(t0)+`]]}`); code != 200 {
		t.Fatalf("PUT: %d %s", code, body)
	}
	if got := compute(21, "c2", t0+1000); !strings.Contains(got, `"rows":[[21,3.5]]`) {
		t.Errorf("compute after PUT: %s, want 3.5", got)
	}
	cancel()
	waitStopped(t, &out, &errOut, done)
}

// okStore compiles testdata/ok.sql and opens a store on the emulator
// BIGTABLE_EMULATOR_HOST names, with its tables created under prefix.
func okStore(t *testing.T, ctx context.Context, prefix string) (*featurelang.Module, *bigtable.Store) {
	t.Helper()
	text, err := os.ReadFile("testdata/ok.sql")
	if err != nil {
		t.Fatal(err)
	}
	mod, err := featurelang.Compile("ok.sql", string(text), featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	store, err := bigtable.Open(ctx, bigtable.Config{Project: "local", Instance: "local", Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Init(ctx, mod.Tables); err != nil {
		t.Fatal(err)
	}
	return mod, store
}

// startEmulators starts a Bigtable emulator, named by
// BIGTABLE_EMULATOR_HOST for the test, and a Kafka emulator of one
// partition per topic, whose address it returns.
func startEmulators(t *testing.T) string {
	t.Helper()
	btAddr, stopBT, err := emulators.StartBigtable("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stopBT)
	t.Setenv("BIGTABLE_EMULATOR_HOST", btAddr)
	brokers, stopKafka, err := emulators.StartKafka("", 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stopKafka)
	return brokers
}

// seqOf is the sequence number fenestra stream gives a produced record.
func seqOf(t *testing.T, r *kgo.Record) uint64 {
	t.Helper()
	seq, err := records.Seq(r.Partition, r.Offset)
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

// call sends a request and returns the answer's status and body.
func call(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitFor polls cond for up to 15 s.
func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		ok, got := cond()
		if ok {
			return
		}
		last = got
	}
	t.Fatalf("waiting for %s: last answer %s", what, last)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestVerifyOnlineHeld replays the cards example through fenestra serve
// --follow with every table held in memory (their topics empty, so the
// rows come through the server: the other tables loaded with PUT, each
// request stored after its answer) and finds every answer equal to the
// training set. (Not parallel: it sets the environment.)
func TestVerifyOnlineHeld(t *testing.T) {
	dir := t.TempDir()
	if code, out, errOut := runCmd("gen", "--rows", "1500", "--out", dir); code != 0 {
		t.Fatalf("gen: %d\n%s%s", code, out, errOut)
	}
	brokers := startEmulators(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopics(context.Background(), 1, 1, nil, "tx", "cards", "merchants"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sql := filepath.Join(dir, "features.sql")
	var out, errOut syncBuffer
	done := make(chan int)
	go func() {
		done <- runServe(ctx, []string{"--sql", sql, "--addr", "127.0.0.1:0", "--init", "--prefix", "held_", "--console=false",
			"--follow", "tx=tx", "--follow", "cards=cards", "--follow", "merchants=merchants", "--brokers", brokers}, &out, &errOut)
	}()
	base := waitServing(t, regexp.MustCompile(`serving \d+ views of .* on (http://127\.0\.0\.1:\d+)`), &out, &errOut, done)
	waitFor(t, "ready", func() (bool, string) {
		code, body := call(t, "GET", base+"/readyz", "")
		return code == 200, body
	})
	args := []string{"verify", "--sql", sql, "--online", base}
	for _, tb := range []string{"tx", "cards", "merchants"} {
		args = append(args, "--table", tb+"="+filepath.Join(dir, tb+".csv"))
	}
	code, vout, verr := runCmd(args...)
	if code != 0 || !strings.Contains(vout, "online == offline: 1500 of 1500 rows identical") {
		t.Fatalf("verify --online through the held tables: exit code %d\nstdout:\n%s\nstderr:\n%s", code, vout, verr)
	}
	if _, body := call(t, "GET", base+"/metrics", ""); !strings.Contains(body, "fenestra_held_rows ") || strings.Contains(body, "fenestra_held_rows 0\n") {
		t.Errorf("metrics:\n%s\nwant the rows verify stored held", body)
	}
	cancel()
	waitStopped(t, &out, &errOut, done)
}

// TestServeFollowStored serves stored deployments (no --sql) with their
// table held in memory: a record of the topic, which Bigtable lacks, is
// in the answers of a deployment served at start and of one stored while
// serving. (Not parallel: it sets the environment.)
func TestServeFollowStored(t *testing.T) {
	brokers := startEmulators(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	mod, store := okStore(t, ctx, "heldstored_")
	tx := mod.Tables[0]
	const t0 = int64(1714528800000)
	row := func(id int64, amount float64, ts int64) []types.Value {
		return []types.Value{types.Int64Value(id), types.StringValue("c1"), types.DoubleValue(amount), types.TimestampValue(ts)}
	}
	if err := store.Write(ctx, "tx", types.BlockOf(tx.Schema, [][]types.Value{row(1, 10, t0)}), []uint64{1}); err != nil {
		t.Fatal(err)
	}
	prod, err := producer.New(brokers, "tx-topic", tx)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	if err := prod.Send(ctx, prod.Records(types.BlockOf(tx.Schema, [][]types.Value{row(2, 4, t0+500)}), 0, 1)); err != nil {
		t.Fatal(err)
	}
	deploy := func(name string) {
		t.Helper()
		p := mod.Views[0]
		p.DB, p.Name = "demo", name
		d, err := storage.NewDeployment("DEPLOY "+name+" ...", p)
		if err != nil {
			t.Fatal(err)
		}
		if err := store.PutDeployment(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	deploy("spend")

	var out, errOut syncBuffer
	done := make(chan int)
	go func() {
		done <- runServe(ctx, []string{"--addr", "127.0.0.1:0", "--prefix", "heldstored_", "--poll", "50ms", "--console=false",
			"--follow", "tx=tx-topic", "--brokers", brokers}, &out, &errOut)
	}()
	base := waitServing(t, regexp.MustCompile(`serving 1 stored deployments \(listed every 50ms\) on (http://127\.0\.0\.1:\d+)`), &out, &errOut, done)
	waitFor(t, "ready", func() (bool, string) {
		code, body := call(t, "GET", base+"/readyz", "")
		return code == 200, body
	})
	request := `{"rows": [[3, "c1", 5, ` + itoa(t0+1000) + `]]}`
	// 10 from Bigtable, 4 from the topic, 5 the request's own.
	if code, body := call(t, "POST", base+"/v1/views/demo.spend:compute", request); code != 200 || !strings.Contains(body, `"rows":[[3,19]]`) {
		t.Errorf("compute: %d %s, want 19", code, body)
	}
	deploy("later")
	waitFor(t, "the deployment stored while serving", func() (bool, string) {
		code, body := call(t, "POST", base+"/v1/views/demo.later:compute", request)
		return code == 200 && strings.Contains(body, `"rows":[[3,19]]`), body
	})
	cancel()
	waitStopped(t, &out, &errOut, done)
}
