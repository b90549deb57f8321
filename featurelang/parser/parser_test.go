package parser

import (
	"slices"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/ast"
	"github.com/fenestra-dev/fenestra/featurelang/diag"
)

// parseTest is one input and its rendered syntax tree (see render).
type parseTest struct {
	name, src, want string
}

// exprTests are expressions, parsed as the single item of "SELECT <src>".
var exprTests = []parseTest{
	// Literals.
	{"int", "1", "1"},
	{"int32 max", "2147483647", "2147483647"},
	{"int beyond int32", "2147483648", "2147483648L"},
	{"bigint suffix", "123L", "123L"},
	{"bigint lower suffix", "123l", "123L"},
	{"double", "1.5", "1.5"},
	{"double exponent", "1e3", "1000.0"},
	{"double signed exponent", "25E-1", "2.5"},
	{"double leading dot", ".5", "0.5"},
	{"double trailing dot", "2.", "2.0"},
	{"float", "1.5f", "1.5f"},
	{"float upper", "2.25F", "2.25f"},
	{"single quoted", "'abc'", `"abc"`},
	{"double quoted", `"abc"`, `"abc"`},
	{"escaped quotes", `'a\'b\"c' `, `"a'b\"c"`},
	{"escapes", `'a\nb\tc\rd\\e\0f\bg\Zh'`, `"a\nb\tc\rd\\e\x00f\bg\x1ah"`},
	{"unknown escape keeps backslash", `'50\% \_x\y'`, `"50\\% \\_x\\y"`},
	{"other quote inside", `"it's"`, `"it's"`},
	{"newline in string", "'a\nb'", `"a\nb"`},
	{"true", "TRUE", "TRUE"},
	{"false lower", "false", "FALSE"},
	{"null", "null", "NULL"},

	// Names.
	{"column", "c1", "c1"},
	{"qualified column", "t.c1", "t.c1"},
	{"db column", "db.t.c1", "db.t.c1"},
	{"quoted column", "`c 1`", "c 1"},
	{"quoted keyword column", "`join`", "join"},
	{"quoted qualified", "`db`.`t`.`c`", "db.t.c"},
	{"keyword after dot", "t.date", "t.date"},
	{"reserved after dot", "t.`from`", "t.from"},
	{"column keeps case", "T.MyCol", "T.MyCol"},

	// Precedence and associativity.
	{"mul over add", "1 + 2 * 3", "(1 + (2 * 3))"},
	{"left assoc", "1 - 2 - 3", "((1 - 2) - 3)"},
	{"mul ops", "a * b / c % d DIV e MOD f", "(((((a * b) / c) % d) DIV e) % f)"},
	{"and over or", "a OR b AND c", "(a OR (b AND c))"},
	{"symbolic and or", "a || b && c", "(a OR (b AND c))"},
	{"xor over and", "a XOR b AND c", "((a XOR b) AND c)"},
	{"xor under or", "a OR b XOR c", "(a OR (b XOR c))"},
	{"not over comparison", "NOT a = b", "(NOT (a = b))"},
	{"bang is not", "! a = b", "(NOT (a = b))"},
	{"not under and", "!a AND b", "((NOT a) AND b)"},
	{"double not", "NOT NOT a", "(NOT (NOT a))"},
	{"bitwise levels", "a | b ^ c & d", "(a | (b ^ (c & d)))"},
	{"and over plus", "a & b + c", "(a & (b + c))"},
	{"comparison over bitor", "a = b | c", "(a = (b | c))"},
	{"unary minus", "-a * b", "((- a) * b)"},
	{"unary plus", "+1", "(+ 1)"},
	{"bitwise not", "~a + 1", "((~ a) + 1)"},
	{"nested unary", "- - 1", "(- (- 1))"},
	{"unary over subscript", "-x[0]", "(- x[0])"},
	{"parens", "(1 + 2) * 3", "((1 + 2) * 3)"},
	{"eq", "a = b", "(a = b)"},
	{"double eq", "a == b", "(a = b)"},
	{"ne", "a != b", "(a != b)"},
	{"sql ne", "a <> b", "(a != b)"},
	{"lt le gt ge", "a < b AND a <= b AND a > b AND a >= b", "((((a < b) AND (a <= b)) AND (a > b)) AND (a >= b))"},

	// Predicates.
	{"is null", "a IS NULL", "(a IS NULL)"},
	{"is not null", "a is not null", "(a IS NOT NULL)"},
	{"like", "a LIKE 'x%'", `(a LIKE "x%")`},
	{"not like escape", "a NOT LIKE 'x#%' ESCAPE '#'", `(a NOT LIKE "x#%" ESCAPE "#")`},
	{"ilike", "a ilike b", "(a ILIKE b)"},
	{"not rlike", "a NOT RLIKE '^a'", `(a NOT RLIKE "^a")`},
	{"in", "a IN (1, 2)", "(a IN (1, 2))"},
	{"not in", "a NOT IN ('x')", `(a NOT IN ("x"))`},
	{"between", "a BETWEEN 1 AND 2", "(a BETWEEN 1 AND 2)"},
	{"not between", "a NOT BETWEEN 1 + 1 AND 3", "(a NOT BETWEEN (1 + 1) AND 3)"},
	{"between then and", "a BETWEEN 1 AND 2 AND b", "((a BETWEEN 1 AND 2) AND b)"},
	{"like then or", "a LIKE b OR c", "((a LIKE b) OR c)"},
	{"not like prefix", "NOT a LIKE b", "(NOT (a LIKE b))"},
	{"is null and", "a IS NULL AND b IS NOT NULL", "((a IS NULL) AND (b IS NOT NULL))"},

	// CASE and CAST.
	{"searched case", "CASE WHEN a > 1 THEN 'x' WHEN a > 0 THEN 'y' ELSE 'z' END",
		`CASE WHEN (a > 1) THEN "x" WHEN (a > 0) THEN "y" ELSE "z" END`},
	{"simple case", "case a when 1 then 2 end", "CASE a WHEN 1 THEN 2 END"},
	{"case bang over", "case when !isnull(lag(c1, 0)) OVER w1 then 1 else null end",
		"CASE WHEN (NOT isnull(lag(c1, 0)) OVER w1) THEN 1 ELSE NULL END"},
	{"cast", "CAST(a AS bigint)", "CAST(a AS int64)"},
	{"cast varchar n", "cast(a as varchar(60))", "CAST(a AS string)"},
	{"cast map subscript", "cast (null as map<int, string>)[0]", "CAST(NULL AS map<int32, string>)[0]"},
	{"cast array", "CAST(x AS array<int64>)", "CAST(x AS array<int64>)"},
	{"cast smallint", "cast(x as smallint)", "CAST(x AS int16)"},

	// Calls.
	{"count star", "count(*)", "count(*)"},
	{"count distinct", "COUNT(DISTINCT a)", "count(DISTINCT a)"},
	{"lower-cased name", "Sum(a) OVER w", "sum(a) OVER w"},
	{"inline window", "sum(a) over (partition by k order by ts rows between 3 preceding and current row)",
		"sum(a) OVER (PARTITION BY k ORDER BY ts ROWS BETWEEN 3 PRECEDING AND CURRENT ROW)"},
	{"no args", "now()", "now()"},
	{"type name calls", "int(x) + bigint(x) + double(x)", "((int(x) + bigint(x)) + double(x))"},
	{"string of null", "string(null)", "string(NULL)"},
	{"date call", "DATE('2024-01-01')", `date("2024-01-01")`},
	{"timestamp call", "timestamp(1)", "timestamp(1)"},
	{"map subscript", `map(1, "2")[1]`, `map(1, "2")[1]`},
	{"map subscript space", `map(1, "2") [1]`, `map(1, "2")[1]`},
	{"empty map", "map()", "map()"},
	{"split subscript", `split(x, ",")[0]`, `split(x, ",")[0]`},
	{"chained subscripts", "x[1][2]", "x[1][2]"},
	{"mod function", "mod(a, 3)", "mod(a, 3)"},
	{"at function", "at(x, 1)", "at(x, 1)"},
	{"if function", "IF(a, 1, 2)", "if(a, 1, 2)"},
	{"left function", "left(s, 2)", "left(s, 2)"},
	{"star among args", "count_where(*, c < 4)", "count_where(*, (c < 4))"},
	{"call over on call", "identity(case when lag(d, 1) != null then 1 end) over w",
		"identity(CASE WHEN (lag(d, 1) != NULL) THEN 1 END) OVER w"},

	// Arrays, parameters, CEL.
	{"array", "[1, 2]", "[1, 2]"},
	{"empty array", "[]", "[]"},
	{"typed array", "ARRAY<INT64>[NULL, 1]", "array<int64>[NULL, 1]"},
	{"typed empty array", "array<string>[]", "array<string>[]"},
	{"untyped array keyword", "ARRAY[1]", "[1]"},
	{"array subscript", "[1, 2][0]", "[1, 2][0]"},
	{"param", "a = ?", "(a = ?)"},
	{"cel", "CEL('x + 1')", `CEL("x + 1")`},
	{"cel any case", `cel("a.b")`, `CEL("a.b")`},
}

