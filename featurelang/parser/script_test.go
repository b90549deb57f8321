package parser

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/ast"
	"github.com/fenestra-dev/fenestra/featurelang/diag"
)

// stmtTests are the statements of OpenMLDB scripts besides CREATE TABLE,
// DEPLOY and plain SELECT, for Parse. Each want is itself a script that
// parses back to want (TestStmtRoundTrip).
var stmtTests = []parseTest{
	{"create database", "CREATE DATABASE demo_db", "CREATE DATABASE demo_db"},
	{"create database if not exists", " create database if not exists JD_db;", "CREATE DATABASE IF NOT EXISTS JD_db"},
	{"create database quoted", "CREATE DATABASE `my db`", "CREATE DATABASE `my db`"},
	{"use", "USE demo_db;", "USE demo_db"},
	{"use any case quoted", "use `select`", "USE `select`"},

	{"set bool", "SET @@sync_job=true;", "SET @@sync_job = TRUE"},
	{"set string", "SET @@execute_mode='offline'", `SET @@execute_mode = "offline"`},
	{"set double quoted", `set @@execute_mode = "online"`, `SET @@execute_mode = "online"`},
	{"set string true", "set @@sync_job='true'", `SET @@sync_job = "true"`},
	{"set string number", "set @@job_timeout='600000'", `SET @@job_timeout = "600000"`},
	{"set number", "SET @@job_timeout = 600000", "SET @@job_timeout = 600000"},
	{"set session scope", `SET @@SESSION.Execute_Mode = "offline"`, `SET @@session.execute_mode = "offline"`},
	{"set global scope", "SET @@global.enable_trace = false", "SET @@global.enable_trace = FALSE"},
	{"set global keyword", "SET GLOBAL sync_job = 'true'", `SET @@global.sync_job = "true"`},
	{"set session keyword", "set session job_timeout = 20000", "SET @@session.job_timeout = 20000"},
	{"set bare name", "SET execute_mode = 'online'", `SET @@execute_mode = "online"`},
	{"set variable named global", "SET global = 1.5", "SET @@global = 1.5"},
	{"set big number", "SET @@x = 9999999999", "SET @@x = 9999999999L"},

	{"load data", "LOAD DATA INFILE 'file:///work/x.csv' INTO TABLE t1 options(format='csv', header=true, mode='append');",
		`LOAD DATA INFILE "file:///work/x.csv" INTO TABLE t1 OPTIONS(format="csv", header=TRUE, mode="append")`},
	{"load data parquet", "load data infile '/data/*.parquet' into table db.t1 OPTIONS(format='parquet', mode='overwrite', delimiter=',', null_value='null')",
		`LOAD DATA INFILE "/data/*.parquet" INTO TABLE db.t1 OPTIONS(format="parquet", mode="overwrite", delimiter=",", null_value="null")`},
	{"load data no options", `LOAD DATA INFILE "x.csv" INTO TABLE t`, `LOAD DATA INFILE "x.csv" INTO TABLE t`},

	{"into outfile", "SELECT a FROM t INTO OUTFILE '/tmp/x';", `SELECT a FROM t INTO OUTFILE "/tmp/x"`},
	{"into outfile after limit", "select a from t where a > 1 order by a limit 3 into outfile 'y' options(mode='overwrite', header=false)",
		`SELECT a FROM t WHERE (a > 1) ORDER BY a LIMIT 3 INTO OUTFILE "y" OPTIONS(mode="overwrite", header=FALSE)`},
	{"into outfile after joined subqueries", "SELECT * FROM (SELECT a FROM t) AS out0 LAST JOIN (SELECT b FROM u) AS out1 ON out0.a = out1.b " +
		"INTO OUTFILE '/o' OPTIONS(mode='overwrite')",
		`SELECT * FROM ((SELECT a FROM t) AS out0 LAST JOIN (SELECT b FROM u) AS out1 ON (out0.a = out1.b)) INTO OUTFILE "/o" OPTIONS(mode="overwrite")`},

	{"show databases", "SHOW DATABASES", "SHOW DATABASES"},
	{"show tables", "show tables;", "SHOW TABLES"},
	{"show deployments", "Show Deployments", "SHOW DEPLOYMENTS"},
	{"show deployment", "SHOW DEPLOYMENT demo;", "SHOW DEPLOYMENT demo"},
	{"show deployment qualified", "SHOW DEPLOYMENT db.`demo`", "SHOW DEPLOYMENT db.demo"},
	{"show create table", "SHOW CREATE TABLE t1", "SHOW CREATE TABLE t1"},
	{"desc", "DESC t1", "DESC t1"},
	{"describe qualified", "describe db.`t 2`", "DESC db.`t 2`"},

	{"drop deployment", "DROP DEPLOYMENT demo", "DROP DEPLOYMENT demo"},
	{"drop table", "DROP TABLE t1", "DROP TABLE t1"},
	{"drop table if exists", "drop table if exists db.t1", "DROP TABLE IF EXISTS db.t1"},
	{"drop database", "DROP DATABASE db1", "DROP DATABASE db1"},
	{"drop database if exists", "DROP DATABASE IF EXISTS db1", "DROP DATABASE IF EXISTS db1"},

	{"insert", `INSERT INTO t1 values(1, 2, 3.0, 4.0, "hello");`, `INSERT INTO t1 VALUES (1, 2, 3.0, 4.0, "hello")`},
	{"insert columns rows", "insert into db.t1(COL1, COL2, `col 5`) values(1, -2, 'a'), (10, 20, NULL)",
		"INSERT INTO db.t1 (COL1, COL2, `col 5`) VALUES (1, (- 2), \"a\"), (10, 20, NULL)"},
	{"insert expressions", "INSERT INTO t VALUES (1 + 2, timestamp(1000), true)", "INSERT INTO t VALUES ((1 + 2), timestamp(1000), TRUE)"},

	{"explain", "EXPLAIN SELECT a FROM t", "EXPLAIN SELECT a FROM t"},

	{"script", "CREATE DATABASE d;\nUSE d;;\nSET @@execute_mode='online';\nSHOW TABLES\n",
		`CREATE DATABASE d; USE d; SET @@execute_mode = "online"; SHOW TABLES`},
}

