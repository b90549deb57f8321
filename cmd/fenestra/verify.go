package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/fenestra-dev/fenestra/dataflow"
	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/script"
	"github.com/fenestra-dev/fenestra/verify"
)

const verifyUsage = `usage: fenestra verify --sql FILE.sql [--view NAME] --table NAME=PATH ... [--online URL] [flags] [beam flags]
       fenestra verify --state DIR --view DB.NAME [--online URL] [flags] [beam flags]

Checks that the online features equal the training set. It computes the
training set (the backfill, on Beam), then replays the view's request table
through the online path in time order, each row a request that is then
stored (request, then insert), and compares every answer with its training
row, bit for bit. The online path is the feature function's core in this
process, over a Bigtable emulator of its own with TTLs as of each request's
time (the default), or a running function (--online URL), whose store must
not hold the request table's rows yet. It prints a line per feature and
exits 1 on any difference. With --state, it checks a deployment fenestra run
deployed: its view as deployed, over its tables' offline data.`

// runVerify runs fenestra verify.
func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	pf := newPipelineFlags("verify", verifyUsage, stderr)
	viewName := pf.fs.String("view", "", "the view to check (needed when the file deploys several)")
	online := pf.fs.String("online", "", "the URL of a running feature function to replay through (default: in this process)")
	onlineSQL := pf.fs.String("online-sql", "", "the feature file the in-process online path serves (default: --sql), to check a changed definition against the training set")
	tokenFile := pf.fs.String("auth-token-file", "", "a file holding the bearer token of --online")
	workers := pf.fs.Int("workers", 16, "sessions replaying at once (keys are replayed in parallel when the view's rows split by key)")
	batch := pf.fs.Int("batch", 0, "consecutive requests of a session sent in one call, a multi-row request, each row stored after its answer (default: 500 in process; 1 with --online, whose deadline bounds a call)")
	stateDir := pf.fs.String("state", "", "a fenestra run state directory: verify its deployment --view (db.name) over its offline data")
	gcPercent := pf.fs.Int("gc-percent", verifyGCPercent, "the Go garbage collector's target heap growth, as GOGC (which, when set, wins), under a soft limit of half the machine's memory (GOMEMLIMIT, when set, wins): higher spends less CPU collecting and more memory")
	profile := cpuProfileFlag(pf.fs)
	pf.stateOK = true
	mod, _, code := pf.parse(args, stderr)
	if mod == nil && (code != 0 || *stateDir == "") {
		if code == 0 {
			pf.fs.Usage()
			code = 2
		}
		return code
	}
	var view *plan.Plan
	var inputs []dataflow.Input
	var err error
	if mod != nil {
		if view, err = pickView(mod, *viewName, pf.sql); err == nil {
			inputs, _, err = pf.inputs(ctx, mod)
		}
	} else {
		view, inputs, err = stateView(*stateDir, *viewName)
	}
	if err != nil {
		fmt.Fprintf(stderr, "fenestra verify: %v\n", err)
		return 2
	}
	setGCPercent(*gcPercent)
	limitMemory(machineMemory() / 2)
	stop, err := profile()
	if err != nil {
		fmt.Fprintf(stderr, "fenestra verify: %v\n", err)
		return 2
	}
	defer stop()
	cfg := verifyConfig{view: view, inputs: inputs, online: *online, onlineSQL: *onlineSQL, tokenFile: *tokenFile, workers: max(1, *workers), batch: *batch}
	ok, err := runVerification(ctx, cfg, stdout, stderr)
	switch {
	case err != nil:
		fmt.Fprintf(stderr, "fenestra verify: %v\n", err)
		return 1
	case !ok:
		return 1
	}
	return 0
}

// stateView returns the deployment name of a fenestra run state and its
// tables' offline files.
func stateView(dir, name string) (*plan.Plan, []dataflow.Input, error) {
	st, err := script.LoadState(dir)
	if err != nil {
		return nil, nil, err
	}
	view, err := st.Deployment(name)
	if err != nil {
		return nil, nil, err
	}
	inputs, err := st.Inputs(view)
	return view, inputs, err
}

type verifyConfig struct {
	view                         *plan.Plan
	inputs                       []dataflow.Input
	online, onlineSQL, tokenFile string
	workers, batch               int
}

