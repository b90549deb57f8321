package featurelang_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/celexpr"
	"github.com/fenestra-dev/fenestra/featurelang/diag"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

func compileOne(t *testing.T, src string) *plan.Plan {
	t.Helper()
	m, err := featurelang.Compile("test.sql", src, featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return m.Views[0]
}

// TestCELCostLimit checks that a hostile CEL expression stops at the cost
// limit with an error, in batch and in request mode, instead of running
// away (a quadratic comprehension over a generated list).
func TestCELCostLimit(t *testing.T) {
	t.Parallel()
	p := compileOne(t, `CREATE TABLE t (id int, n bigint, ts timestamp);
SELECT id, CEL('[1,2,3,4,5,6,7,8,9,10].map(a, [1,2,3,4,5,6,7,8,9,10].map(b, [1,2,3,4,5,6,7,8,9,10].map(c, [1,2,3,4,5,6,7,8,9,10].map(d, a*b*c*d+n)))).size()') AS boom FROM t;`)
	ev, err := eval.New(p)
	if err != nil {
		t.Fatal(err)
	}
	row := []types.Value{types.IntValue(types.Int32, 1), types.Int64Value(2), types.TimestampValue(0)}
	rows := types.BlockOf(p.Tables[0].Schema, [][]types.Value{row})
	_, err = ev.Batch(context.Background(), map[string]*types.Block{"t": rows})
	if !errors.Is(err, celexpr.ErrCostLimit) {
		t.Errorf("batch: got %v, want the cost limit error", err)
	}
	src := eval.NewMemSource()
	src.Create("t", p.Tables[0].Schema)
	if _, err := ev.Request(context.Background(), row, src); !errors.Is(err, celexpr.ErrCostLimit) {
		t.Errorf("request: got %v, want the cost limit error", err)
	}
}

// TestVersionStable checks that a plan's version depends on what the view
// computes, not on how the SQL is laid out.
func TestVersionStable(t *testing.T) {
	t.Parallel()
	a := compileOne(t, "CREATE TABLE t (k string, v double, ts timestamp);\nSELECT sum(v) OVER w AS s FROM t WINDOW w AS (PARTITION BY k ORDER BY ts ROWS_RANGE BETWEEN 1h PRECEDING AND CURRENT ROW);")
	b := compileOne(t, "create table t (k string,\n  v double, ts timestamp);\n-- the same view\nselect SUM(v) over w as s\n  from t\n  window w as (partition by k order by ts rows_range between 3600s preceding and current row);")
	c := compileOne(t, "CREATE TABLE t (k string, v double, ts timestamp);\nSELECT sum(v) OVER w AS s FROM t WINDOW w AS (PARTITION BY k ORDER BY ts ROWS_RANGE BETWEEN 2h PRECEDING AND CURRENT ROW);")
	if plan.Version(a) != plan.Version(b) {
		t.Errorf("layout changed the version: %s != %s", plan.Version(a), plan.Version(b))
	}
	if plan.Version(a) == plan.Version(c) {
		t.Errorf("a different window kept the version %s", plan.Version(a))
	}
}

// TestErrorCap checks that errors are collected up to the cap and the rest
// counted.
func TestErrorCap(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("CREATE TABLE t (a int);\nSELECT ")
	for i := range 30 {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "nope%d", i)
	}
	b.WriteString(" FROM t;")
	_, err := featurelang.Compile("many.sql", b.String(), featurelang.Options{})
	var list *diag.List
	if !errors.As(err, &list) {
		t.Fatalf("got %T %v, want a *diag.List", err, err)
	}
	if list.Len() != 30 || len(list.Errs) != diag.MaxErrors {
		t.Errorf("recorded %d of %d errors, want %d of 30", len(list.Errs), list.Len(), diag.MaxErrors)
	}
	if !strings.HasSuffix(err.Error(), "(and 10 more errors)") {
		t.Errorf("the message does not count the dropped errors:\n%s", err)
	}
	if first := list.Errs[0].Error(); !strings.HasPrefix(first, `many.sql:2:8: unknown column "nope0"`) {
		t.Errorf("first error %q", first)
	}
}
