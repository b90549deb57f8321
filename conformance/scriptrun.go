package conformance

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/rowcsv"
)

// RunScripts runs every feature script matching pattern (a filepath.Glob)
// on host, as one subtest each. For each view of a script it runs batch
// mode over the script's tables, then request mode — every row of the
// request table sent in file order and stored after its request, the other
// tables stored first — and requires the two outputs to be identical, bit
// for bit. (Scripts therefore list request rows in time order: a row that
// arrives late is, by design, seen differently by the two modes.) A view
// that runs in batch mode only (GROUP BY, a whole-table aggregate) must be
// refused by request mode instead. The batch output must equal the
// script's "out <view>" section (bare queries are named query, query2,
// ...); a script with an "errors" section must fail to compile with
// exactly that text.
//
// With update set, the expected sections are rewritten from the results
// instead of compared: review the diff before committing it.
func RunScripts(t *testing.T, host Host, pattern string, update bool) {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no feature scripts match %s (%v)", pattern, err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), filepath.Ext(f)), func(t *testing.T) {
			runScript(t, host, f, update)
		})
	}
}

func runScript(t *testing.T, host Host, path string, update bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseScript(path, data)
	if err != nil {
		t.Fatal(err)
	}
	sql := s.Section("features.sql")
	if sql == nil {
		t.Fatalf("%s: no features.sql section", path)
	}
	mod, cerr := featurelang.Compile("features.sql", sql.Data, featurelang.Options{})
	if s.Section("errors") != nil || cerr != nil {
		if s.Section("errors") == nil && !update {
			t.Fatalf("%s: does not compile:\n%v", path, cerr)
		}
		got := ""
		if cerr != nil {
			got = cerr.Error() + "\n"
		}
		expect(t, s, "errors", got, update)
	} else {
		runViews(t, host, s, mod, update)
	}
	if update {
		if err := os.WriteFile(path, s.Format(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// LoadScript reads the feature script at path, compiles its features.sql
// and reads its tables (a table without a section is empty): the input of
// its views in batch mode. A script of expected errors fails to compile.
func LoadScript(path string) (*featurelang.Module, map[string]*types.Block, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	s, err := ParseScript(path, data)
	if err != nil {
		return nil, nil, err
	}
	sql := s.Section("features.sql")
	if sql == nil {
		return nil, nil, fmt.Errorf("%s: no features.sql section", path)
	}
	mod, err := featurelang.Compile("features.sql", sql.Data, featurelang.Options{})
	if err != nil {
		return nil, nil, err
	}
	tables, err := scriptTables(s, mod)
	return mod, tables, err
}

// scriptTables reads the tables of mod from the script's sections.
func scriptTables(s *Script, mod *featurelang.Module) (map[string]*types.Block, error) {
	tables := map[string]*types.Block{}
	for _, tbl := range mod.Tables {
		name := tbl.Name + ".csv"
		sec := s.Section(name)
		if sec == nil {
			tables[tbl.Name] = types.NewBlock(tbl.Schema, 0)
			continue
		}
		b, err := rowcsv.Read(strings.NewReader(sec.Data), tbl.Schema, s.Path, s.sectionLine(name))
		if err != nil {
			return nil, err
		}
		tables[tbl.Name] = b
	}
	return tables, nil
}

func runViews(t *testing.T, host Host, s *Script, mod *featurelang.Module, update bool) {
	ctx := context.Background()
	tables, err := scriptTables(s, mod)
	if err != nil {
		t.Fatal(err)
	}
	queries := 0
	for _, v := range mod.Views {
		name := v.Name
		if name == "" {
			if queries++; queries == 1 {
				name = "query"
			} else {
				name = fmt.Sprintf("query%d", queries)
			}
		}
		batch, err := host.Batch(ctx, v, tables)
		if err != nil {
			t.Fatalf("view %s: batch: %v", name, err)
		}
		expect(t, s, "out "+name, rowcsv.Format(batch), update)
		if v.BatchOnly() != "" {
			if _, err := requestAll(ctx, host, v, mod.Tables, tables); err == nil && tables[v.RequestTable].Len > 0 {
				t.Errorf("view %s: request mode answered a view that runs in batch mode only (%s)", name, v.BatchOnly())
			}
			continue
		}
		req, err := requestAll(ctx, host, v, mod.Tables, tables)
		if err != nil {
			t.Fatalf("view %s: request: %v", name, err)
		}
		if why := identical(batch, req); why != "" {
			t.Errorf("view %s: request mode differs from batch mode: %s", name, why)
		}
	}
}

// requestAll stores every table but the view's request table, then sends
// each request-table row in order as a request and stores it afterwards.
func requestAll(ctx context.Context, host Host, p *plan.Plan, defs []*plan.Table, tables map[string]*types.Block) (*types.Block, error) {
	sess, err := host.Open(ctx, p, defs)
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	for name, b := range tables {
		if name != p.RequestTable && b.Len > 0 {
			if err := sess.Insert(ctx, name, b); err != nil {
				return nil, err
			}
		}
	}
	reqs := tables[p.RequestTable]
	out := types.NewBlock(p.Output, reqs.Len)
	for i := 0; i < reqs.Len; i++ {
		row, err := sess.Request(ctx, reqs.Row(i, nil))
		if err != nil {
			return nil, fmt.Errorf("row %d: %w", i+1, err)
		}
		if row != nil {
			out.AppendRow(row)
		}
		if err := sess.Insert(ctx, p.RequestTable, reqs.Gather([]int{i})); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// identical compares two blocks value by value, floats by their bits.
func identical(a, b *types.Block) string {
	if a.Len != b.Len {
		return fmt.Sprintf("%d rows against %d", a.Len, b.Len)
	}
	for i := 0; i < a.Len; i++ {
		for j := range a.Cols {
			if x, y := a.Cols[j].Value(i), b.Cols[j].Value(i); !types.Identical(x, y) {
				return fmt.Sprintf("row %d column %s: batch %s, request %s", i+1, a.Schema[j].Name, x, y)
			}
		}
	}
	return ""
}

// expect compares got with a section, or rewrites the section when
// updating.
func expect(t *testing.T, s *Script, section, got string, update bool) {
	t.Helper()
	if update {
		s.Set(section, got)
		return
	}
	sec := s.Section(section)
	if sec == nil {
		t.Errorf("%s: no %q section; run the test with -update to write it, then review it:\n%s", s.Path, section, got)
		return
	}
	if sec.Data != got {
		t.Errorf("%s: section %q differs (run with -update to rewrite, then review the diff)\n--- want\n%s--- got\n%s", s.Path, section, sec.Data, got)
	}
}
