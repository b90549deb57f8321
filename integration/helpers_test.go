package integration

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	beamlog "github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/fenestra-dev/fenestra/dataflow"
	"github.com/fenestra-dev/fenestra/emulators"
	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/functions"
	"github.com/fenestra-dev/fenestra/internal/datafile"
	"github.com/fenestra-dev/fenestra/storage/bigtable"
	"github.com/fenestra-dev/fenestra/verify"
)

func TestMain(m *testing.M) {
	beamlog.LogLevel = "warn" // the runner's progress messages are noise here
	ptest.Main(m)
}

// dataset is a feature file and its tables, written as CSV files.
type dataset struct {
	mod    *featurelang.Module
	sql    string // the feature file's path
	inputs []dataflow.Input
	blocks map[string]*types.Block
}

// writeDataset writes the feature file and each table of blocks (in the
// module's order) to a fresh directory.
func writeDataset(t *testing.T, sqlText string, blocks map[string]*types.Block) *dataset {
	t.Helper()
	mod, err := featurelang.Compile("features.sql", sqlText, featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	d := &dataset{mod: mod, sql: filepath.Join(dir, "features.sql"), blocks: blocks}
	if err := os.WriteFile(d.sql, []byte(sqlText), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tb := range mod.Tables {
		path := filepath.Join(dir, tb.Name+".csv")
		if err := datafile.WriteFile(path, blocks[tb.Name]); err != nil {
			t.Fatal(err)
		}
		d.inputs = append(d.inputs, dataflow.Input{Table: tb.Name, Path: path})
	}
	return d
}

// view returns the view named name.
func (d *dataset) view(t *testing.T, name string) *plan.Plan {
	t.Helper()
	for _, v := range d.mod.Views {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no view %s", name)
	return nil
}

// backfill runs the Beam backfill of view on prism and returns the
// training set.
func (d *dataset) backfill(t *testing.T, view *plan.Plan) *types.Block {
	t.Helper()
	out := filepath.Join(t.TempDir(), "train.csv")
	var inputs []dataflow.Input
	for _, in := range d.inputs {
		if view.Table(in.Table) != nil {
			inputs = append(inputs, in)
		}
	}
	p, s := beam.NewPipelineWithRoot()
	if _, err := dataflow.Backfill(s, dataflow.BackfillJob{View: view, Inputs: inputs, Out: out, Buckets: 4}); err != nil {
		t.Fatal(err)
	}
	if _, err := dataflow.Run(context.Background(), p); err != nil {
		t.Fatalf("backfill: %v", err)
	}
	tr, err := verify.ReadTable(view.Output, []string{out})
	if err != nil {
		t.Fatal(err)
	}
	return tr.Rows
}

// tables reads the files back as replay tables, with materialize's
// sequence numbers.
func (d *dataset) tables(t *testing.T) map[string]*verify.Table {
	t.Helper()
	out := map[string]*verify.Table{}
	for _, tb := range d.mod.Tables {
		var paths []string
		for _, in := range d.inputs {
			if in.Table == tb.Name {
				paths = append(paths, in.Path)
			}
		}
		r, err := verify.ReadTable(tb.Schema, paths)
		if err != nil {
			t.Fatal(err)
		}
		out[tb.Name] = r
	}
	return out
}

// bigtableWith starts a Bigtable emulator, creates the tables and loads
// every table but except with the Beam materialize pipeline on prism. It
// returns the emulator's address.
func (d *dataset) bigtableWith(t *testing.T, except string) string {
	t.Helper()
	emu, stop, err := emulators.StartBigtable("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	d.load(t, emu, "", except)
	return emu
}

func openStore(t *testing.T, emu string) *bigtable.Store {
	t.Helper()
	s, err := bigtable.Open(context.Background(), bigtable.Config{Project: "local", Instance: "local", EmulatorHost: emu})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// httpFunction serves d's views over HTTP (fenestra serve's handler) with
// the store on the emulator at emu, and returns its URL.
func (d *dataset) httpFunction(t *testing.T, emu string) string {
	t.Helper()
	svc, err := functions.New(d.mod, openStore(t, emu), functions.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(functions.NewServer(svc, functions.ServerOptions{}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// preloaded is an online path whose tables were materialized already:
// the replay loads nothing.
type preloaded struct{ verify.Online }

func (preloaded) Load(context.Context, string, *types.Block, []uint64) error { return nil }

// requireSame replays view through online and requires every answer to
// equal its training row.
func requireSame(t *testing.T, what string, online verify.Online, view *plan.Plan, tables map[string]*verify.Table, training *types.Block, workers int) {
	t.Helper()
	answers, err := verify.Replay(context.Background(), online, view, tables, workers, 8, nil)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	req := tables[view.RequestTable].Rows
	r := verify.Compare(answers, training, func(i int) string { return "row " + req.Cols[0].Value(i).String() })
	if !r.OK() || r.Compared == 0 {
		var b strings.Builder
		r.Print(&b)
		t.Fatalf("%s: %s online differs from the backfill:\n%s", what, view.Name, b.String())
	}
	t.Logf("%s: %s: %d of %d rows identical", what, view.Name, r.Identical, r.Compared)
}
