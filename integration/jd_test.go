package integration

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/emulators"
	"github.com/fenestra-dev/fenestra/examples"
	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/functions"
	"github.com/fenestra-dev/fenestra/internal/datafile"
	"github.com/fenestra-dev/fenestra/verify"
)

// jdRequests is how many requests the JD demo's data has.
const jdRequests = 2000

// jdScripts are the JD demo's scripts (featurelang/parser/testdata/
// openmldb), in the order the demo runs them.
var jdScripts = []string{"jd-create_tables.sql", "jd-load_offline_data.sql", "jd-sync_select_out.sql", "jd-deploy.sql", "jd-load_online_data.sql"}

// jdDirs are the directories the demo keeps its tables' Parquet files
// in (data/<dir>/*.parquet), by table.
var jdDirs = map[string]string{"action": "action", "flattenRequest": "flattenRequest_clean", "bo_user": "bo_user",
	"bo_action": "bo_action", "bo_product": "bo_product", "bo_comment": "bo_comment"}

// TestJDDemo runs OpenMLDB's JD recommendation demo as written, only its
// file paths edited, on generated data of the demo's shape
// (examples.GenerateJD) laid out as the demo lays it out: a directory of
// Parquet part files per table. Each script is a run of fenestra run
// sharing one state directory and one Bigtable emulator: create_tables,
// load_offline_data, sync_select_out (SELECT ... INTO OUTFILE, the
// training set), deploy (DEPLOY demo, SHOW DEPLOYMENT demo) and
// load_online_data.
//
// Then online == offline for the stored deployment demo, two ways:
//
//   - as fenestra verify checks it: the deployment's plan, read back
//     from the online store, served in process over a Bigtable emulator
//     of its own loaded with the files the scripts loaded; every request
//     replayed in time order (request, then insert); every answer equal,
//     bit for bit, to its row of the INTO OUTFILE training set. The
//     store the demo loaded online cannot serve this replay: it holds
//     the requests already, and a replayed request would find itself
//     and later requests of its time in its windows (fenestra verify
//     --online requires a store without the request table's rows).
//   - through the store the demo loaded online, served as fenestra
//     serve serves stored deployments (functions.Catalog over HTTP), as
//     fenestra verify --online replays: new requests, among the loaded
//     ones in time, each answer equal to the batch evaluation of the
//     loaded tables with the new requests appended.
//
// The INTO OUTFILE part file itself must equal the batch evaluation of
// the generated tables, byte for byte.
func TestJDDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo's Beam pipelines")
	}
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	tables := jdTables(t)
	blocks := examples.GenerateJD(tables, jdRequests, 5)
	data := filepath.Join(dir, "data")
	files := writeJDData(t, data, blocks)
	for _, name := range []string{"flattenRequest", "action", "bo_user", "bo_action", "bo_product", "bo_comment"} {
		t.Logf("%s: %d rows", name, blocks[name].Len)
	}

	emu, stop, err := emulators.StartBigtable("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	state, out := filepath.Join(dir, "state"), filepath.Join(dir, "out", "1")
	edit := strings.NewReplacer("/work/oneflow_demo/data/", data+"/", "/work/oneflow_demo/out/1", out)
	logs := map[string]string{}
	for _, name := range jdScripts {
		text, err := os.ReadFile(filepath.Join("../featurelang/parser/testdata/openmldb", name))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		logs[name] = runScriptFile(t, state, emu, name, edit.Replace(string(text)))
		t.Logf("fenestra run %s: %v\n%s", name, time.Since(start).Round(time.Millisecond), logs[name])
	}

	// The stored deployment, as fenestra serve finds it.
	store := openStore(t, emu)
	d, err := store.Deployment(ctx, "JD_db", "demo")
	if err != nil {
		t.Fatal(err)
	}
	view, err := d.DecodePlan()
	if err != nil {
		t.Fatal(err)
	}
	if show := logs["jd-deploy.sql"]; !strings.Contains(show, "\n  JD_db   demo\n") || !strings.Contains(show, "\nversion "+d.Version+"\n") ||
		!strings.Contains(show, "DEPLOY demo OPTIONS(RANGE_BIAS='inf', ROWS_BIAS='inf') select * from") {
		t.Errorf("SHOW DEPLOYMENT demo does not show deployment JD_db.demo version %s:\n%s", d.Version, show)
	}

	// The training set: the part file INTO OUTFILE wrote, which must be
	// the batch evaluation of the tables.
	parts, _ := filepath.Glob(filepath.Join(out, "part-*"))
	if len(parts) != 1 {
		t.Fatalf("INTO OUTFILE %s wrote %v, want one part file", out, parts)
	}
	training, err := verify.ReadTable(view.Output, parts)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := eval.New(view)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	want, err := ev.Batch(ctx, jdQualified(view, blocks))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("batch evaluation: %v", time.Since(start).Round(time.Millisecond))
	wantFile := filepath.Join(dir, "want"+filepath.Ext(parts[0]))
	if err := datafile.WriteFile(wantFile, want); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(wantFile)
	if b, _ := os.ReadFile(parts[0]); !bytes.Equal(a, b) {
		t.Errorf("INTO OUTFILE wrote %d bytes that differ from the batch evaluation's %d", len(b), len(a))
	}
	requireJDFeatures(t, view, training.Rows)

	// fenestra verify: the deployment in process, every request.
	replay := map[string]*verify.Table{}
	for _, tb := range view.Tables {
		_, name := plan.SplitName(tb.Name)
		if replay[tb.Name], err = verify.ReadTable(tb.Schema, []string{files[name]}); err != nil {
			t.Fatal(err)
		}
	}
	online, err := verify.NewInProcess(ctx, &featurelang.Module{Tables: view.Tables, Views: []*plan.Plan{view}}, view.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer online.Close()
	start = time.Now()
	requireSame(t, "in process", online, view, replay, training.Rows, 4)
	t.Logf("in process: %d requests replayed in %v", jdRequests, time.Since(start).Round(time.Millisecond))

	// fenestra serve over the store the demo loaded, new requests.
	c, err := functions.NewCatalog(ctx, store, functions.CatalogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	h, err := verify.NewHTTP(ctx, srv.URL, "demo", "")
	if err != nil {
		t.Fatal(err)
	}
	if h.Version() != d.Version {
		t.Errorf("the function serves demo as version %s, the stored deployment is %s", h.Version(), d.Version)
	}
	fresh := newJDRequests(tables)
	loaded := blocks["flattenRequest"]
	with := maps.Clone(blocks)
	with["flattenRequest"] = types.Concat(loaded, fresh)
	all, err := ev.Batch(ctx, jdQualified(view, with))
	if err != nil {
		t.Fatal(err)
	}
	idx := make([]int, fresh.Len)
	seqs := make([]uint64, fresh.Len)
	for i := range idx {
		idx[i], seqs[i] = loaded.Len+i, uint64(i)
	}
	start = time.Now()
	requireSame(t, "HTTP over the demo's store", preloaded{h}, view,
		map[string]*verify.Table{view.RequestTable: {Rows: fresh, Seqs: seqs}}, all.Gather(idx), 4)
	t.Logf("HTTP: %d new requests replayed in %v", fresh.Len, time.Since(start).Round(time.Millisecond))
}

// jdTables compiles the JD demo's create_tables.sql: its six tables, in
// database JD_db.
func jdTables(t *testing.T) []*plan.Table {
	t.Helper()
	text, err := os.ReadFile("../featurelang/parser/testdata/openmldb/jd-create_tables.sql")
	if err == nil {
		var m *featurelang.Module
		if m, err = featurelang.Compile("jd-create_tables.sql", string(text), featurelang.Options{}); err == nil {
			return m.Tables
		}
	}
	t.Fatal(err)
	return nil
}

// writeJDData writes each table as the demo keeps it, in
// data/<dir>/part-0.parquet beside a _SUCCESS file, and returns the
// Parquet files by table.
func writeJDData(t *testing.T, data string, blocks map[string]*types.Block) map[string]string {
	t.Helper()
	files := map[string]string{}
	for name, b := range blocks {
		d := filepath.Join(data, jdDirs[name])
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		files[name] = filepath.Join(d, "part-0.parquet")
		if err := datafile.WriteFile(files[name], b); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "_SUCCESS"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

// jdQualified keys blocks (by unqualified table name) by the view's table
// names.
func jdQualified(view *plan.Plan, blocks map[string]*types.Block) map[string]*types.Block {
	out := map[string]*types.Block{}
	for _, tb := range view.Tables {
		_, name := plan.SplitName(tb.Name)
		out[tb.Name] = blocks[name]
	}
	return out
}

// newJDRequests returns new requests, among the generated ones in time,
// of the same users and products, with reqIds of their own.
func newJDRequests(tables []*plan.Table) *types.Block {
	b := examples.GenerateJD(tables, 100, 99)["flattenRequest"]
	for i := range b.Len {
		b.Cols[0].S[i] = fmt.Sprintf("new_%04d", i+1)
	}
	return b
}

// requireJDFeatures requires the training set to exercise the demo's
// features: LAST JOIN hits and misses, and windows of several rows over
// the requests, the comments and the past actions.
func requireJDFeatures(t *testing.T, view *plan.Plan, training *types.Block) {
	t.Helper()
	col := func(name string) *types.Column {
		i := view.Output.Index(name)
		if i < 0 {
			t.Fatalf("the deployment has no column %s", name)
		}
		return &training.Cols[i]
	}
	count := func(c *types.Column, ok func(i int) bool) int {
		n := 0
		for i := range training.Len {
			if !c.IsNull(i) && ok(i) {
				n++
			}
		}
		return n
	}
	hit := func(name string) int { return count(col(name), func(int) bool { return true }) }
	over1 := func(name string) int {
		c := col(name)
		return count(c, func(i int) bool { return c.I[i] > 1 })
	}
	for _, f := range []struct {
		what string
		n    int
	}{
		{"requests with an action (LAST JOIN action)", hit("action_actionValue_multi_direct_2")},
		{"requests of a known product (LAST JOIN bo_product)", hit("bo_product_a1_multi_direct_3")},
		{"requests of a known user (LAST JOIN bo_user)", hit("bo_user_ingestionTime_multi_direct_10")},
		{"requests with several pairs in the user's last 14 days", over1("flattenRequest_pair_id_window_unique_count_32")},
		{"requests with several pairs in the user's last 10 requests", over1("flattenRequest_pair_id_window_unique_count_27")},
		{"requests with several comment counts in 64 days", over1("bo_comment_comment_num_multi_unique_count_22")},
		{"requests with several action types in 14 days", over1("bo_action_type_multi_unique_count_21")},
		{"requests with several models in 7 days", over1("bo_action_model_id_multi_unique_count_20")},
	} {
		t.Logf("%s: %d of %d", f.what, f.n, training.Len)
		if f.n == 0 || f.n == training.Len {
			t.Errorf("%s: %d of %d: the data does not exercise it", f.what, f.n, training.Len)
		}
	}
}
