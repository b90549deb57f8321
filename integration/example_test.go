package integration

import (
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/emulators"
	"github.com/fenestra-dev/fenestra/examples"
	"github.com/fenestra-dev/fenestra/verify"
)

// TestExample is the online == offline proof on the cards example: the
// Beam backfill's training set against the answers of the feature
// function over HTTP, of the built Lambda binary and of the functions core
// in process, each replaying every transaction in time order (request,
// then insert) over cards and merchants loaded with the Beam materialize
// pipeline.
func TestExample(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Beam pipelines and builds the Lambda binary")
	}
	t.Parallel()
	e, err := examples.Lookup("cards")
	if err != nil {
		t.Fatal(err)
	}
	// Data ending today: the functions enforce TTLs with the wall clock.
	blocks, err := e.Generate(examples.Config{Rows: 4000, Seed: 11, Start: examples.DefaultStart(time.Now(), e.Days)})
	if err != nil {
		t.Fatal(err)
	}
	d := writeDataset(t, e.SQL, blocks)
	view := d.view(t, e.View)
	training := d.backfill(t, view)
	tables := d.tables(t)

	t.Run("http", func(t *testing.T) {
		t.Parallel()
		h, err := verify.NewHTTP(t.Context(), d.httpFunction(t, d.bigtableWith(t, view.RequestTable)), view.Name, "")
		if err != nil {
			t.Fatal(err)
		}
		requireSame(t, "HTTP", preloaded{h}, view, tables, training, 4)
	})
	t.Run("lambda", func(t *testing.T) {
		t.Parallel()
		bin := filepath.Join(t.TempDir(), "fenestra-lambda")
		if out, err := exec.Command("go", "build", "-o", bin, "../cmd/fenestra-lambda").CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
		emu := d.bigtableWith(t, view.RequestTable)
		l, err := emulators.RunLambda(t.Context(), bin, "FENESTRA_SQL="+d.sql, "BIGTABLE_EMULATOR_HOST="+emu,
			"BIGTABLE_PROJECT=", "BIGTABLE_INSTANCE=", "FENESTRA_LOG_LEVEL=warn")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		requireSame(t, "Lambda", preloaded{verify.NewLambda(l.Invoke, view.Name, view.Output)}, view, tables, training, 2)
	})
	t.Run("in process", func(t *testing.T) {
		t.Parallel()
		p, err := verify.NewInProcess(t.Context(), d.mod, view.Name)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		requireSame(t, "in process", p, view, tables, training, 4)
	})
}
