package featurelang_test

import (
	"strings"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/diag"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/parser"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
)

// indexText renders a table's indexes as "KEY=(a,b) TS=c; ...".
func indexText(t *plan.Table) string {
	var parts []string
	for _, ix := range t.Indexes {
		s := "KEY=(" + strings.Join(ix.Keys, ",") + ")"
		if ix.TS != "" {
			s += " TS=" + ix.TS
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// TestInferredIndexes checks that a DEPLOY adds to the tables it reads
// the indexes its reads need, as OpenMLDB's DEPLOY does: each window's
// partition keys with its order column (its own table and each UNION
// table), each LAST JOIN's keys with its ORDER BY column, and nothing a
// declared index already serves.
func TestInferredIndexes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, sql string
		want      map[string]string // table -> indexes after the file
		inferred  []string          // "table INDEX(...) why"
	}{{
		name: "windows over a table without INDEX (the taxi demo)",
		sql: `CREATE TABLE t1(id string, vendor_id int, pickup_datetime timestamp, passenger_count int, pickup_latitude double);
DEPLOY demo SELECT sum(pickup_latitude) OVER w AS a, count(vendor_id) OVER w2 AS b FROM t1
WINDOW w AS (PARTITION BY vendor_id ORDER BY pickup_datetime ROWS_RANGE BETWEEN 1d PRECEDING AND CURRENT ROW),
w2 AS (PARTITION BY passenger_count ORDER BY pickup_datetime ROWS_RANGE BETWEEN 1d PRECEDING AND CURRENT ROW);`,
		want: map[string]string{"t1": "KEY=(vendor_id) TS=pickup_datetime; KEY=(passenger_count) TS=pickup_datetime"},
		inferred: []string{"t1 INDEX(KEY=(vendor_id), TS=pickup_datetime) window w",
			"t1 INDEX(KEY=(passenger_count), TS=pickup_datetime) window w2"},
	}, {
		name: "a declared index serves one window; the other is added",
		sql: `CREATE TABLE tx(card string, merchant string, amount double, ts timestamp, INDEX(KEY=card, TS=ts));
DEPLOY v SELECT sum(amount) OVER w AS a, count(amount) OVER m AS b FROM tx
WINDOW w AS (PARTITION BY card ORDER BY ts ROWS BETWEEN 10 PRECEDING AND CURRENT ROW),
m AS (PARTITION BY merchant, card ORDER BY ts ROWS_RANGE BETWEEN 1h PRECEDING AND CURRENT ROW);`,
		want:     map[string]string{"tx": "KEY=(card) TS=ts; KEY=(merchant,card) TS=ts"},
		inferred: []string{"tx INDEX(KEY=(merchant, card), TS=ts) window m"},
	}, {
		name: "LAST JOIN keys with and without ORDER BY, and a UNION table",
		sql: `CREATE TABLE tx(card string, merchant string, amount double, ts timestamp);
CREATE TABLE merchants(merchant string, country string, updated timestamp);
CREATE TABLE profiles(card string, level int);
CREATE TABLE old(card string, merchant string, amount double, ts timestamp);
DEPLOY v1 SELECT tx.card, m.country, p.level FROM tx
LAST JOIN merchants AS m ORDER BY m.updated ON tx.merchant = m.merchant
LAST JOIN profiles AS p ON tx.card = p.card;
DEPLOY v2 SELECT card, sum(amount) OVER w AS s FROM tx
WINDOW w AS (UNION old PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 10d PRECEDING AND CURRENT ROW);`,
		want: map[string]string{"tx": "KEY=(card) TS=ts", "old": "KEY=(card) TS=ts",
			"merchants": "KEY=(merchant) TS=updated", "profiles": "KEY=(card)"},
		inferred: []string{"merchants INDEX(KEY=(merchant), TS=updated) LAST JOIN", "profiles INDEX(KEY=(card)) LAST JOIN",
			"tx INDEX(KEY=(card), TS=ts) window w", "old INDEX(KEY=(card), TS=ts) window w"},
	}, {
		name: "every read served: nothing added",
		sql: `CREATE TABLE tx(card string, amount double, ts timestamp, INDEX(KEY=card, TS=ts));
DEPLOY v SELECT sum(amount) OVER w AS a FROM tx WINDOW w AS (PARTITION BY card ORDER BY ts ROWS BETWEEN 3 PRECEDING AND CURRENT ROW);`,
		want: map[string]string{"tx": "KEY=(card) TS=ts"},
	}, {
		name: "a bare query infers nothing",
		sql: `CREATE TABLE tx(card string, amount double, ts timestamp);
SELECT sum(amount) OVER w AS a FROM tx WINDOW w AS (PARTITION BY card ORDER BY ts ROWS BETWEEN 3 PRECEDING AND CURRENT ROW);`,
		want: map[string]string{"tx": ""},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := featurelang.Compile("f.sql", tt.sql, featurelang.Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, tb := range m.Tables {
				if got := indexText(tb); got != tt.want[tb.Name] {
					t.Errorf("table %s: indexes %q, want %q", tb.Name, got, tt.want[tb.Name])
				}
			}
			var got []string
			for _, ix := range m.Indexes {
				got = append(got, ix.Table+" "+ix.String()+" "+ix.Why)
			}
			if strings.Join(got, "\n") != strings.Join(tt.inferred, "\n") {
				t.Errorf("inferred:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.inferred, "\n"))
			}
			// Each deployed plan's tables serve its keyed reads.
			for _, v := range m.Views {
				ev, err := eval.New(v)
				if err != nil {
					t.Fatal(err)
				}
				for _, rd := range ev.Reads() {
					if v.Name != "" && len(rd.Keys) > 0 && v.Table(rd.Table).FindIndex(rd.Keys, rd.TS) < 0 {
						t.Errorf("view %s: no index of its table %s serves %+v", v.Name, rd.Table, rd)
					}
				}
			}
		})
	}
}

// TestDatabases checks that databases are namespaces: a table is named
// by its database, unqualified names resolve in the current database,
// and a table of another database is reached only by its qualified name.
func TestDatabases(t *testing.T) {
	t.Parallel()
	s := featurelang.NewSession(featurelang.Options{})
	compile := func(text string) (featurelang.Result, error) {
		src := diag.NewSource("q.sql", text)
		script, err := parser.Parse(src)
		if err != nil {
			return featurelang.Result{}, err
		}
		var errs diag.List
		r := s.Check(src, script.Stmts[0], &errs)
		return r, errs.Err()
	}
	if _, err := compile(`CREATE TABLE db1.t(c1 string, c2 int)`); err == nil || !strings.Contains(err.Error(), `database "db1" does not exist`) {
		t.Fatalf("CREATE TABLE in a missing database: %v", err)
	}
	for _, db := range []string{"db1", "db2"} {
		if !s.AddDatabase(db) {
			t.Fatalf("AddDatabase(%s) = false", db)
		}
	}
	s.DB = "db1"
	if r, err := compile(`CREATE TABLE t(c1 string, c2 int)`); err != nil || r.Table.Name != "db1.t" {
		t.Fatalf("CREATE TABLE t in db1: %v, %+v", err, r.Table)
	}
	if r, err := compile(`CREATE TABLE db2.t(c1 string, c3 double)`); err != nil || r.Table.Name != "db2.t" {
		t.Fatalf("CREATE TABLE db2.t: %v, %+v", err, r.Table)
	}
	for _, tc := range []struct{ sql, err string }{
		{`SELECT c2 FROM t`, ""},
		{`SELECT db1.t.c2 FROM t`, ""},
		{`SELECT c3 FROM db2.t`, ""},
		{`SELECT c3 FROM t`, `unknown column`},
		{`SELECT c1 FROM db3.t`, `unknown table "db3.t"`},
		{`SELECT db1.t.c1 FROM db2.t`, `unknown column`},
		{`SELECT db1.x.c1 FROM (SELECT c1 FROM db1.t) AS x`, `unknown column`},
		{`SELECT t.c2, db2.t.c3 FROM t LAST JOIN db2.t ON db1.t.c1 = db2.t.c1`, ""},
	} {
		r, err := compile(tc.sql)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.sql, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: error %v, want one containing %q", tc.sql, err, tc.err)
		case tc.err == "" && r.View == nil:
			t.Errorf("%s: no plan", tc.sql)
		}
	}
	if names := tableNames(s.Tables()); names != "db1.t db2.t" {
		t.Errorf("tables %q", names)
	}
	s.DropDatabase("db2")
	if names := tableNames(s.Tables()); names != "db1.t" || s.HasDatabase("db2") {
		t.Errorf("after DropDatabase(db2): tables %q, databases %v", names, s.Databases())
	}
}

func tableNames(ts []*plan.Table) string {
	var names []string
	for _, t := range ts {
		names = append(names, t.Name)
	}
	return strings.Join(names, " ")
}
