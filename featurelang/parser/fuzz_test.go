package parser

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/ast"
	"github.com/fenestra-dev/fenestra/featurelang/diag"
)

// maxSeedLen leaves out the few conformance queries over 4KB (9 of 2,102,
// built from the same constructs as the rest): minimizing inputs derived
// from them stalls the fuzzer for long stretches.
const maxSeedLen = 4 << 10

// fuzzSeeds returns every input of the test tables, and the conformance
// SQL when the corpus is present.
func fuzzSeeds() []string {
	var seeds []string
	for _, tc := range exprTests {
		seeds = append(seeds, "SELECT "+tc.src)
	}
	for _, tables := range [][]parseTest{queryTests, scriptTests, stmtTests} {
		for _, tc := range tables {
			seeds = append(seeds, tc.src)
		}
	}
	for _, tc := range errorTests {
		seeds = append(seeds, tc.src)
	}
	for _, tc := range stmtErrorTests {
		seeds = append(seeds, tc.src)
	}
	seeds = append(seeds, featureFile)
	for _, demo := range demoScripts {
		if text, err := os.ReadFile(filepath.Join("testdata", "openmldb", demo.file)); err == nil && len(text) <= maxSeedLen {
			seeds = append(seeds, string(text))
		}
	}
	cases, _ := readConformance()
	for _, c := range cases {
		if len(c.SQL) <= maxSeedLen {
			seeds = append(seeds, c.SQL)
		}
	}
	return seeds
}

// FuzzParse checks that no input makes Parse or ParseQuery panic, that
// their results are consistent, that statements' ends are in order, that
// the simple script statements render back to themselves, and that an
// unknown statement yields one error whatever follows it.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		script, err := Parse(diag.NewSource("fuzz.sql", src))
		if script == nil {
			t.Fatalf("Parse(%q) returned a nil script", src)
		}
		checkErr(t, src, err)
		sel, qerr := ParseQuery(diag.NewSource("fuzz.sql", src))
		checkErr(t, src, qerr)
		if (sel == nil) == (qerr == nil) {
			t.Fatalf("ParseQuery(%q) = %v, %v: want exactly one of a query and an error", src, sel, qerr)
		}
		if qerr == nil && (err != nil || len(script.Stmts) != 1) {
			t.Fatalf("ParseQuery(%q) succeeded but Parse gave %d statements, %v", src, len(script.Stmts), err)
		}
		checkPositions(t, src, script)
		checkPositions(t, src, sel)
		_ = render(script)
		checkEnds(t, src, script)
		for _, st := range script.Stmts {
			checkRoundTrip(t, src, st)
		}
		checkOneError(t, "DELETE "+strings.ReplaceAll(src, ";", " "))
	})
}

// checkEnds checks that each statement ends after it starts and before the
// next one, and that Script.Text gives its source.
func checkEnds(t *testing.T, src string, script *ast.Script) {
	t.Helper()
	if len(script.Ends) != len(script.Stmts) {
		t.Fatalf("%q: %d statements, %d ends", src, len(script.Stmts), len(script.Ends))
	}
	for i, st := range script.Stmts {
		end := script.Ends[i]
		if end <= st.Pos() || int(end) > len(src) || i > 0 && st.Pos() < script.Ends[i-1] {
			t.Fatalf("%q: statement %d spans %d..%d", src, i, st.Pos(), end)
		}
		if script.Text(i) != src[st.Pos():end] {
			t.Fatalf("%q: Text(%d) = %q", src, i, script.Text(i))
		}
	}
}

// checkRoundTrip checks that a script statement whose values are literals
// and whose strings render without escapes renders to SQL that parses back
// to the same statement.
func checkRoundTrip(t *testing.T, src string, st ast.Stmt) {
	t.Helper()
	if !roundTrips(st) {
		return
	}
	text := render(st)
	if strings.Contains(text, `\`) {
		return
	}
	back, err := Parse(diag.NewSource("back.sql", text))
	if err != nil || len(back.Stmts) != 1 || render(back.Stmts[0]) != text {
		t.Fatalf("%q: statement renders as %s, which parses back as %s, %v", src, text, render(back), err)
	}
}

// roundTrips reports whether render(st) is meant to parse back to st:
// for the script statements whose values are all literals.
func roundTrips(st ast.Stmt) bool {
	switch st := st.(type) {
	case *ast.CreateDatabase, *ast.Use, *ast.Show, *ast.Drop, *ast.Set:
		return true
	case *ast.LoadData:
		return literalOptions(st.Options)
	case *ast.Insert:
		for _, row := range st.Rows {
			for _, v := range row {
				if !isLiteral(v) {
					return false
				}
			}
		}
		return true
	}
	return false
}

func literalOptions(opts []*ast.Option) bool {
	for _, o := range opts {
		if !isLiteral(o.Value) {
			return false
		}
	}
	return true
}

// isLiteral reports whether e is a literal, possibly signed.
func isLiteral(e ast.Expr) bool {
	if u, ok := e.(*ast.Unary); ok {
		e = u.X
	}
	_, ok := e.(*ast.Literal)
	return ok
}

// checkOneError checks that src, a statement fenestra does not run without
// a ';', gives exactly one error and no statement.
func checkOneError(t *testing.T, src string) {
	t.Helper()
	script, err := Parse(diag.NewSource("one.sql", src))
	var list *diag.List
	if !errors.As(err, &list) || list.Len() != 1 || len(script.Stmts) != 0 {
		t.Fatalf("%q: got %d statements and %v, want one error", src, len(script.Stmts), err)
	}
}

var posType = reflect.TypeFor[diag.Pos]()

// checkPositions fails if any position in the tree rooted at node lies
// outside src.
func checkPositions(t *testing.T, src string, node any) {
	t.Helper()
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case reflect.Struct:
			for i := range v.NumField() {
				if v.Type().Field(i).Type != reflect.TypeFor[*diag.Source]() {
					walk(v.Field(i))
				}
			}
		case reflect.Slice:
			for i := range v.Len() {
				walk(v.Index(i))
			}
		case reflect.Int:
			if p := v.Int(); v.Type() == posType && (p < 0 || p > int64(len(src))) {
				t.Fatalf("%q: position %d outside the source in %s", src, p, render(node))
			}
		}
	}
	walk(reflect.ValueOf(node))
}

// checkErr checks that err is nil or a non-empty *diag.List whose errors
// lie within src and render.
func checkErr(t *testing.T, src string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var list *diag.List
	if !errors.As(err, &list) || list.Len() == 0 {
		t.Fatalf("%q: error %T %v, want a non-empty *diag.List", src, err, err)
	}
	for _, e := range list.Errs {
		if e.Pos < 0 || int(e.Pos) > len(src) {
			t.Fatalf("%q: error position %d outside the source: %v", src, e.Pos, e)
		}
	}
	_ = err.Error()
}
