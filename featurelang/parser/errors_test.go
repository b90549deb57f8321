package parser

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/diag"
)

// errorTests are malformed feature files and the exact rendered error list
// Parse returns for each, as a user sees it.
var errorTests = []struct {
	name, src, want string
}{
	{"window frame not closed", "SELECT sum(a) OVER (PARTITION BY k ORDER BY ts ROWS BETWEEN 3 PRECEDING AND CURRENT ROW FROM t", `f.sql:1:89: expected ')' after window frame, found 'FROM'
 | SELECT sum(a) OVER (PARTITION BY k ORDER BY ts ROWS BETWEEN 3 PRECEDING AND CURRENT ROW FROM t
 |                                                                                         ^`},
	{"unterminated string", "SELECT 'abc FROM t", `f.sql:1:8: unterminated string literal
 | SELECT 'abc FROM t
 |        ^`},
	{"unterminated string on line 3", "SELECT a,\n\tb,\n\t'unclosed\nFROM t", `f.sql:3:2: unterminated string literal
 | 	'unclosed
 | 	^`},
	{"unknown cast type", "SELECT CAST(a AS strng) FROM t", `f.sql:1:18: unknown type "strng"
 | SELECT CAST(a AS strng) FROM t
 |                  ^`},
	{"unknown column type", "CREATE TABLE t (a int,\n  b strng)", `f.sql:2:5: unknown type "strng"
 |   b strng)
 |     ^`},
	{"unknown element type", "SELECT CAST(a AS map<int, strng>)", `f.sql:1:18: unknown element type "strng" in "map<int, strng>"
 | SELECT CAST(a AS map<int, strng>)
 |                  ^`},
	{"cel column", "SELECT CEL(x) FROM t", `f.sql:1:8: CEL takes one string literal
 | SELECT CEL(x) FROM t
 |        ^`},
	{"cel two args", "SELECT CEL('a', 'b') FROM t", `f.sql:1:8: CEL takes one string literal
 | SELECT CEL('a', 'b') FROM t
 |        ^`},
	{"cel no args", "SELECT CEL()", `f.sql:1:8: CEL takes one string literal
 | SELECT CEL()
 |        ^`},
	{"comma from", "SELECT * FROM a, b", `f.sql:1:16: comma-separated FROM lists are not supported; use LAST JOIN ... ON
 | SELECT * FROM a, b
 |                ^`},
	{"with", "WITH x AS (SELECT 1) SELECT * FROM x", `f.sql:1:1: WITH clauses are not supported
 | WITH x AS (SELECT 1) SELECT * FROM x
 | ^`},
	{"set union", "SELECT a FROM t UNION ALL SELECT a FROM u", `f.sql:1:17: set operations (UNION) are not supported
 | SELECT a FROM t UNION ALL SELECT a FROM u
 |                 ^`},
	{"config values not a row", "SELECT a FROM t CONFIG (execute_mode = 'request', values = 1)", `f.sql:1:60: expected '(' to start a row of values, found '1'
 | SELECT a FROM t CONFIG (execute_mode = 'request', values = 1)
 |                                                            ^`},
	{"config values list not rows", "SELECT a FROM t CONFIG (values = [(1), 2])", `f.sql:1:40: expected '(' to start a row of values, found '2'
 | SELECT a FROM t CONFIG (values = [(1), 2])
 |                                        ^`},
	{"config in deploy", "DEPLOY d SELECT a FROM t CONFIG (execute_mode = 'request')", `f.sql:1:26: CONFIG is not allowed in DEPLOY: a deployment runs in request mode on the rows its requests send
 | DEPLOY d SELECT a FROM t CONFIG (execute_mode = 'request')
 |                          ^`},
	{"interval in expression", "SELECT 100 + 1s", `f.sql:1:14: time interval 1s is only allowed in window frames and TTL
 | SELECT 100 + 1s
 |              ^`},
	{"unit on rows", "SELECT 1 FROM t WINDOW w AS (ROWS BETWEEN 3s PRECEDING AND CURRENT ROW)", `f.sql:1:43: ROWS frame offset 3s must be a row count without a time unit (use ROWS_RANGE for time)
 | SELECT 1 FROM t WINDOW w AS (ROWS BETWEEN 3s PRECEDING AND CURRENT ROW)
 |                                           ^`},
	{"bad unit", "SELECT 1 FROM t WINDOW w AS (ROWS_RANGE BETWEEN 10ms PRECEDING AND CURRENT ROW)", `f.sql:1:49: invalid numeric literal "10ms"
 | SELECT 1 FROM t WINDOW w AS (ROWS_RANGE BETWEEN 10ms PRECEDING AND CURRENT ROW)
 |                                                 ^`},
	{"range frame", "SELECT 1 FROM t WINDOW w AS (RANGE BETWEEN 3 PRECEDING AND CURRENT ROW)", `f.sql:1:30: RANGE frames are not supported; use ROWS or ROWS_RANGE
 | SELECT 1 FROM t WINDOW w AS (RANGE BETWEEN 3 PRECEDING AND CURRENT ROW)
 |                              ^`},
	{"missing and", "SELECT 1 FROM t WINDOW w AS (ROWS BETWEEN 3 PRECEDING CURRENT ROW)", `f.sql:1:55: expected 'AND' between frame bounds, found 'CURRENT'
 | SELECT 1 FROM t WINDOW w AS (ROWS BETWEEN 3 PRECEDING CURRENT ROW)
 |                                                       ^`},
	{"missing direction", "SELECT 1 FROM t WINDOW w AS (ROWS BETWEEN 3 AND CURRENT ROW)", `f.sql:1:45: expected 'PRECEDING' or 'FOLLOWING', found 'AND'
 | SELECT 1 FROM t WINDOW w AS (ROWS BETWEEN 3 AND CURRENT ROW)
 |                                             ^`},
	{"bad exclude", "SELECT 1 FROM t WINDOW w AS (ROWS BETWEEN 3 PRECEDING AND CURRENT ROW EXCLUDE ROWS)", `f.sql:1:79: expected 'CURRENT_ROW' or 'CURRENT_TIME' after EXCLUDE, found 'ROWS'
 | SELECT 1 FROM t WINDOW w AS (ROWS BETWEEN 3 PRECEDING AND CURRENT ROW EXCLUDE ROWS)
 |                                                                               ^`},
	{"maxsize zero", "SELECT 1 FROM t WINDOW w AS (ROWS BETWEEN 3 PRECEDING AND CURRENT ROW MAXSIZE 0)", `f.sql:1:79: MAXSIZE must be positive, found 0
 | SELECT 1 FROM t WINDOW w AS (ROWS BETWEEN 3 PRECEDING AND CURRENT ROW MAXSIZE 0)
 |                                                                               ^`},
	{"duplicate maxsize", "SELECT 1 FROM t WINDOW w AS (MAXSIZE 10 MAXSIZE 20)", `f.sql:1:41: duplicate MAXSIZE
 | SELECT 1 FROM t WINDOW w AS (MAXSIZE 10 MAXSIZE 20)
 |                                         ^`},
	{"window without as", "SELECT 1 FROM t WINDOW w (PARTITION BY k)", `f.sql:1:26: expected 'AS' after window name, found '('
 | SELECT 1 FROM t WINDOW w (PARTITION BY k)
 |                          ^`},
	{"unterminated comment", "SELECT 1 /* never closed", `f.sql:1:10: unterminated comment
 | SELECT 1 /* never closed
 |          ^`},
	{"unterminated quoted identifier", "SELECT `a b FROM t", "f.sql:1:8: unterminated quoted identifier\n | SELECT `a b FROM t\n |        ^"},
	{"empty quoted identifier", "SELECT ``", "f.sql:1:8: empty quoted identifier\n | SELECT ``\n |        ^"},
	{"bad character", "SELECT a @ b FROM t", `f.sql:1:10: unexpected character '@'
 | SELECT a @ b FROM t
 |          ^`},
	{"in subquery", "SELECT a FROM t WHERE a IN (SELECT b FROM u)", `f.sql:1:29: IN (SELECT ...) is not supported
 | SELECT a FROM t WHERE a IN (SELECT b FROM u)
 |                             ^`},
	{"scalar subquery", "SELECT (SELECT 1)", `f.sql:1:9: subqueries are not supported in expressions
 | SELECT (SELECT 1)
 |         ^`},
	{"chained comparison", "SELECT a = b = c", `f.sql:1:14: comparisons cannot be chained; add parentheses
 | SELECT a = b = c
 |              ^`},
	{"is true", "SELECT a IS TRUE", `f.sql:1:13: expected 'NULL' after IS, found 'TRUE'
 | SELECT a IS TRUE
 |             ^`},
	{"missing then", "SELECT CASE WHEN a 1 END", `f.sql:1:20: expected 'THEN' after WHEN condition, found '1'
 | SELECT CASE WHEN a 1 END
 |                    ^`},
	{"missing end", "SELECT CASE WHEN a THEN 1 FROM t", `f.sql:1:27: expected 'END' to close CASE, found 'FROM'
 | SELECT CASE WHEN a THEN 1 FROM t
 |                           ^`},
	{"missing comma", "SELECT a b c FROM t", `f.sql:1:12: expected ',' or FROM after select item, found 'c'
 | SELECT a b c FROM t
 |            ^`},
	{"missing join condition", "SELECT * FROM a LAST JOIN b WHERE x", `f.sql:1:29: expected 'ON' after joined table, found 'WHERE'
 | SELECT * FROM a LAST JOIN b WHERE x
 |                             ^`},
	{"star in expression", "SELECT 1 + *", `f.sql:1:12: '*' is only allowed as a select item or a function argument
 | SELECT 1 + *
 |            ^`},
	{"qualified star in call", "SELECT f(t.*)", `f.sql:1:12: 't.*' is only allowed as a select item
 | SELECT f(t.*)
 |            ^`},
	{"qualified function", "SELECT db.f(x)", `f.sql:1:8: qualified function names are not supported
 | SELECT db.f(x)
 |        ^`},
	{"too many qualifiers", "SELECT a.b.c.d", `f.sql:1:8: column reference a.b.c.d has too many qualifiers
 | SELECT a.b.c.d
 |        ^`},
	{"int out of range", "SELECT 99999999999999999999", `f.sql:1:8: integer literal 99999999999999999999 is out of range
 | SELECT 99999999999999999999
 |        ^`},
	{"float out of range", "SELECT 1e999", `f.sql:1:8: floating-point literal 1e999 is out of range
 | SELECT 1e999
 |        ^`},
	{"end of input", "SELECT a FROM t WHERE", `f.sql:1:22: expected expression, found end of input
 | SELECT a FROM t WHERE
 |                      ^`},
	{"unknown index option", "CREATE TABLE t (a int, INDEX(KEY=a, TIME=a))", `f.sql:1:37: unknown index option "TIME" (want KEY, TS, TTL or TTL_TYPE)
 | CREATE TABLE t (a int, INDEX(KEY=a, TIME=a))
 |                                     ^`},
	{"unknown ttl type", "CREATE TABLE t (a int, INDEX(KEY=a, TTL_TYPE=forever))", `f.sql:1:46: unknown TTL_TYPE "forever" (want absolute, latest, absorlat or absandlat)
 | CREATE TABLE t (a int, INDEX(KEY=a, TTL_TYPE=forever))
 |                                              ^`},
	{"duplicate ts", "CREATE TABLE t (a int, INDEX(KEY=a, TS=a, TS=a))", `f.sql:1:43: duplicate TS in INDEX
 | CREATE TABLE t (a int, INDEX(KEY=a, TS=a, TS=a))
 |                                           ^`},
	{"create index", "CREATE INDEX i ON t (a)", `f.sql:1:1: unsupported statement: CREATE INDEX (fenestra runs CREATE DATABASE/TABLE, USE, SET, LOAD DATA, SELECT [INTO OUTFILE], DEPLOY, SHOW, DESC, DROP, INSERT, EXPLAIN)
 | CREATE INDEX i ON t (a)
 | ^`},
	{"deploy without select", "DEPLOY d FROM t", `f.sql:1:10: expected 'SELECT' after DEPLOY d, found 'FROM'
 | DEPLOY d FROM t
 |          ^`},
	{"other statement", "UPDATE t SET a = 1", `f.sql:1:1: unsupported statement: UPDATE (fenestra runs CREATE DATABASE/TABLE, USE, SET, LOAD DATA, SELECT [INTO OUTFILE], DEPLOY, SHOW, DESC, DROP, INSERT, EXPLAIN)
 | UPDATE t SET a = 1
 | ^`},
	{"errors in several statements", "SELECT 1;\nSELEC 2;\nSELECT (3;\nCREATE TABLE t (a int);\nDEPLOY d SELECT 'x;\n", `f.sql:2:1: expected a statement (CREATE DATABASE/TABLE, USE, SET, LOAD DATA, SELECT [INTO OUTFILE], DEPLOY, SHOW, DESC, DROP, INSERT, EXPLAIN), found 'SELEC'
 | SELEC 2;
 | ^
f.sql:3:10: expected ')' after expression, found ';'
 | SELECT (3;
 |          ^
f.sql:5:17: unterminated string literal
 | DEPLOY d SELECT 'x;
 |                 ^`},
	{"resync at statement keyword", "CREATE TABLE t (a int\nSELECT a FROM t\nDEPLOY d SELECT b FROM;", `f.sql:2:1: expected ')' after column definitions, found 'SELECT'
 | SELECT a FROM t
 | ^
f.sql:3:1: expected ';' after statement, found 'DEPLOY'
 | DEPLOY d SELECT b FROM;
 | ^
f.sql:3:23: expected table name, found ';'
 | DEPLOY d SELECT b FROM;
 |                       ^`},
}

func TestErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range errorTests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(diag.NewSource("f.sql", tc.src))
			if err == nil {
				t.Fatalf("%q parsed, want error:\n%s", tc.src, tc.want)
			}
			var list *diag.List
			if !errors.As(err, &list) {
				t.Fatalf("%q: error is %T, want *diag.List", tc.src, err)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("%q: got\n%s\nwant\n%s", tc.src, got, tc.want)
			}
		})
	}
}

// TestParseQueryErrors covers what only ParseQuery rejects.
func TestParseQueryErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ src, want string }{
		{"", "q:1:1: expected 'SELECT', found end of input"},
		{"SELECT 1; SELECT 2", "q:1:11: expected end of query, found 'SELECT'"},
		{"CREATE TABLE t (a int)", "q:1:1: expected 'SELECT', found 'CREATE'"},
		{"SELECT a FROM t WHERE", "q:1:22: expected expression, found end of input"},
	} {
		sel, err := ParseQuery(diag.NewSource("q", tc.src))
		if sel != nil || err == nil {
			t.Errorf("ParseQuery(%q) = %v, %v; want nil and an error", tc.src, sel, err)
			continue
		}
		if first, _, _ := strings.Cut(err.Error(), "\n"); first != tc.want {
			t.Errorf("ParseQuery(%q): got %q, want %q", tc.src, first, tc.want)
		}
	}
}