// queryTests are whole queries for ParseQuery.
var queryTests = []parseTest{
	{"items and aliases", "SELECT a, b AS x, c y, `d` `e f`, *, t.* FROM t",
		"SELECT a, b AS x, c AS y, d AS e f, *, t.* FROM t"},
	{"no from", "select 1", "SELECT 1"},
	{"distinct", "select distinct a from t", "SELECT DISTINCT a FROM t"},
	{"all", "select all a from t", "SELECT a FROM t"},
	{"trailing comma before from", "select a, b, from t", "SELECT a, b FROM t"},
	{"trailing comma at end", "select a,", "SELECT a"},
	{"trailing semicolon", "SELECT a FROM t;", "SELECT a FROM t"},
	{"keywords any case", "sElEcT a FrOm t wHeRe a", "SELECT a FROM t WHERE a"},
	{"comments", "SELECT a -- one\n, b # two\n/* three\n */ FROM t /* four */", "SELECT a, b FROM t"},
	{"alias without as after call", `select array_join(x, ",") c1 from t`, `SELECT array_join(x, ",") AS c1 FROM t`},
	{"alias keeps case", "SELECT a AS MyA FROM t", "SELECT a AS MyA FROM t"},
	{"table alias", "SELECT x.a FROM t AS x", "SELECT x.a FROM t AS x"},
	{"table alias no as", "SELECT x.a FROM db.t x", "SELECT x.a FROM db.t AS x"},
	{"quoted table", "SELECT * FROM `db`.`t`", "SELECT * FROM db.t"},
	{"subquery alias", "SELECT s.a FROM (SELECT a FROM t) AS s", "SELECT s.a FROM (SELECT a FROM t) AS s"},
	{"subquery no alias", "select c1 + 8 from (select 9 as c1)", "SELECT (c1 + 8) FROM (SELECT 9 AS c1)"},
	{"last joins", "SELECT * FROM a LAST JOIN b ORDER BY b.ts ON a.k = b.k LAST JOIN c ON a.k = c.k",
		"SELECT * FROM ((a LAST JOIN b ORDER BY b.ts ON (a.k = b.k)) LAST JOIN c ON (a.k = c.k))"},
	{"last join subquery", "select * from t1 last join (select * from t2 where c1 != 'aa') t2 order by t2.c4 on t1.c1 = t2.c1",
		`SELECT * FROM (t1 LAST JOIN (SELECT * FROM t2 WHERE (c1 != "aa")) AS t2 ORDER BY t2.c4 ON (t1.c1 = t2.c1))`},
	{"left outer join", "SELECT * FROM a LEFT OUTER JOIN b ON a.k = b.k", "SELECT * FROM (a LEFT JOIN b ON (a.k = b.k))"},
	{"left join", "SELECT * FROM a left join b ON true", "SELECT * FROM (a LEFT JOIN b ON TRUE)"},
	{"plain join", "SELECT * FROM a JOIN b ON true", "SELECT * FROM (a JOIN b ON TRUE)"},
	{"inner join", "SELECT * FROM a INNER JOIN b ON true", "SELECT * FROM (a JOIN b ON TRUE)"},
	{"right join", "SELECT * FROM a RIGHT JOIN b ON true", "SELECT * FROM (a RIGHT JOIN b ON TRUE)"},
	{"full join", "SELECT * FROM a FULL OUTER JOIN b ON true", "SELECT * FROM (a FULL JOIN b ON TRUE)"},
	{"cross join", "SELECT * FROM a CROSS JOIN b", "SELECT * FROM (a CROSS JOIN b)"},
	{"parenthesized join", "SELECT * FROM (a LAST JOIN b ON a.k = b.k)", "SELECT * FROM (a LAST JOIN b ON (a.k = b.k))"},
	{"config one row", "SELECT a FROM t CONFIG (execute_mode = 'request', values = (5, 'x', timestamp(4000)))",
		`SELECT a FROM t CONFIG (execute_mode = "request", values = [(5, "x", timestamp(4000))])`},
	{"config rows", "SELECT a FROM t CONFIG (VALUES = [(1), (2 + 1)], Execute_Mode = 'request')",
		`SELECT a FROM t CONFIG (execute_mode = "request", values = [(1), ((2 + 1))])`},
	{"clauses", "SELECT k, count(*) FROM t WHERE a > 1 GROUP BY k, j HAVING count(*) > 2 ORDER BY k DESC, j ASC LIMIT 10",
		"SELECT k, count(*) FROM t WHERE (a > 1) GROUP BY k, j HAVING (count(*) > 2) ORDER BY k DESC, j LIMIT 10"},
	{"window", "SELECT sum(c) OVER w AS s FROM t WINDOW w AS (PARTITION BY t.k ORDER BY t.ts ROWS_RANGE BETWEEN 3 PRECEDING AND CURRENT ROW) limit 10",
		"SELECT sum(c) OVER w AS s FROM t WINDOW w AS (PARTITION BY t.k ORDER BY t.ts ROWS_RANGE BETWEEN 3 PRECEDING AND CURRENT ROW) LIMIT 10"},
	{"window options any order", "SELECT 1 FROM t WINDOW w AS (UNION t2, db.t3 PARTITION BY k, j ORDER BY ts DESC " +
		"ROWS_RANGE BETWEEN 3s PRECEDING AND 0s PRECEDING INSTANCE_NOT_IN_WINDOW MAXSIZE 10 EXCLUDE CURRENT_TIME EXCLUDE CURRENT_ROW)",
		"SELECT 1 FROM t WINDOW w AS (UNION t2, db.t3 PARTITION BY k, j ORDER BY ts DESC " +
			"ROWS_RANGE BETWEEN 3000(3s) PRECEDING AND 0(0s) PRECEDING EXCLUDE CURRENT_ROW EXCLUDE CURRENT_TIME MAXSIZE 10 INSTANCE_NOT_IN_WINDOW)"},
	{"range units", "SELECT 1 FROM t WINDOW a AS (ROWS_RANGE BETWEEN 10m PRECEDING AND CURRENT ROW), " +
		"b AS (ROWS_RANGE BETWEEN 1h PRECEDING AND 1H PRECEDING), c AS (ROWS_RANGE BETWEEN 30d OPEN PRECEDING AND CURRENT ROW)",
		"SELECT 1 FROM t WINDOW a AS (ROWS_RANGE BETWEEN 600000(10m) PRECEDING AND CURRENT ROW), " +
			"b AS (ROWS_RANGE BETWEEN 3600000(1h) PRECEDING AND 3600000(1h) PRECEDING), " +
			"c AS (ROWS_RANGE BETWEEN 2592000000(30d) OPEN PRECEDING AND CURRENT ROW)"},
	{"unbounded and following", "SELECT 1 FROM t WINDOW w AS (ORDER BY ts ROWS BETWEEN UNBOUNDED PRECEDING AND 3 FOLLOWING), " +
		"v AS (ROWS BETWEEN 2 OPEN PRECEDING AND UNBOUNDED FOLLOWING)",
		"SELECT 1 FROM t WINDOW w AS (ORDER BY ts ROWS BETWEEN UNBOUNDED PRECEDING AND 3 FOLLOWING), " +
			"v AS (ROWS BETWEEN 2 OPEN PRECEDING AND UNBOUNDED FOLLOWING)"},
	{"negative offset", "SELECT 1 FROM t WINDOW w AS (ROWS BETWEEN 2 PRECEDING AND -1 PRECEDING), v AS (ROWS_RANGE BETWEEN 2s PRECEDING AND -1s PRECEDING)",
		"SELECT 1 FROM t WINDOW w AS (ROWS BETWEEN 2 PRECEDING AND -1 PRECEDING), v AS (ROWS_RANGE BETWEEN 2000(2s) PRECEDING AND -1000(-1s) PRECEDING)"},
	{"single bound frame", "SELECT 1 FROM t WINDOW w AS (ROWS 5 PRECEDING)",
		"SELECT 1 FROM t WINDOW w AS (ROWS BETWEEN 5 PRECEDING AND CURRENT ROW)"},
	{"union subqueries", "SELECT 1 FROM t WINDOW w AS (UNION (select * from t2) AS x, (SELECT a FROM t3), t4 PARTITION BY k)",
		"SELECT 1 FROM t WINDOW w AS (UNION (SELECT * FROM t2) AS x, (SELECT a FROM t3), t4 PARTITION BY k)"},
	{"empty window", "SELECT 1 FROM t WINDOW w AS ()", "SELECT 1 FROM t WINDOW w AS ()"},
}

