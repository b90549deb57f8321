package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/fenestra-dev/fenestra/console"
	"github.com/fenestra-dev/fenestra/dataflow"
	"github.com/fenestra-dev/fenestra/emulators"
	"github.com/fenestra-dev/fenestra/examples"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/functions"
	"github.com/fenestra-dev/fenestra/internal/datafile"
	"github.com/fenestra-dev/fenestra/storage/bigtable"
	"github.com/fenestra-dev/fenestra/verify"
)

// upConfig is what fenestra up was asked to do.
type upConfig struct {
	example, addr, dir string
	rows               int
	seed               uint64
	once, verbose      bool
}

// runUp runs fenestra up: the whole system on one machine, on an
// example.
func runUp(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("up", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c upConfig
	fs.StringVar(&c.example, "example", "cards", "the example ("+strings.Join(examples.Names(), ", ")+")")
	fs.StringVar(&c.addr, "addr", ":8080", "the address the feature function listens on")
	fs.IntVar(&c.rows, "rows", 100_000, "rows of the example's main table (cards: transactions)")
	fs.Uint64Var(&c.seed, "seed", 1, "the seed of the generated data")
	fs.StringVar(&c.dir, "dir", filepath.Join(os.TempDir(), "fenestra-up"), "the directory for the data and the training set (a folder per example)")
	fs.BoolVar(&c.once, "once", false, "stop after answering the printed request, instead of serving until interrupted")
	fs.BoolVar(&c.verbose, "v", false, "log the Beam runner's messages")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: fenestra up [--example NAME] [--addr :8080] [--rows N] [flags]

Runs the whole system on this machine: it generates an example's data,
starts a Bigtable emulator in process, loads the data into it with the Beam
pipeline (materialize, on prism), writes the training set with the same
views (backfill), serves the views over HTTP, and prints a request to try.
Ctrl-C stops everything.

flags:`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if c.rows < 1 || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	if err := up(ctx, c, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "fenestra up: %v\n", err)
		return 1
	}
	return 0
}

func up(ctx context.Context, c upConfig, stdout, stderr io.Writer) error {
	e, err := examples.Lookup(c.example)
	if err != nil {
		return err
	}
	view, err := pickView(e.Module, e.View, e.Path)
	if err != nil {
		return err
	}
	dir := filepath.Join(c.dir, e.Name)
	fmt.Fprintf(stdout, "fenestra up: example %s, %d rows, in %s\n\n", e.Name, c.rows, dir)
	cfg, err := exampleConfig(e, c.rows, c.seed, "")
	if err != nil {
		return err
	}
	ef, err := writeExampleFiles(e, cfg, dir, "csv")
	if err != nil {
		return err
	}
	for _, t := range ef.Tables {
		fmt.Fprintf(stdout, "data: %d rows of %s in %s\n", t.Rows, t.Table, t.Path)
	}
	emu, stopEmu, err := emulators.StartBigtable("")
	if err != nil {
		return err
	}
	defer stopEmu()
	fmt.Fprintf(stdout, "bigtable: emulator at %s\n", emu)
	target := dataflow.BigtableTarget{Project: "local", Instance: "local", Prefix: bigtable.DefaultPrefix, EmulatorHost: emu}
	if err := initTables(ctx, target, e.Module.Tables); err != nil {
		return err
	}
	initBeam(stderr, c.verbose)
	inputs := make([]dataflow.Input, len(ef.Tables))
	for i, t := range ef.Tables {
		inputs[i] = dataflow.Input{Table: t.Table, Path: t.Path}
	}
	p, s := beam.NewPipelineWithRoot()
	if _, err := dataflow.Materialize(s, dataflow.MaterializeJob{Tables: e.Module.Tables, Inputs: inputs, Target: target}); err != nil {
		return err
	}
	if err := execPipeline(ctx, "materialize", p, "to the Bigtable emulator", stdout, stderr); err != nil {
		return fmt.Errorf("materialize: %w", err)
	}
	train := filepath.Join(dir, "train.csv")
	p, s = beam.NewPipelineWithRoot()
	if _, err := dataflow.Backfill(s, dataflow.BackfillJob{View: view, Inputs: inputs, Out: train}); err != nil {
		return err
	}
	if err := execPipeline(ctx, "backfill", p, "to "+train, stdout, stderr); err != nil {
		return fmt.Errorf("backfill: %w", err)
	}
	return serveExample(ctx, c, e, view, ef, emu, train, stdout, stderr)
}

// serveExample serves the example's views over the emulator, prints a
// request for a real key and its answer, and serves until ctx is done
// (or, with c.once, returns).
func serveExample(ctx context.Context, c upConfig, e *examples.Example, view *plan.Plan, ef *exampleFiles, emu, train string, stdout, stderr io.Writer) error {
	store, err := bigtable.Open(ctx, bigtable.Config{Project: "local", Instance: "local", EmulatorHost: emu})
	if err != nil {
		return err
	}
	defer store.Close()
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	svc, err := functions.New(e.Module, store, functions.Options{Logger: log})
	if err != nil {
		return err
	}
	rq, err := exampleRequest(e, view, ef)
	if err != nil {
		return err
	}
	body, key := rq.body, rq.key
	con := console.New(console.Options{Store: store, SQL: console.FileSQL(e.Path, e.SQL), Keys: []string{key},
		Metrics: []prometheus.Gatherer{dataflow.StreamMetrics}, Logger: log})
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: functions.NewServer(svc, functions.ServerOptions{Logger: log, Routes: con.Routes()}), ReadHeaderTimeout: 10 * time.Second}
	srv := startHTTP(hs, ln)
	defer hs.Close()
	base := "http://" + hostPort(ln.Addr())
	fmt.Fprintf(stdout, "serving: %s (plan %s) on %s\n", view.Name, plan.Version(view), base)
	fmt.Fprintf(stdout, "console: %s/ (deployments, a request to try, %s %s over time, live latency and freshness)\n\n", base, e.Key, key)
	url := base + "/v1/views/" + view.Name + ":compute"
	answer, err := post(ctx, url, body)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "The training set is %s: a row per transaction, the features as of its time.\n\n", train)
	fmt.Fprintf(stdout, "Features for %s %s now, online (the request is a new transaction, the history is in Bigtable):\n\n", e.Key, key)
	fmt.Fprintf(stdout, "  curl -s -X POST %s \\\n    -d '%s'\n\n", url, body)
	fmt.Fprintf(stdout, "answered:\n\n%s\n", describeAnswer(answer))

	ls, err := startLiveStream(ctx, view, rq.table, rq.rows, rq.keyValue, rq.keyCol, rq.maxTS, rq.maxID+1_000_000, emu, stdout)
	if err != nil {
		return fmt.Errorf("streaming: %w", err)
	}
	defer ls.stop()
	select {
	case <-ctx.Done():
		return nil
	case <-time.After(liveWait):
	}
	n, err := ls.caughtUp(ctx)
	if err != nil {
		return err
	}
	again, err := post(ctx, url, body)
	if err != nil {
		return err
	}
	changed := "nothing changed"
	if c := changedFeatures(answer, again); len(c) > 0 {
		changed = strings.Join(c, ", ") + " moved"
	}
	fmt.Fprintf(stdout, "\nThe same request after %d new transactions streamed in (%s):\n\n%s\n", n, changed, describeAnswer(again))
	var tables []string
	for _, t := range ef.Tables {
		tables = append(tables, fmt.Sprintf("--table %s=%s", t.Table, t.Path))
	}
	fmt.Fprintf(stdout, "Check that online equals offline on every transaction:\n\n  go run ./cmd/fenestra verify --sql %s %s\n\n", ef.SQL, strings.Join(tables, " "))
	if c.once {
		return nil
	}
	fmt.Fprintln(stdout, "Serving until Ctrl-C.")
	return srv.wait(ctx, stdout)
}

// exampleReq is the request fenestra up prints, and what streaming new
// events needs to know of the data.
type exampleReq struct {
	body     []byte
	key      string      // the key asked for, as text
	keyValue types.Value // the key asked for
	keyCol   int         // the key's column of the request table
	table    *plan.Table // the request table
	rows     *types.Block
	// maxTS and maxID are the largest time and id of the request table's
	// rows; the request is a minute after maxTS.
	maxTS, maxID int64
}

// exampleRequest builds a request for the example's busiest key: its
// latest row of the request table, a minute later, with a new id.
func exampleRequest(e *examples.Example, view *plan.Plan, ef *exampleFiles) (*exampleReq, error) {
	var path string
	for _, t := range ef.Tables {
		if t.Table == view.RequestTable {
			path = t.Path
		}
	}
	in := view.Table(view.RequestTable)
	if in == nil || path == "" {
		return nil, fmt.Errorf("the view %s has no request table", view.Name)
	}
	t, err := verify.ReadTable(in.Schema, []string{path})
	if err != nil {
		return nil, err
	}
	rows := t.Rows
	kc := in.Schema.Index(e.Key)
	if kc < 0 || rows.Len == 0 {
		return nil, fmt.Errorf("no %s to ask for in %s", e.Key, path)
	}
	count := map[string]int{}
	best, last := "", map[string]int{}
	for i := 0; i < rows.Len; i++ {
		k := rows.Cols[kc].Value(i).String()
		count[k]++
		last[k] = i
		if count[k] > count[best] {
			best = k
		}
	}
	row := rows.Row(last[best], nil)
	var maxTS, maxID int64
	for i := 0; i < rows.Len; i++ {
		for j, f := range in.Schema {
			switch {
			case f.Type == types.Timestamp && !rows.Cols[j].IsNull(i):
				maxTS = max(maxTS, rows.Cols[j].I[i])
			case f.Type == types.Int64 && j == 0 && !rows.Cols[j].IsNull(i):
				maxID = max(maxID, rows.Cols[j].I[i])
			}
		}
	}
	body := []byte(`{"rows":[{`)
	for j, f := range in.Schema {
		v := row[j]
		switch {
		case f.Type == types.Timestamp:
			v = types.TimestampValue(maxTS + 60_000)
		case f.Type == types.Int64 && j == 0:
			v = types.Int64Value(maxID + 1)
		}
		if j > 0 {
			body = append(body, ',')
		}
		body = datafile.AppendJSONString(body, f.Name)
		body = append(body, ':')
		body = datafile.AppendJSONValue(body, v)
	}
	return &exampleReq{body: append(body, "}]}"...), key: best, keyValue: rows.Cols[kc].Value(last[best]), keyCol: kc,
		table: in, rows: rows, maxTS: maxTS, maxID: maxID}, nil
}

// post sends a compute request and returns the answer's body.
func post(ctx context.Context, url string, body []byte) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("POST %s: %s: %s", url, resp.Status, bytes.TrimSpace(b))
	}
	return string(bytes.TrimSpace(b)), nil
}

// hostPort renders a listener's address for a URL: the loopback address
// when it listens on every interface.
func hostPort(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// describeAnswer lays a compute answer out a feature a line, or returns it
// as it is when it is not one.
func describeAnswer(answer string) string {
	var a struct {
		Columns []struct{ Name, Type string }
		Rows    [][]json.RawMessage
	}
	if err := json.Unmarshal([]byte(answer), &a); err != nil || len(a.Rows) != 1 || len(a.Rows[0]) != len(a.Columns) {
		return "  " + answer + "\n"
	}
	var b strings.Builder
	for i, c := range a.Columns {
		fmt.Fprintf(&b, "  %-18s %-8s %s\n", c.Name, c.Type, a.Rows[0][i])
	}
	return b.String()
}
