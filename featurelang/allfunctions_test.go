package featurelang_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// allFunctionsRows are the rows TestAllFunctionsFile runs the views of
// all_functions.sql over, in the order of table t's columns: two keys, in
// time order, with NULLs and negative numbers.
var allFunctionsRows = []string{
	"1 | a | 2024-01-01 10:00:00 | true  | 1    | 1    | 10   | 0.5  | 0.25  | abc        | a:1,b:2 | 2024-01-31",
	"2 | a | 2024-01-01 11:00:00 | false | 2    | 2    | 20   | 1.5  | 2.5   | Abd        | a:1,c:0 | 2024-02-29",
	"3 | b | 2024-01-01 11:30:00 | NULL  | NULL | NULL | NULL | NULL | NULL  | NULL       | NULL    | NULL",
	"4 | a | 2024-01-02 09:00:00 | true  | 3    | 3    | 30   | 2.5  | 0.75  | 12         | b:2     | 2023-12-31",
	"5 | b | 2024-01-02 10:00:00 | true  | -1   | -5   | -7   | -0.5 | -1.25 | 2024-05-01 | x       | 1999-01-01",
	"6 | a | 2024-01-02 10:00:00 | false | 3    | 1    | 40   | 0    | 2.5   | abc        | ''      | 2024-01-01",
}

// TestAllFunctionsFile compiles testdata/reference/all_functions.sql,
// checks that each function of functions.list is called in the view of
// its family (FAMILY_functions), but the functions its "not called" lines
// name (which must have a case in known_differences.txt), and runs every
// view over allFunctionsRows in batch and in request mode: the two must
// agree on every value.
func TestAllFunctionsFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(refDir, "all_functions.sql")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	mod, err := featurelang.Compile("all_functions.sql", text, featurelang.Options{})
	if err != nil {
		t.Fatalf("%s does not compile:\n%v", path, err)
	}
	checkViewsCallAll(t, text)
	for _, v := range mod.Views {
		t.Run(v.Name, func(t *testing.T) {
			t.Parallel()
			checkModesAgree(t, v, mod.Tables)
		})
	}
}

var notCalledRe = regexp.MustCompile(`(?m)^-- not called: ([a-z_0-9]+):`)

// checkViewsCallAll checks the calls of each DEPLOY of the file.
func checkViewsCallAll(t *testing.T, text string) {
	t.Helper()
	families := referenceFamilies(t)
	known := knownFunctions(t)
	skip := map[string]bool{}
	for _, m := range notCalledRe.FindAllStringSubmatch(text, -1) {
		if _, ok := families[m[1]]; !ok {
			t.Errorf("not called: %s is not a function of the reference", m[1])
		}
		if !known[m[1]] {
			t.Errorf("not called: %s has no case in %s to say why", m[1], knownFile)
		}
		skip[m[1]] = true
	}
	calls := map[string]map[string]bool{} // view -> functions it calls
	for _, stmt := range strings.Split(stripSQLComments(text), ";") {
		f := strings.Fields(stmt)
		if len(f) < 2 || !strings.EqualFold(f[0], "DEPLOY") {
			continue
		}
		calls[f[1]] = map[string]bool{}
		for _, n := range calledNames(stmt) {
			calls[f[1]][n] = true
		}
	}
	var missing []string
	for name, family := range families {
		if !skip[name] && !calls[family+"_functions"][name] {
			missing = append(missing, name+" (view "+family+"_functions)")
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("all_functions.sql does not call %d functions of the reference: %s", len(missing), strings.Join(missing, ", "))
	}
}

// referenceFamilies maps each function of functions.list to its family.
func referenceFamilies(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(refDir, "functions.list"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && !strings.HasPrefix(f[0], "#") {
			out[f[0]] = f[1]
		}
	}
	if len(out) != len(referenceFunctions(t)) {
		t.Fatalf("functions.list: a line without its family")
	}
	return out
}

// knownFunctions returns the functions the cases of known_differences.txt
// call.
func knownFunctions(t *testing.T) map[string]bool {
	t.Helper()
	cases, err := parseRefFile(filepath.Join(refDir, knownFile))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, c := range cases {
		for _, n := range calledNames(c.expr) {
			out[n] = true
		}
	}
	return out
}

// stripSQLComments drops -- comments (the file has none inside strings).
func stripSQLComments(text string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if j := strings.Index(l, "--"); j >= 0 {
			lines[i] = l[:j]
		}
	}
	return strings.Join(lines, "\n")
}

// checkModesAgree runs view v over allFunctionsRows in batch mode, then
// each row as a request over the rows before it, and compares the two.
func checkModesAgree(t *testing.T, v *plan.Plan, tables []*plan.Table) {
	t.Helper()
	var schema types.Schema
	for _, tbl := range tables {
		if tbl.Name == v.RequestTable {
			schema = tbl.Schema
		}
	}
	rows := types.NewBlock(schema, len(allFunctionsRows))
	for _, line := range allFunctionsRows {
		fields := splitFields(line)
		row := make([]types.Value, len(schema))
		for j, f := range fields {
			val, err := readValue(f, schema[j].Type)
			if err != nil {
				t.Fatalf("row %q, column %s: %v", line, schema[j].Name, err)
			}
			row[j] = val
		}
		rows.AppendRow(row)
	}
	ev, err := roundTrip(v)
	if err != nil {
		t.Fatal(err)
	}
	batch, err := ev.Batch(context.Background(), map[string]*types.Block{v.RequestTable: rows})
	if err != nil {
		t.Fatalf("batch: %v", err)
	}
	src := eval.NewMemSource()
	src.Create(v.RequestTable, schema)
	for i := range rows.Len {
		row := rows.Row(i, nil)
		got, err := ev.Request(context.Background(), row, src)
		if err != nil {
			t.Fatalf("request, row %d: %v", i+1, err)
		}
		for j, f := range v.Output {
			if want := batch.Cols[j].Value(i); !types.Identical(got[j], want) {
				t.Errorf("row %d, %s: batch mode gives %s, request mode %s", i+1, f.Name, want, got[j])
			}
		}
		if err := src.Insert(v.RequestTable, row); err != nil {
			t.Fatal(err)
		}
	}
}