// scriptTests are feature files for Parse; statements render separated by
// "; ".
var scriptTests = []parseTest{
	{"create table", "CREATE TABLE t (a int, b string NOT NULL, c timestamp DEFAULT 0, INDEX(KEY=a, TS=c))",
		"CREATE TABLE t (a int32, b string NOT NULL, c timestamp DEFAULT 0, INDEX (KEY=(a), TS=c))"},
	{"create table full", "create table if not exists db.t (k string, ts bigint not null default 1 + 1, " +
		"index idx(ttl_type = absandlat, ttl = (10d, 100), ts = ts, key = (k, `ts`)), INDEX(KEY=k, TTL=30m, TTL_TYPE=ABSOLUTE)) " +
		"OPTIONS (PARTITIONNUM = 8, replicanum = 3, storage_mode = 'Memory')",
		"CREATE TABLE IF NOT EXISTS db.t (k string, ts int64 NOT NULL DEFAULT (1 + 1), " +
			"INDEX idx(KEY=(k, ts), TS=ts, TTL=(10d, 100), TTL_TYPE=absandlat), INDEX (KEY=(k), TTL=(30m), TTL_TYPE=absolute)) " +
			`OPTIONS(partitionnum=8, replicanum=3, storage_mode="Memory")`},
	{"default then not null", "CREATE TABLE t (a int DEFAULT 1 NOT NULL)", "CREATE TABLE t (a int32 NOT NULL DEFAULT 1)"},
	{"ttl latest", "CREATE TABLE t (a int, INDEX(KEY=a, TTL=100, TTL_TYPE=latest))",
		"CREATE TABLE t (a int32, INDEX (KEY=(a), TTL=(100), TTL_TYPE=latest))"},
	{"type names", "CREATE TABLE t (a int16, b smallint, c int32, d int, e integer, f int64, g bigint, h float, " +
		"i double, j string, k varchar, l varchar(10), m timestamp, n date, o bool, p boolean)",
		"CREATE TABLE t (a int16, b int16, c int32, d int32, e int32, f int64, g int64, h float, " +
			"i double, j string, k string, l string, m timestamp, n date, o bool, p bool)"},
	{"deploy", "DEPLOY demo SELECT a FROM t", "DEPLOY demo SELECT a FROM t"},
	{"deploy options", "deploy d1 OPTIONS(long_windows = 'w1:1d', RANGE_BIAS = 'inf') select a from t;",
		`DEPLOY d1 OPTIONS(long_windows="w1:1d", range_bias="inf") SELECT a FROM t`},
	{"several statements", ";CREATE TABLE t (a int);; DEPLOY d SELECT a FROM t;\nSELECT 1;",
		"CREATE TABLE t (a int32); DEPLOY d SELECT a FROM t; SELECT 1"},
	{"empty", "", ""},
	{"only comments", "-- nothing\n/* here */ # at all", ""},
}