// unsupported is the tail of the error on a statement fenestra does not run.
const unsupported = " (fenestra runs CREATE DATABASE/TABLE, USE, SET, LOAD DATA, SELECT [INTO OUTFILE], DEPLOY, SHOW, DESC, DROP, INSERT, EXPLAIN)"

// stmtErrorTests are malformed script statements and the exact rendered
// error list Parse returns, as in errorTests.
var stmtErrorTests = []struct {
	name, src, want string
}{
	{"create index", "CREATE INDEX i ON t (a)", `f.sql:1:1: unsupported statement: CREATE INDEX` + unsupported + `
 | CREATE INDEX i ON t (a)
 | ^`},
	{"create function", "USE d;\ncreate function f(x int) returns int options (file='libf.so');", `f.sql:2:1: unsupported statement: CREATE FUNCTION` + unsupported + `
 | create function f(x int) returns int options (file='libf.so');
 | ^`},
	{"create or replace", "CREATE OR REPLACE AGGREGATE FUNCTION f", `f.sql:1:1: unsupported statement: CREATE OR REPLACE AGGREGATE FUNCTION` + unsupported + `
 | CREATE OR REPLACE AGGREGATE FUNCTION f
 | ^`},
	{"create table like", "CREATE TABLE t LIKE PARQUET 'file:///x.parquet'", `f.sql:1:1: unsupported statement: CREATE TABLE ... LIKE` + unsupported + `
 | CREATE TABLE t LIKE PARQUET 'file:///x.parquet'
 | ^`},
	{"create nothing", "CREATE;", `f.sql:1:7: expected 'TABLE' or 'DATABASE' after CREATE, found ';'
 | CREATE;
 |       ^`},
	{"delete", "DELETE FROM t WHERE a = 1", `f.sql:1:1: unsupported statement: DELETE` + unsupported + `
 | DELETE FROM t WHERE a = 1
 | ^`},
	{"show jobs", "SHOW JOBS", `f.sql:1:1: unsupported statement: SHOW JOBS` + unsupported + `
 | SHOW JOBS
 | ^`},
	{"show table status", "show table status like '%'", `f.sql:1:1: unsupported statement: SHOW TABLE STATUS` + unsupported + `
 | show table status like '%'
 | ^`},
	{"stop job", "STOP JOB 12", `f.sql:1:1: unsupported statement: STOP JOB` + unsupported + `
 | STOP JOB 12
 | ^`},
	{"truncate", "TRUNCATE TABLE t1", `f.sql:1:1: unsupported statement: TRUNCATE TABLE` + unsupported + `
 | TRUNCATE TABLE t1
 | ^`},
	{"alter", "ALTER TABLE t ADD OFFLINE_PATH 'x'", `f.sql:1:1: unsupported statement: ALTER TABLE` + unsupported + `
 | ALTER TABLE t ADD OFFLINE_PATH 'x'
 | ^`},
	{"drop index", "DROP INDEX t1.idx", `f.sql:1:1: unsupported statement: DROP INDEX` + unsupported + `
 | DROP INDEX t1.idx
 | ^`},
	{"insert or ignore", "INSERT OR IGNORE INTO t VALUES (1)", `f.sql:1:1: unsupported statement: INSERT OR IGNORE` + unsupported + `
 | INSERT OR IGNORE INTO t VALUES (1)
 | ^`},
	{"unknown word", "SELEC 1", `f.sql:1:1: expected a statement (CREATE DATABASE/TABLE, USE, SET, LOAD DATA, SELECT [INTO OUTFILE], DEPLOY, SHOW, DESC, DROP, INSERT, EXPLAIN), found 'SELEC'
 | SELEC 1
 | ^`},
	{"unsupported with lexical errors", "CREATE FUNCTION f @ $ 'x\\", `f.sql:1:1: unsupported statement: CREATE FUNCTION` + unsupported + `
 | CREATE FUNCTION f @ $ 'x\
 | ^`},
	{"unknown over lines", "SHOW JOB 1\nSELECT 1 FROM t\nLOAD DATA INFILE 'x' INTO TABLE t;\nSELECT 2 +;", `f.sql:1:1: unsupported statement: SHOW JOB` + unsupported + `
 | SHOW JOB 1
 | ^
f.sql:4:11: expected expression, found ';'
 | SELECT 2 +;
 |           ^`},
	{"illegal first token", "@ a @ b; SELECT 1", `f.sql:1:1: unexpected character '@'
 | @ a @ b; SELECT 1
 | ^`},

	{"create database without name", "CREATE DATABASE IF NOT EXISTS;", `f.sql:1:30: expected database name, found ';'
 | CREATE DATABASE IF NOT EXISTS;
 |                              ^`},
	{"use qualified", "USE a.b", `f.sql:1:6: expected ';' after statement, found '.'
 | USE a.b
 |      ^`},
	{"set single at", "SET @x = 1", `f.sql:1:5: unexpected character '@'
 | SET @x = 1
 |     ^`},
	{"set unknown scope", "SET @@local.x = 1", `f.sql:1:7: unknown variable scope "local" (want session or global)
 | SET @@local.x = 1
 |       ^`},
	{"set without equals", "SET @@execute_mode 'offline'", `f.sql:1:20: expected '=' after variable name, found string literal 'offline'
 | SET @@execute_mode 'offline'
 |                    ^`},
	{"set identifier value", "SET @@execute_mode = offline", `f.sql:1:22: expected a value (a string, a number, TRUE or FALSE), found 'offline'
 | SET @@execute_mode = offline
 |                      ^`},
	{"set interval value", "SET @@job_timeout = 10s", `f.sql:1:21: time interval 10s is only allowed in window frames and TTL
 | SET @@job_timeout = 10s
 |                     ^`},
	{"load without data", "LOAD INFILE 'x' INTO TABLE t", `f.sql:1:6: expected 'DATA' after LOAD, found 'INFILE'
 | LOAD INFILE 'x' INTO TABLE t
 |      ^`},
	{"load path not a string", "LOAD DATA INFILE /tmp/x INTO TABLE t", `f.sql:1:18: expected file path (a string literal) after INFILE, found '/'
 | LOAD DATA INFILE /tmp/x INTO TABLE t
 |                  ^`},
	{"load without table keyword", "LOAD DATA INFILE 'x.csv' INTO t", `f.sql:1:31: expected 'TABLE' after INTO, found 't'
 | LOAD DATA INFILE 'x.csv' INTO t
 |                               ^`},
	{"load bad options", "LOAD DATA INFILE 'x.csv' INTO TABLE t OPTIONS(header)", `f.sql:1:53: expected '=' after option name, found ')'
 | LOAD DATA INFILE 'x.csv' INTO TABLE t OPTIONS(header)
 |                                                     ^`},
	{"into without outfile", "SELECT a FROM t INTO x", `f.sql:1:22: expected 'OUTFILE' after INTO, found 'x'
 | SELECT a FROM t INTO x
 |                      ^`},
	{"outfile path not a string", "SELECT a FROM t\nINTO OUTFILE x", `f.sql:2:14: expected file path (a string literal) after OUTFILE, found 'x'
 | INTO OUTFILE x
 |              ^`},
	{"outfile in deploy", "DEPLOY d SELECT a FROM t\n  INTO OUTFILE '/tmp/x'", `f.sql:2:3: INTO OUTFILE is not allowed in DEPLOY
 |   INTO OUTFILE '/tmp/x'
 |   ^`},
	{"outfile in explain", "EXPLAIN SELECT 1 INTO OUTFILE 'x'", `f.sql:1:18: INTO OUTFILE is not allowed in EXPLAIN
 | EXPLAIN SELECT 1 INTO OUTFILE 'x'
 |                  ^`},
	{"outfile in subquery", "SELECT * FROM (SELECT a FROM t INTO OUTFILE 'x') AS s", `f.sql:1:32: INTO OUTFILE is only allowed at the end of the outermost SELECT
 | SELECT * FROM (SELECT a FROM t INTO OUTFILE 'x') AS s
 |                                ^`},
	{"outfile before window", "SELECT a FROM t INTO OUTFILE 'x' WINDOW w AS (ROWS 1 PRECEDING)", `f.sql:1:34: expected ';' after statement, found 'WINDOW'
 | SELECT a FROM t INTO OUTFILE 'x' WINDOW w AS (ROWS 1 PRECEDING)
 |                                  ^`},
	{"show nothing", "SHOW;", `f.sql:1:5: expected DATABASES, TABLES, DEPLOYMENTS, DEPLOYMENT or CREATE TABLE after SHOW, found ';'
 | SHOW;
 |     ^`},
	{"show deployment without name", "SHOW DEPLOYMENT", `f.sql:1:16: expected deployment name after SHOW DEPLOYMENT, found end of input
 | SHOW DEPLOYMENT
 |                ^`},
	{"show tables extra", "SHOW TABLES t", `f.sql:1:13: expected ';' after statement, found 't'
 | SHOW TABLES t
 |             ^`},
	{"desc without name", "DESC;", `f.sql:1:5: expected table name after DESC, found ';'
 | DESC;
 |     ^`},
	{"drop nothing", "DROP 1", `f.sql:1:6: expected 'TABLE', 'DATABASE' or 'DEPLOYMENT' after DROP, found '1'
 | DROP 1
 |      ^`},
	{"drop if without exists", "DROP TABLE IF t", `f.sql:1:15: expected 'EXISTS' after IF, found 't'
 | DROP TABLE IF t
 |               ^`},
	{"drop qualified database", "DROP DATABASE a.b", `f.sql:1:16: expected ';' after statement, found '.'
 | DROP DATABASE a.b
 |                ^`},
	{"insert without into", "INSERT t VALUES (1)", `f.sql:1:8: expected 'INTO' after INSERT, found 't'
 | INSERT t VALUES (1)
 |        ^`},
	{"insert without values", "INSERT INTO t (a)", `f.sql:1:18: expected 'VALUES' in INSERT, found end of input
 | INSERT INTO t (a)
 |                  ^`},
	{"insert select", "INSERT INTO t SELECT 1", `f.sql:1:15: expected 'VALUES' in INSERT, found 'SELECT'
 | INSERT INTO t SELECT 1
 |               ^`},
	{"insert row without parens", "INSERT INTO t VALUES 1, 2", `f.sql:1:22: expected '(' to start a row of values, found '1'
 | INSERT INTO t VALUES 1, 2
 |                      ^`},
	{"insert unclosed row", "INSERT INTO t VALUES (1, 2;", `f.sql:1:27: expected ')' after row values, found ';'
 | INSERT INTO t VALUES (1, 2;
 |                           ^`},
	{"insert empty row", "INSERT INTO t VALUES ()", `f.sql:1:23: expected expression, found ')'
 | INSERT INTO t VALUES ()
 |                       ^`},
	{"explain deploy", "EXPLAIN DEPLOY d SELECT 1", `f.sql:1:9: expected 'SELECT' after EXPLAIN, found 'DEPLOY'
 | EXPLAIN DEPLOY d SELECT 1
 |         ^`},
	{"missing semicolon before script statement", "SELECT a FROM t\nUSE db;\nSELECT b FROM t\nLOAD DATA INFILE 'x' INTO TABLE t", `f.sql:2:1: expected ';' after statement, found 'USE'
 | USE db;
 | ^
f.sql:4:1: expected ';' after statement, found 'LOAD'
 | LOAD DATA INFILE 'x' INTO TABLE t
 | ^`},
}

