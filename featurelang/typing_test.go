package featurelang_test

import (
	"context"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// TestConditionalTyping checks the result types of conditional
// expressions of mixed types, OpenMLDB's CompatibleType
// (hybridse/src/node/expr_node.cc): int32 with float is float (as
// OpenMLDB's test_condition.yaml#15 expects), int64 with float double,
// and column types that do not convert meet in string.
func TestConditionalTyping(t *testing.T) {
	t.Parallel()
	tbl := &plan.Table{Name: "t", Schema: types.Schema{
		{Name: "col1", Type: types.Int32}, {Name: "col2", Type: types.Int64}, {Name: "col3", Type: types.Float},
		{Name: "day", Type: types.Date}, {Name: "ok", Type: types.Bool}}}
	const sql = `SELECT
  case col1 when 1 then "abc" else 12 end AS out1,
  case when col2 > 10 then 7.0 else 100 end AS out2,
  case when col2 > 10 then col3 else 100 end AS out3,
  ifnull(col1, col3) AS i32_f,
  ifnull(col2, col3) AS i64_f,
  nvl2(col2, col1, col3) AS nvl2_i32_f,
  maximum(col1, col3) AS max_i32_f,
  minimum(col3, col2) AS min_f_i64,
  case when ok then day else col1 end AS date_int,
  [col1, col3] AS arr
FROM t`
	p, err := featurelang.CompileQuery("q.sql", sql, []*plan.Table{tbl}, featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const schema = "out1 string, out2 double, out3 float, i32_f float, i64_f double, nvl2_i32_f float, max_i32_f float, min_f_i64 double, date_int string, arr array<float>"
	if got := p.Output.String(); got != schema {
		t.Fatalf("schema\n%s\nwant\n%s", got, schema)
	}
	ev, err := eval.New(p)
	if err != nil {
		t.Fatal(err)
	}
	in := types.BlockOf(tbl.Schema, [][]types.Value{{types.IntValue(types.Int32, 1), types.NullOf(types.Int64),
		types.FloatValue(4), types.NullOf(types.Date), types.BoolValue(false)}})
	out, err := ev.Batch(context.Background(), map[string]*types.Block{"t": in})
	if err != nil {
		t.Fatal(err)
	}
	want := []types.Value{types.StringValue("abc"), types.DoubleValue(100), types.FloatValue(100), types.FloatValue(1),
		types.DoubleValue(4), types.FloatValue(4), types.FloatValue(4), types.NullOf(types.Double), types.StringValue("1")}
	for i, w := range want {
		if got := out.Cols[i].Value(0); !types.Identical(got, w) {
			t.Errorf("%s = %s, want %s", p.Output[i].Name, got, w)
		}
	}
}