func TestExpr(t *testing.T) {
	t.Parallel()
	for _, tc := range exprTests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sel, err := ParseQuery(diag.NewSource("e.sql", "SELECT "+tc.src))
			if err != nil {
				t.Fatalf("SELECT %s: %v", tc.src, err)
			}
			if len(sel.Items) != 1 || sel.Items[0].Expr == nil {
				t.Fatalf("SELECT %s: got %s, want one expression item", tc.src, render(sel))
			}
			if got := render(sel.Items[0].Expr); got != tc.want {
				t.Errorf("SELECT %s\n got %s\nwant %s", tc.src, got, tc.want)
			}
		})
	}
}

func TestParseQuery(t *testing.T) {
	t.Parallel()
	for _, tc := range queryTests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sel, err := ParseQuery(diag.NewSource("q.sql", tc.src))
			if err != nil {
				t.Fatalf("%s: %v", tc.src, err)
			}
			if got := render(sel); got != tc.want {
				t.Errorf("%s\n got %s\nwant %s", tc.src, got, tc.want)
			}
		})
	}
}

// TestParse parses the scripts and the script statements (stmtTests) and
// renders them back.
func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range slices.Concat(scriptTests, stmtTests) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			script, err := Parse(diag.NewSource("f.sql", tc.src))
			if err != nil {
				t.Fatalf("%s: %v", tc.src, err)
			}
			if got := render(script); got != tc.want {
				t.Errorf("%s\n got %s\nwant %s", tc.src, got, tc.want)
			}
		})
	}
}