// TestErrorCap checks that errors in many statements are all counted but
// only diag.MaxErrors are kept.
func TestErrorCap(t *testing.T) {
	t.Parallel()
	const n = diag.MaxErrors + 10
	script, err := Parse(diag.NewSource("f.sql", strings.Repeat("SELEC 1;\nSELECT 1;\n", n)))
	var list *diag.List
	if !errors.As(err, &list) || list.Len() != n || len(list.Errs) != diag.MaxErrors {
		t.Fatalf("got %v, want %d errors of which %d kept", err, n, diag.MaxErrors)
	}
	if want := fmt.Sprintf("(and %d more errors)", n-diag.MaxErrors); !strings.HasSuffix(err.Error(), want) {
		t.Errorf("error does not end with %q", want)
	}
	if len(script.Stmts) != n {
		t.Errorf("got %d good statements, want %d", len(script.Stmts), n)
	}
}

// TestDeepNesting checks that deep nesting fails cleanly instead of
// overflowing the stack, and that moderate nesting parses.
func TestDeepNesting(t *testing.T) {
	t.Parallel()
	nest := func(prefix, open, mid, close string) func(int) string {
		return func(n int) string {
			return prefix + strings.Repeat(open, n) + mid + strings.Repeat(close, n)
		}
	}
	for _, tc := range []struct {
		name    string
		src     func(depth int) string
		shallow bool // whether depth 100 is valid
	}{
		{"parens", nest("SELECT ", "(", "1", ")"), true},
		{"unary minus", nest("SELECT ", "- ", "1", ""), true},
		{"not", nest("SELECT ", "NOT ", "a", ""), true},
		{"bang", nest("SELECT ", "!", "a", ""), true},
		{"calls", nest("SELECT ", "f(", "1", ")"), true},
		{"arrays", nest("SELECT ", "[", "1", "]"), true},
		{"subscript indexes", nest("SELECT x", "[", "1", "]"), true},
		{"case", nest("SELECT ", "CASE WHEN a THEN ", "1", " END"), true},
		{"subqueries", nest("SELECT * FROM ", "(SELECT * FROM ", "t", ")"), true},
		{"joins", nest("SELECT * FROM ", "(", "t", ")"), true},
		{"types", nest("SELECT CAST(x AS ", "array<", "int", ">)"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(diag.NewSource("deep.sql", tc.src(5000)))
			if err == nil || !strings.Contains(err.Error(), "nesting too deep") {
				t.Errorf("nested 5000 deep: got %v, want a nesting error", firstLine(err))
			}
			if _, err := Parse(diag.NewSource("ok.sql", tc.src(100))); tc.shallow && err != nil {
				t.Errorf("nested 100 deep: %v", firstLine(err))
			}
		})
	}
}

func firstLine(err error) string {
	if err == nil {
		return "<nil>"
	}
	first, _, _ := strings.Cut(err.Error(), "\n")
	return first
}

// TestRecovery checks that the statements around syntax errors still parse
// and each error is reported once.
func TestRecovery(t *testing.T) {
	t.Parallel()
	src := "SELECT a\nDEPLOY d SELECT b FROM t;\nSELECT (;\nCREATE TABLE u (x int);\nSELECT 1 FROM t WINDOW w AS (ROWS x"
	script, err := Parse(diag.NewSource("r.sql", src))
	if got, want := render(script), "DEPLOY d SELECT b FROM t; CREATE TABLE u (x int32)"; got != want {
		t.Errorf("statements: got %s, want %s", got, want)
	}
	var list *diag.List
	if !errors.As(err, &list) {
		t.Fatalf("got %v, want a *diag.List", err)
	}
	var got []string
	for _, e := range list.Errs {
		got = append(got, e.Position()+": "+e.Msg)
	}
	want := []string{
		"r.sql:2:1: expected ';' after statement, found 'DEPLOY'",
		"r.sql:3:9: expected expression, found ';'",
		"r.sql:5:35: expected frame bound (UNBOUNDED, CURRENT ROW or a number), found 'x'",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