// TestStmtRoundTrip checks that the rendering of each statement parses back
// to the same tree.
func TestStmtRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tc := range stmtTests {
		script, err := Parse(diag.NewSource("r.sql", tc.want))
		if err != nil {
			t.Errorf("%s: rendering %s does not parse: %v", tc.name, tc.want, err)
			continue
		}
		if got := render(script); got != tc.want {
			t.Errorf("%s: %s\nrenders back as %s", tc.name, tc.want, got)
		}
	}
}

func TestStmtErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range stmtErrorTests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(diag.NewSource("f.sql", tc.src))
			if err == nil {
				t.Fatalf("%q parsed, want error:\n%s", tc.src, tc.want)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("%q: got\n%s\nwant\n%s", tc.src, got, tc.want)
			}
		})
	}
}

// TestUnknownStmtOneError checks that a statement fenestra does not run
// yields exactly one error whatever follows it up to the next ';', and that
// the statements around it parse.
func TestUnknownStmtOneError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		stmt, want string // want: the statements parsed around it
	}{
		{"CREATE INDEX idx ON t (a) OPTIONS (ttl=10d)", "USE d; SHOW TABLES"},
		{"CREATE FUNCTION f(x int) RETURNS int OPTIONS (FILE='lib.so') @@@ $ `` 1x", "USE d; SHOW TABLES"},
		{"CREATE PROCEDURE p (a int) BEGIN SELECT CASE WHEN a THEN 1 END FROM t; END", "USE d; SHOW TABLES"},
		{"DELETE FROM t WHERE (((", "USE d; SHOW TABLES"},
		{"SHOW JOBS FROM NameServer", "USE d; SHOW TABLES"},
		{"SHOW COMPONENTS", "USE d; SHOW TABLES"},
		{"STOP JOB 1", "USE d; SHOW TABLES"},
		{"ALTER USER root SET OPTIONS (password='x')", "USE d; SHOW TABLES"},
		{"SELEC a, b FROM t\nSELECT 1\nCREATE TABLE x (", "USE d; SHOW TABLES"},
		{"FOO 'unterminated", "USE d"},
		{"GRANT SELECT ON t TO u /* unterminated", "USE d"},
		{"CREATE PROCEDURE p (a int) BEGIN SELECT a FROM t;", "USE d"},
	} {
		src := "USE d;\n" + tc.stmt + ";\nSHOW TABLES;"
		script, err := Parse(diag.NewSource("u.sql", src))
		var list *diag.List
		if !errors.As(err, &list) || list.Len() != 1 {
			t.Errorf("%q: got %v, want exactly one error", tc.stmt, err)
			continue
		}
		if e := list.Errs[0]; e.Pos != 7 {
			t.Errorf("%q: error at %s, want at the statement's first token (2:1)", tc.stmt, e.Position())
		}
		if got := render(script); got != tc.want {
			t.Errorf("%q: statements %s, want %s", tc.stmt, got, tc.want)
		}
	}
}