// TestPositions checks the positions recorded for nodes: operators at the
// operator, predicates at their keyword (or the NOT before it), others at
// their first token.
func TestPositions(t *testing.T) {
	t.Parallel()
	const src = "SELECT a + f(b) OVER w AS x, c NOT LIKE 'p', t.d[1] FROM t1 LAST JOIN t2 ON t1.k = t2.k WINDOW w AS (ROWS BETWEEN 3 PRECEDING AND CURRENT ROW)"
	sel, err := ParseQuery(diag.NewSource("p.sql", src))
	if err != nil {
		t.Fatal(err)
	}
	sum := sel.Items[0].Expr.(*ast.Binary)
	join := sel.From.(*ast.Join)
	w := sel.Windows[0]
	for _, tc := range []struct {
		what string
		got  diag.Pos
		want string // the source text starting at the position
	}{
		{"select", sel.At, "SELECT"},
		{"item", sel.Items[0].At, "a + f"},
		{"binary", sum.At, "+ f"},
		{"call", sum.R.Pos(), "f(b)"},
		{"over name", sum.R.(*ast.Call).Over.At, "w AS x"},
		{"like", sel.Items[1].Expr.Pos(), "NOT LIKE"},
		{"subscript", sel.Items[2].Expr.Pos(), "[1]"},
		{"column", sel.Items[2].Expr.(*ast.Subscript).X.Pos(), "t.d"},
		{"join", join.At, "LAST JOIN"},
		{"right table", join.Right.Pos(), "t2 ON"},
		{"window", w.At, "w AS (ROWS"},
		{"start bound", w.Start.At, "3 PRECEDING"},
		{"end bound", w.End.At, "CURRENT ROW"},
	} {
		if rest := src[tc.got:]; len(rest) < len(tc.want) || rest[:len(tc.want)] != tc.want {
			t.Errorf("%s at %d: source there is %.20q, want %q", tc.what, tc.got, rest, tc.want)
		}
	}
}

