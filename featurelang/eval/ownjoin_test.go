package eval_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// ownJoinQuery has the shape of OpenMLDB's JD demo: windowed subqueries
// of the request table LAST JOINed on its id, one of them a window over
// a UNION with INSTANCE_NOT_IN_WINDOW.
const ownJoinQuery = `SELECT * FROM
(SELECT id AS id_a, k, sum(c1) OVER w AS s, count(c1) OVER w AS n FROM t1
 WINDOW w AS (PARTITION BY k ORDER BY ts ROWS BETWEEN 3 PRECEDING AND CURRENT ROW)) AS a
LAST JOIN
(SELECT id AS id_b, count(c1) OVER u AS un, max(c1) OVER u AS um
 FROM (SELECT ts, k, c1, id FROM t1)
 WINDOW u AS (UNION (SELECT ts, k, c1, bigint(0) AS id FROM t2) PARTITION BY k ORDER BY ts
   ROWS_RANGE BETWEEN 10s PRECEDING AND CURRENT ROW INSTANCE_NOT_IN_WINDOW)) AS b
ON a.id_a = b.id_b
LAST JOIN
(SELECT t1.id AS id_c, t3.v AS v FROM t1 LAST JOIN t3 ON t1.k = t3.k) AS c
ON a.id_a = c.id_c`

// keyedOnly is a Source that refuses to read a whole table.
type keyedOnly struct{ eval.Source }

func (k keyedOnly) Scan(ctx context.Context, q eval.Query) (*types.Block, error) {
	if len(q.Keys) == 0 {
		return nil, fmt.Errorf("a read of the whole table %s", q.Table)
	}
	return k.Source.Scan(ctx, q)
}

// TestOwnJoin checks the request join of subqueries over the request
// table: request mode takes the request's own row of the right side (it
// reads no whole table), and equals batch mode over the stored rows with
// the request appended, also when stored rows share the request's id or
// have a NULL one.
func TestOwnJoin(t *testing.T) {
	t.Parallel()
	schema := types.Schema{{Name: "k", Type: types.String}, {Name: "ts", Type: types.Timestamp},
		{Name: "c1", Type: types.Double}, {Name: "id", Type: types.Int64}}
	t1 := &plan.Table{Name: "t1", Schema: schema}
	t2 := &plan.Table{Name: "t2", Schema: schema[:3]}
	t3 := &plan.Table{Name: "t3", Schema: types.Schema{{Name: "k", Type: types.String}, {Name: "v", Type: types.Int32}}}
	tables := []*plan.Table{t1, t2, t3}
	p, err := featurelang.CompileQuery("q.sql", ownJoinQuery, tables, featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := eval.New(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, rd := range ev.Reads() {
		if len(rd.Keys) == 0 {
			t.Errorf("a read of the whole table %s (%s)", rd.Table, rd.Why)
		}
	}

	r := rand.New(rand.NewPCG(3, 4))
	const t0 = 1_700_000_000_000
	keys := []types.Value{types.StringValue("a"), types.StringValue("b"), types.NullOf(types.String)}
	row := func(withID bool) []types.Value {
		id := types.Int64Value(r.Int64N(8))
		if r.IntN(8) == 0 {
			id = types.NullOf(types.Int64)
		}
		c1 := types.DoubleValue(float64(r.IntN(9)))
		if r.IntN(6) == 0 {
			c1 = types.NullOf(types.Double)
		}
		out := []types.Value{keys[r.IntN(len(keys))], types.TimestampValue(t0 + r.Int64N(30)*1000), c1}
		if withID {
			out = append(out, id)
		}
		return out
	}
	ctx := context.Background()
	for i := range 200 {
		stored := map[string][][]types.Value{}
		for range r.IntN(12) {
			stored["t1"] = append(stored["t1"], row(true))
		}
		for range r.IntN(12) {
			stored["t2"] = append(stored["t2"], row(false))
		}
		for _, k := range keys[:2] {
			stored["t3"] = append(stored["t3"], []types.Value{k, types.IntValue(types.Int32, r.Int64N(5))})
		}
		req := row(true)
		src := eval.NewMemSource()
		batch := map[string]*types.Block{}
		for _, tb := range tables {
			src.Create(tb.Name, tb.Schema)
			if err := src.Insert(tb.Name, stored[tb.Name]...); err != nil {
				t.Fatal(err)
			}
			rows := stored[tb.Name]
			if tb.Name == "t1" {
				rows = append(rows, req)
			}
			batch[tb.Name] = types.BlockOf(tb.Schema, rows)
		}
		out, err := ev.Batch(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		want := out.Row(out.Len-1, nil)
		got, err := ev.Request(ctx, req, keyedOnly{src})
		if err != nil {
			t.Fatal(err)
		}
		if !identicalRows(got, want) {
			t.Fatalf("case %d: request %s\nrequest mode %s\nbatch mode   %s\nstored t1 %v\nstored t2 %v",
				i, fmtRow(req), fmtRow(got), fmtRow(want), stored["t1"], stored["t2"])
		}
	}
}
