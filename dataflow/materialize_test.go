package dataflow_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/fenestra-dev/fenestra/dataflow"
	"github.com/fenestra-dev/fenestra/emulators"
	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/datafile"
	"github.com/fenestra-dev/fenestra/storage"
	"github.com/fenestra-dev/fenestra/storage/bigtable"
)

const materializeSQL = `
CREATE TABLE tx (card string, merchant string, amount double, ts timestamp,
  INDEX(KEY=card, TS=ts),
  INDEX(KEY=(card, merchant), TS=ts));
CREATE TABLE users (uid string, score int, updated timestamp,
  INDEX(KEY=uid, TS=updated));`

// TestMaterializeReadBack loads random rows (NULL keys, timestamp ties),
// from a CSV and a JSON Lines file per table, into the Bigtable emulator
// through the pipeline on prism, and reads every key of every index back
// through storage: the rows must be those storage.Mem holds after writing
// the same rows with the sequence numbers the pipeline documents (file
// number << 40 | line; the users' CSV file has no header, in another
// dialect). Loading the same files again must change nothing.
func TestMaterializeReadBack(t *testing.T) {
	ctx := context.Background()
	mod, err := featurelang.Compile("m.sql", materializeSQL, featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(7, 7))
	data := map[string]*types.Block{
		"tx":    randomRows(rng, mod.Tables[0].Schema, 3000),
		"users": randomRows(rng, mod.Tables[1].Schema, 500),
	}

	want := storage.NewMem(nil)
	if err := want.Init(ctx, mod.Tables); err != nil {
		t.Fatal(err)
	}
	var inputs []dataflow.Input
	for _, tb := range mod.Tables {
		blk := data[tb.Name]
		half := blk.Len / 2
		for f, part := range []*types.Block{blk.Gather(seq(0, half)), blk.Gather(seq(half, blk.Len))} {
			ext, first := ".csv", int64(2) // the header is line 1
			var dialect datafile.CSVOptions
			switch {
			case f == 1:
				ext, first = ".jsonl", 1
			case tb.Name == "users":
				dialect, first = inDialect, 1
			}
			path := filepath.Join(dir, fmt.Sprintf("%s%d%s", tb.Name, f, ext))
			if err := os.WriteFile(path, encodeOptions(t, path, part, dialect), 0o644); err != nil {
				t.Fatal(err)
			}
			inputs = append(inputs, dataflow.Input{Table: tb.Name, Path: path, CSV: dialect})
			seqs := make([]uint64, part.Len)
			for i := range seqs {
				seqs[i] = uint64(f)<<40 | uint64(first+int64(i))
			}
			if err := want.Write(ctx, tb.Name, part, seqs); err != nil {
				t.Fatal(err)
			}
		}
	}

	got, addr := emulatorStore(t, mod.Tables)

	job := dataflow.MaterializeJob{Tables: mod.Tables, Inputs: inputs, Writers: 3,
		Target: dataflow.BigtableTarget{Project: "p", Instance: "i", EmulatorHost: addr}}
	for run := 1; run <= 2; run++ {
		p, s := beam.NewPipelineWithRoot()
		if _, err := dataflow.Materialize(s, job); err != nil {
			t.Fatal(err)
		}
		written := dataflow.Progress.Written.Load()
		r, err := dataflow.Run(ctx, p)
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if n := counterOr(r, "rows_written", dataflow.Progress.Written.Load()-written); n != 3500 {
			t.Errorf("run %d: rows_written = %d, want 3500", run, n)
		}
		if n := compareStores(t, mod.Tables, data, want, got); n < 3500 {
			t.Errorf("run %d: compared %d rows", run, n)
		}
	}
}

// emulatorStore starts a Bigtable emulator and returns a store on it
// (project p, instance i) holding the tables, and the emulator's address.
func emulatorStore(t *testing.T, tables []*plan.Table) (*bigtable.Store, string) {
	t.Helper()
	addr, stop, err := emulators.StartBigtable("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	s, err := bigtable.Open(context.Background(), bigtable.Config{Project: "p", Instance: "i", EmulatorHost: addr, NoGC: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Init(context.Background(), tables); err != nil {
		t.Fatal(err)
	}
	return s, addr
}

// compareStores reads every key of every index of the tables from both
// stores and reports differences; it returns how many rows it compared
// (per index).
func compareStores(t *testing.T, tables []*plan.Table, data map[string]*types.Block, want, got storage.Store) int {
	t.Helper()
	ctx := context.Background()
	compared := 0
	for _, tb := range tables {
		blk := data[tb.Name]
		for _, ix := range tb.Indexes {
			seen := map[string]bool{}
			for i := range blk.Len {
				r := storage.Range{Table: tb.Name, Keys: ix.Keys, TS: ix.TS, From: -1 << 62, To: 1 << 62}
				for _, k := range ix.Keys {
					r.Values = append(r.Values, blk.Cols[tb.Schema.Index(k)].Value(i))
				}
				id := fmt.Sprint(r.Values)
				if seen[id] {
					continue
				}
				seen[id] = true
				w, err := want.Read(ctx, r)
				if err != nil {
					t.Fatal(err)
				}
				g, err := got.Read(ctx, r)
				if err != nil {
					t.Fatalf("%s %v: %v", tb.Name, r.Values, err)
				}
				if ws, gs := fmt.Sprint(w.Rows()), fmt.Sprint(g.Rows()); ws != gs {
					t.Errorf("%s index %v key %v: read back\n%s\nwant\n%s", tb.Name, ix.Keys, r.Values, gs, ws)
				}
				compared += g.Len
			}
		}
	}
	return compared
}

// randomRows makes n rows of schema: strings from a few values with some
// NULLs (so keys repeat and some are NULL), numbers with NULLs, times from
// a small range (so many tie).
func randomRows(rng *rand.Rand, schema types.Schema, n int) *types.Block {
	b := types.NewBlock(schema, n)
	row := make([]types.Value, len(schema))
	for range n {
		for c, col := range schema {
			if rng.IntN(20) == 0 {
				row[c] = types.NullOf(col.Type)
				continue
			}
			switch col.Type {
			case types.String:
				row[c] = types.StringValue(fmt.Sprintf("%s%d", col.Name[:1], rng.IntN(40)))
			case types.Double:
				row[c] = types.DoubleValue(float64(rng.IntN(100000)) / 100)
			case types.Int32:
				row[c] = types.IntValue(types.Int32, rng.Int64N(1000)-500)
			case types.Timestamp:
				row[c] = types.TimestampValue(1_700_000_000_000 + rng.Int64N(200)*1000)
			default:
				panic("randomRows: no generator for " + col.Type.String())
			}
		}
		b.AppendRow(row)
	}
	return b
}