// TestStringLiteralPositions checks ValueAt and Offsets, which map a byte of
// a string's value back into the source for CEL error positions.
func TestStringLiteralPositions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		src     string // the literal, at offset 7 after "SELECT "
		value   string
		offsets []diag.Pos // nil when the literal has no escapes
	}{
		{`'abc'`, "abc", nil},
		{`"a'b"`, "a'b", nil},
		{`'a\nb'`, "a\nb", []diag.Pos{8, 9, 11}},
		{`'\%x'`, `\%x`, []diag.Pos{8, 9, 10}},
		{`'é\t'`, "é\t", []diag.Pos{8, 9, 10}},
	} {
		sel, err := ParseQuery(diag.NewSource("s.sql", "SELECT "+tc.src))
		if err != nil {
			t.Fatalf("%s: %v", tc.src, err)
		}
		lit := sel.Items[0].Expr.(*ast.Literal)
		if lit.S != tc.value || lit.Raw != tc.src || lit.ValueAt != 8 {
			t.Errorf("%s: S=%q Raw=%q ValueAt=%d, want %q %q 8", tc.src, lit.S, lit.Raw, lit.ValueAt, tc.value, tc.src)
		}
		if !equalPos(lit.Offsets, tc.offsets) {
			t.Errorf("%s: Offsets=%v, want %v", tc.src, lit.Offsets, tc.offsets)
		}
		for k := range len(lit.S) {
			if p := lit.SourcePos(k); p < 8 || int(p) >= 7+len(tc.src)-1 {
				t.Errorf("%s: SourcePos(%d)=%d outside the literal", tc.src, k, p)
			}
		}
	}
}