// TestStmtDetails checks the positions and fields render does not show.
func TestStmtDetails(t *testing.T) {
	t.Parallel()
	const src = "create database if not exists db1;\n" +
		"USE `db1`;\n" +
		"set @@Global.Sync_Job = 'true';\n" +
		"SET SESSION job_timeout = 600000;\n" +
		"LOAD DATA INFILE 'a\\'b.csv' INTO TABLE t1 OPTIONS(Header=true);\n" +
		"SELECT a FROM t1\n  INTO OUTFILE '/tmp/out' OPTIONS(mode='overwrite');\n" +
		"SHOW DEPLOYMENT demo;\n" +
		"DROP TABLE IF EXISTS t1;\n" +
		"INSERT INTO t1 (a, b) VALUES (1, 'x'), (2, 'y');\n" +
		"EXPLAIN SELECT 1"
	script, err := Parse(diag.NewSource("d.sql", src))
	if err != nil {
		t.Fatal(err)
	}
	at := func(p diag.Pos, want string) {
		t.Helper()
		if rest := src[p:]; !strings.HasPrefix(rest, want) {
			t.Errorf("at %d: source there is %.20q, want %q", p, rest, want)
		}
	}
	st := script.Stmts
	cd := st[0].(*ast.CreateDatabase)
	at(cd.At, "create database")
	at(cd.Name.At, "db1;")
	if !cd.IfNotExists || cd.Name.Name != "db1" {
		t.Errorf("CreateDatabase = %+v", cd)
	}
	use := st[1].(*ast.Use)
	at(use.At, "USE")
	at(use.DB.At, "`db1`")
	set := st[2].(*ast.Set)
	at(set.At, "set @@")
	at(set.NameAt, "Sync_Job")
	if set.Scope != "global" || set.Name != "sync_job" || set.Value.(*ast.Literal).S != "true" {
		t.Errorf("Set = %+v", set)
	}
	set = st[3].(*ast.Set)
	at(set.NameAt, "job_timeout")
	if lit := set.Value.(*ast.Literal); set.Scope != "session" || lit.Kind != ast.IntLit || lit.I != 600000 {
		t.Errorf("Set = %+v, value %+v", set, lit)
	}
	ld := st[4].(*ast.LoadData)
	at(ld.At, "LOAD DATA")
	at(ld.PathAt, `'a\'b.csv'`)
	at(ld.Table.At, "t1 OPTIONS")
	at(ld.Options[0].At, "Header")
	if ld.Path != "a'b.csv" || ld.Options[0].Key != "header" {
		t.Errorf("LoadData = %+v", ld)
	}
	q := st[5].(*ast.Query)
	at(q.Into.At, "INTO OUTFILE")
	at(q.Into.PathAt, "'/tmp/out'")
	if q.Into.Path != "/tmp/out" || q.Into.Pos() != q.Into.At {
		t.Errorf("Outfile = %+v", q.Into)
	}
	show := st[6].(*ast.Show)
	at(show.At, "SHOW")
	at(show.Name.At, "demo")
	drop := st[7].(*ast.Drop)
	at(drop.At, "DROP")
	at(drop.Name.At, "t1;")
	if !drop.IfExists || drop.What != "TABLE" {
		t.Errorf("Drop = %+v", drop)
	}
	ins := st[8].(*ast.Insert)
	at(ins.At, "INSERT")
	at(ins.Columns[1].At, "b)")
	at(ins.Rows[1][1].Pos(), "'y'")
	ex := st[9].(*ast.Explain)
	at(ex.At, "EXPLAIN")
	at(ex.Query.At, "SELECT 1")
	for _, s := range st {
		if s.Pos() > diag.Pos(len(src)) || src[s.Pos()] == ' ' {
			t.Errorf("%T at %d", s, s.Pos())
		}
	}
}

