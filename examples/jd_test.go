package examples

import (
	"os"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/internal/rowcsv"
)

// jdTables compiles the JD demo's create_tables.sql: its six tables, in
// database JD_db.
func jdTables(t *testing.T) []*plan.Table {
	t.Helper()
	text, err := os.ReadFile("../featurelang/parser/testdata/openmldb/jd-create_tables.sql")
	if err == nil {
		var m *featurelang.Module
		if m, err = featurelang.Compile("jd-create_tables.sql", string(text), featurelang.Options{}); err == nil {
			return m.Tables
		}
	}
	t.Fatal(err)
	return nil
}

// TestGenerateJD: the JD generator is deterministic, gives the requested
// number of requests with unique ids, and makes what it promises: ties,
// LAST JOIN misses, several versions of a key, NULLs.
func TestGenerateJD(t *testing.T) {
	t.Parallel()
	tables := jdTables(t)
	const n = 3000
	a, b, c := GenerateJD(tables, n, 1), GenerateJD(tables, n, 1), GenerateJD(tables, n, 2)
	if len(a) != 6 {
		t.Fatalf("%d tables, want 6", len(a))
	}
	for _, tb := range tables {
		_, name := plan.SplitName(tb.Name)
		blk := a[name]
		if blk == nil {
			t.Fatalf("no table %s", name)
		}
		if got := blk.Schema.String(); got != tb.Schema.String() {
			t.Errorf("%s: generated (%s), the table is (%s)", name, got, tb.Schema)
		}
		if blk.Len == 0 {
			t.Errorf("%s: no rows", name)
		}
		if rowcsv.Format(blk) != rowcsv.Format(b[name]) {
			t.Errorf("%s: two runs of one seed differ", name)
		}
	}
	if rowcsv.Format(a["flattenRequest"]) == rowcsv.Format(c["flattenRequest"]) {
		t.Error("two seeds give the same requests")
	}
	req := a["flattenRequest"]
	if req.Len != n {
		t.Fatalf("%d requests, want %d", req.Len, n)
	}
	ids, users, skus := map[string]bool{}, map[string]int{}, map[string]bool{}
	ties, late := 0, 0
	for i := range req.Len {
		ids[req.Cols[0].S[i]] = true
		users[req.Cols[4].S[i]]++
		skus[req.Cols[5].S[i]] = true
		if req.Cols[3].S[i] != req.Cols[4].S[i]+"_"+req.Cols[5].S[i] {
			t.Fatalf("row %d: pair_id %q is not user_id_sku_id", i+1, req.Cols[3].S[i])
		}
		if i > 0 && req.Cols[1].I[i] == req.Cols[1].I[i-1] {
			ties++
		}
		if i > 0 && req.Cols[1].I[i] < req.Cols[1].I[i-1] {
			late++
		}
	}
	if len(ids) != n {
		t.Errorf("%d distinct reqIds among %d requests", len(ids), n)
	}
	busiest := 0
	for _, k := range users {
		busiest = max(busiest, k)
	}
	span := req.Cols[1].I[req.Len-1] - req.Cols[1].I[0]
	labelled, twice := keyCounts(a["action"].Cols[0].S), 0
	for _, k := range labelled {
		if k > 1 {
			twice++
		}
	}
	profiles := keyCounts(a["bo_user"].Cols[1].S)
	products := keyCounts(a["bo_product"].Cols[1].S)
	for _, c := range []struct {
		what     string
		got, min int
	}{
		{"users", len(users), n / 20 / 2},
		{"products", len(skus), n / 10 / 3},
		{"busiest user's requests over 5x the mean", busiest, 5 * n / len(users)},
		{"requests at the previous one's time", ties, n / 60},
		{"late requests", late, n / 300},
		{"days spanned", int(span / jdDayMs), JDDays - 5},
		{"requests without action", n - countIn(labelled, ids), n / 12},
		{"requests with two actions", twice, n / 80},
		{"users without profile", len(users) - countIn(profiles, keys(users)), 1},
		{"users with two profiles", len(a["bo_user"].Cols[1].S) - len(profiles), len(profiles) / 10},
		{"products without attributes", len(skus) - countIn(products, skus), 1},
		{"past actions", a["bo_action"].Len, 2 * n},
		{"comment snapshots", a["bo_comment"].Len, 5 * len(skus)},
		{"NULL main_ids", nulls(req, 2), n / 100},
		{"NULL actionValues", nulls(a["action"], 3), 1},
		{"NULL ages", nulls(a["bo_user"], 2), 1},
		{"NULL model_ids", nulls(a["bo_action"], 3), n / 100},
		{"NULL bad_comment_rates", nulls(a["bo_comment"], 5), 1},
	} {
		if c.got < c.min {
			t.Errorf("%s: %d, want at least %d", c.what, c.got, c.min)
		}
	}
}

func keyCounts(keys []string) map[string]int {
	m := map[string]int{}
	for _, k := range keys {
		m[k]++
	}
	return m
}

func keys(m map[string]int) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

// countIn counts the keys of m that are in set.
func countIn(m map[string]int, set map[string]bool) int {
	n := 0
	for k := range m {
		if set[k] {
			n++
		}
	}
	return n
}
