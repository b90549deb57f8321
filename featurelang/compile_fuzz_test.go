package featurelang_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// fuzzSeeds are the features.sql sections of the project's feature scripts
// plus a few hand-written edge cases.
func fuzzSeeds(f *testing.F) {
	files, _ := filepath.Glob("../testdata/features/*.txt")
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		text := string(data)
		if i := strings.Index(text, "-- features.sql --\n"); i >= 0 {
			text = text[i+len("-- features.sql --\n"):]
			if j := strings.Index(text, "\n-- "); j >= 0 {
				text = text[:j+1]
			}
			f.Add(text)
		}
	}
	for _, s := range []string{
		"CREATE TABLE t (a int, ts timestamp); SELECT a FROM t;",
		"CREATE TABLE t (a int, ts timestamp); SELECT sum(a) OVER w FROM t WINDOW w AS (PARTITION BY a ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW);",
		"CREATE TABLE t (a int, s string); SELECT CEL('s.size() + a') FROM t;",
		"SELECT 1 + 2, 'x' LIKE '%', CAST('2024-01-01' AS date);",
	} {
		f.Add(s)
	}
}

// FuzzCompile checks that no feature file makes the compiler or the
// evaluator panic: a file either fails with positioned errors or compiles
// to plans that serialize, rebuild, and run over empty and one-row tables.
func FuzzCompile(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, src string) {
		m, err := featurelang.Compile("fuzz.sql", src, featurelang.Options{CELCostLimit: 10_000})
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		for _, p := range m.Views {
			b, err := plan.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			q, err := plan.Unmarshal(b)
			if err != nil {
				t.Fatal(err)
			}
			if plan.Version(q) != plan.Version(p) {
				t.Fatalf("version changed in a round trip: %s != %s", plan.Version(q), plan.Version(p))
			}
			ev, err := eval.New(q)
			if err != nil {
				t.Fatalf("a checked plan does not build: %v", err)
			}
			runOnce(t, ev, p)
		}
	})
}

// runOnce evaluates p over empty tables and over one row of zero values
// per table; errors are fine (a CEL cost limit), panics are not.
func runOnce(t *testing.T, ev *eval.Evaluator, p *plan.Plan) {
	ctx := context.Background()
	empty, one := map[string]*types.Block{}, map[string]*types.Block{}
	for _, tbl := range p.Tables {
		empty[tbl.Name] = types.NewBlock(tbl.Schema, 0)
		row := make([]types.Value, len(tbl.Schema))
		for i, f := range tbl.Schema {
			row[i] = types.Value{Type: f.Type}
		}
		one[tbl.Name] = types.BlockOf(tbl.Schema, [][]types.Value{row})
	}
	ev.Batch(ctx, empty)
	ev.Batch(ctx, one)
}