// TestStmtEnds checks Script.Ends and Script.Text: each statement's text
// runs from its first token to its last, without ';' and comments.
func TestStmtEnds(t *testing.T) {
	t.Parallel()
	const src = "-- a script\n  CREATE DATABASE d ; /* c */\nUSE d;;\n" +
		"SELECT a,\n  b -- trailing\nFROM t INTO OUTFILE 'x' # more\n;\n" +
		"SELEC oops;\n" +
		"SHOW TABLES"
	script, err := Parse(diag.NewSource("e.sql", src))
	if err == nil {
		t.Fatal("want the error on SELEC")
	}
	want := []struct {
		text string
		line int
	}{
		{"CREATE DATABASE d", 2},
		{"USE d", 3},
		{"SELECT a,\n  b -- trailing\nFROM t INTO OUTFILE 'x'", 4},
		{"SHOW TABLES", 9},
	}
	if len(script.Stmts) != len(want) || len(script.Ends) != len(want) {
		t.Fatalf("got %d statements and %d ends, want %d", len(script.Stmts), len(script.Ends), len(want))
	}
	for i, w := range want {
		line, _ := script.Source.LineCol(script.Stmts[i].Pos())
		if got := script.Text(i); got != w.text || line != w.line {
			t.Errorf("statement %d: line %d %q, want line %d %q", i, line, got, w.line, w.text)
		}
	}
	if script.Text(-1) != "" || script.Text(len(want)) != "" {
		t.Error("Text out of range is not empty")
	}
}