func equalPos(a, b []diag.Pos) bool {
	if (a == nil) != (b == nil) || len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestLiteralValues checks the typed values of numeric literals.
func TestLiteralValues(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		src  string
		kind ast.LitKind
		i    int64
		f    float64
	}{
		{"7", ast.IntLit, 7, 0},
		{"007", ast.IntLit, 7, 0},
		{"9223372036854775807", ast.BigIntLit, 9223372036854775807, 0},
		{"10L", ast.BigIntLit, 10, 0},
		{"0.1f", ast.FloatLit, 0, float64(float32(0.1))},
		{"0.1", ast.DoubleLit, 0, 0.1},
		{"true", ast.BoolLit, 1, 0},
	} {
		sel, err := ParseQuery(diag.NewSource("l.sql", "SELECT "+tc.src))
		if err != nil {
			t.Fatalf("%s: %v", tc.src, err)
		}
		lit := sel.Items[0].Expr.(*ast.Literal)
		if lit.Kind != tc.kind || lit.I != tc.i || lit.F != tc.f || lit.Raw != tc.src {
			t.Errorf("%s: got kind %d I %d F %v Raw %q, want %d %d %v", tc.src, lit.Kind, lit.I, lit.F, lit.Raw, tc.kind, tc.i, tc.f)
		}
	}
}

// TestCreateTableDetails checks what render does not show.
func TestCreateTableDetails(t *testing.T) {
	t.Parallel()
	src := "CREATE TABLE t (a int, INDEX(KEY=a, TTL=10d))"
	script, err := Parse(diag.NewSource("c.sql", src))
	if err != nil {
		t.Fatal(err)
	}
	ct := script.Stmts[0].(*ast.CreateTable)
	idx := ct.Indexes[0]
	if ttl := idx.TTL[0]; ttl.Value != 10 || ttl.Unit != "d" || src[ttl.At:ttl.At+3] != "10d" {
		t.Errorf("TTL = %+v", ttl)
	}
	if src[idx.At:idx.At+5] != "INDEX" || src[ct.Columns[0].At:ct.Columns[0].At+5] != "a int" {
		t.Errorf("positions: index %d, column %d", idx.At, ct.Columns[0].At)
	}
}