// runVerification backfills, replays and compares; ok is false when the
// online answers differ from the training set.
func runVerification(ctx context.Context, c verifyConfig, stdout, stderr io.Writer) (ok bool, err error) {
	start := time.Now()
	dir, err := os.MkdirTemp("", "fenestra-verify-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(dir)
	train := filepath.Join(dir, "train.csv")
	p, s := beam.NewPipelineWithRoot()
	if _, err := dataflow.Backfill(s, dataflow.BackfillJob{View: c.view, Inputs: c.inputs, Out: train}); err != nil {
		return false, err
	}
	if err := execPipeline(ctx, "backfill", p, "to the training set", stdout, stderr); err != nil {
		return false, fmt.Errorf("backfill: %w", err)
	}
	training, err := verify.ReadTable(c.view.Output, []string{train})
	if err != nil {
		return false, err
	}
	tables := map[string]*verify.Table{}
	for _, t := range c.view.Tables {
		var files []verify.File
		for _, in := range c.inputs {
			if in.Table == t.Name {
				files = append(files, verify.File{Path: in.Path, CSV: in.CSV})
			}
		}
		if tables[t.Name], err = verify.ReadFiles(t.Schema, files); err != nil {
			return false, err
		}
	}
	path, where, err := c.onlinePath(ctx, stdout)
	if err != nil {
		return false, err
	}
	if closer, ok := path.(io.Closer); ok {
		defer closer.Close()
	}
	replayStart := time.Now()
	var done atomic.Int64
	stop := showReplay(stderr, replayStart, &done, tables[c.view.RequestTable].Rows.Len)
	defer stop()
	batch := c.batch
	if batch <= 0 {
		batch = map[bool]int{true: 1, false: 500}[c.online != ""]
	}
	answers, err := verify.Replay(ctx, path, c.view, tables, c.workers, batch, &done)
	if err != nil {
		return false, err
	}
	replayed := time.Since(replayStart)
	req := tables[c.view.RequestTable].Rows
	rep := verify.Compare(answers, training.Rows, describeRequest(c.view, req))
	fmt.Fprintf(stdout, "replay: %d requests %s in %v (%s requests/s, %d workers)\n", len(answers), where,
		replayed.Round(time.Millisecond), humanCount(float64(len(answers))/max(replayed.Seconds(), 1e-9)), c.workers)
	if t, ok := path.(interface{ TilesRead() int64 }); ok && t.TilesRead() > 0 {
		fmt.Fprintf(stdout, "replay: the requests merged %d tiles of long windows instead of their rows\n", t.TilesRead())
	}
	if c, ok := path.(interface{ Compacted() (int64, int64) }); ok {
		if rows, segments := c.Compacted(); rows > 0 {
			fmt.Fprintf(stdout, "replay: the store compacted %d day rows, of %d segments (a segment per row stored)\n", rows, segments)
		}
	}
	fmt.Fprintln(stdout)
	rep.Print(stdout)
	fmt.Fprintf(stdout, "verify: %v in all\n", time.Since(start).Round(time.Millisecond))
	return rep.OK(), nil
}

// onlinePath returns the online path to replay through and says where it
// is.
func (c verifyConfig) onlinePath(ctx context.Context, stdout io.Writer) (verify.Online, string, error) {
	if c.online != "" {
		var token string
		if c.tokenFile != "" {
			b, err := os.ReadFile(c.tokenFile)
			if err != nil {
				return nil, "", err
			}
			token = strings.TrimSpace(string(b))
		}
		h, err := verify.NewHTTP(ctx, c.online, c.view.Name, token)
		if err != nil {
			return nil, "", err
		}
		if v := plan.Version(c.view); h.Version() != v {
			fmt.Fprintf(stdout, "warning: %s serves %s as plan %s, the feature file's is %s: the definitions differ\n", c.online, c.view.Name, h.Version(), v)
		}
		return h, "through " + c.online, nil
	}
	mod := &featurelang.Module{Tables: c.view.Tables, Views: []*plan.Plan{c.view}}
	if c.onlineSQL != "" {
		text, err := os.ReadFile(c.onlineSQL)
		if err != nil {
			return nil, "", err
		}
		if mod, err = featurelang.Compile(c.onlineSQL, string(text), featurelang.Options{}); err != nil {
			return nil, "", err
		}
	}
	p, err := verify.NewInProcess(ctx, mod, c.view.Name)
	if err != nil {
		return nil, "", err
	}
	return p, "in process (Bigtable emulator)", nil
}

// describeRequest names a request in the report: its key columns (those
// of the request table's first index) and its row.
func describeRequest(view *plan.Plan, req *types.Block) func(i int) string {
	var cols []int
	if t := view.Table(view.RequestTable); t != nil && len(t.Indexes) > 0 {
		for _, k := range t.Indexes[0].Keys {
			cols = append(cols, t.Schema.Index(k))
		}
	}
	return func(i int) string {
		var parts []string
		for _, c := range cols {
			parts = append(parts, req.Schema[c].Name+"="+req.Cols[c].Value(i).String())
		}
		return fmt.Sprintf("%s row %d", strings.Join(parts, " "), i+1)
	}
}

// showReplay shows the replay's progress on w until stop: a status line
// rewritten twice a second on a terminal, else a line every 30 seconds
// (for logs).
func showReplay(w io.Writer, start time.Time, done *atomic.Int64, total int) (stop func()) {
	status := func(el time.Duration) string {
		n := done.Load()
		return fmt.Sprintf("replayed %d of %d requests (%s/s)", n, total, humanCount(float64(n)/el.Seconds()))
	}
	if isTerminal(w) {
		return showStatus(w, start, status)
	}
	quit, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(30 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				el := time.Since(start)
				fmt.Fprintf(w, "%v  %s\n", el.Round(time.Second), status(el))
			}
		}
	}()
	return func() { close(quit); <-finished }
}