// demoScripts are OpenMLDB's demo scripts (testdata/openmldb, copied
// verbatim) and the statement kinds each parses to.
var demoScripts = []struct {
	file  string
	kinds string
}{
	{"taxi.sql", "CreateDatabase Use CreateTable Set Set LoadData Query Set Deploy LoadData"},
	{"jd-create_tables.sql", "CreateDatabase Use CreateTable CreateTable CreateTable CreateTable CreateTable CreateTable"},
	{"jd-load_offline_data.sql", "Use Set LoadData LoadData LoadData LoadData LoadData LoadData"},
	{"jd-deploy.sql", "Use Set Deploy Show"},
	{"jd-sync_select_out.sql", "Use Set Set Query"},
	{"jd-load_online_data.sql", "Use Set LoadData LoadData LoadData LoadData LoadData LoadData"},
}

// TestOpenMLDBDemos parses OpenMLDB's demo scripts as users run them.
func TestOpenMLDBDemos(t *testing.T) {
	t.Parallel()
	for _, demo := range demoScripts {
		t.Run(demo.file, func(t *testing.T) {
			t.Parallel()
			text, err := os.ReadFile(filepath.Join("testdata", "openmldb", demo.file))
			if err != nil {
				t.Fatal(err)
			}
			script, err := Parse(diag.NewSource(demo.file, string(text)))
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			for _, st := range script.Stmts {
				kinds = append(kinds, strings.TrimPrefix(fmt.Sprintf("%T", st), "*ast."))
			}
			if got := strings.Join(kinds, " "); got != demo.kinds {
				t.Errorf("got  %s\nwant %s", got, demo.kinds)
			}
			checkDemo(t, demo.file, script)
		})
	}
}

