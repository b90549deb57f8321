package parser

import (
	"errors"
	"reflect"
	"testing"

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
	for _, tables := range [][]parseTest{queryTests, scriptTests} {
		for _, tc := range tables {
			seeds = append(seeds, tc.src)
		}
	}
	for _, tc := range errorTests {
		seeds = append(seeds, tc.src)
	}
	seeds = append(seeds, featureFile)
	cases, _ := readConformance()
	for _, c := range cases {
		if len(c.SQL) <= maxSeedLen {
			seeds = append(seeds, c.SQL)
		}
	}
	return seeds
}

// FuzzParse checks that no input makes Parse or ParseQuery panic, and that
// their results are consistent.
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
	})
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