// checkDemo checks details of the demo scripts.
func checkDemo(t *testing.T, file string, script *ast.Script) {
	t.Helper()
	switch file {
	case "taxi.sql":
		q := script.Stmts[6].(*ast.Query)
		if q.Into == nil || q.Into.Path != "/tmp/feature_data" || render(q.Into.Options[0].Value) != `"overwrite"` ||
			len(q.Query.Windows) != 2 || len(q.Query.Items) != 12 {
			t.Errorf("SELECT INTO: %s", render(q))
		}
		if got := render(script.Stmts[9]); got != `LOAD DATA INFILE "file:///work/taxi-trip/data/taxi_tour_table_train_simple.csv" INTO TABLE t1 OPTIONS(format="csv", header=TRUE, mode="append")` {
			t.Errorf("last LOAD DATA: %s", got)
		}
		if set := script.Stmts[3].(*ast.Set); set.Name != "sync_job" || render(set.Value) != "TRUE" {
			t.Errorf("SET: %s", render(set))
		}
		if line, _ := script.Source.LineCol(script.Stmts[6].Pos()); line != 11 || !strings.HasSuffix(script.Text(6), "OPTIONS(mode='overwrite')") {
			t.Errorf("SELECT INTO at line %d: %q", line, script.Text(6))
		}
	case "jd-sync_select_out.sql":
		q := script.Stmts[3].(*ast.Query)
		if q.Into == nil || q.Into.Path != "/work/oneflow_demo/out/1" {
			t.Errorf("SELECT INTO: %+v", q.Into)
		}
		if _, ok := q.Query.From.(*ast.Join); !ok {
			t.Errorf("FROM is %T, want the LAST JOINs", q.Query.From)
		}
	case "jd-deploy.sql":
		if got := render(script.Stmts[3]); got != "SHOW DEPLOYMENT demo" {
			t.Errorf("last statement: %s", got)
		}
	}
}
