package bucket_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/fenestra-dev/fenestra/conformance"
	"github.com/fenestra-dev/fenestra/dataflow/bucket"
	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

const ddl = `
CREATE TABLE tx (id int64, card string, merchant int32, amount double, ts timestamp, INDEX(KEY=card, TS=ts), INDEX(KEY=merchant, TS=ts));
CREATE TABLE tx2 (id int64, card string, merchant int32, amount double, ts timestamp, INDEX(KEY=card, TS=ts));
CREATE TABLE cards (card string, limit_ double, updated timestamp, INDEX(KEY=card, TS=updated));
CREATE TABLE merchants (merchant int64, country string, updated timestamp, INDEX(KEY=merchant, TS=updated));
`

// TestLayout pins the layout chosen for representative views.
func TestLayout(t *testing.T) {
	t.Parallel()
	mod, err := featurelang.Compile("ddl.sql", ddl, featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, query, want string }{
		{"window", `SELECT sum(amount) OVER w AS s FROM tx
			WINDOW w AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 1h PRECEDING AND CURRENT ROW)`,
			"buckets: tx keyed[1]"},
		{"windows sharing one of two keys", `SELECT sum(amount) OVER w1 AS a, count(amount) OVER w2 AS b FROM tx
			WINDOW w1 AS (PARTITION BY card, merchant ORDER BY ts ROWS BETWEEN 3 PRECEDING AND CURRENT ROW),
			w2 AS (PARTITION BY merchant, card ORDER BY ts ROWS BETWEEN 3 PRECEDING AND CURRENT ROW),
			w3 AS (PARTITION BY card ORDER BY ts ROWS BETWEEN 3 PRECEDING AND CURRENT ROW)`,
			"buckets: tx keyed[1]"},
		{"windows sharing two keys", `SELECT sum(amount) OVER w1 AS a, count(amount) OVER w2 AS b FROM tx
			WINDOW w1 AS (PARTITION BY card, merchant ORDER BY ts ROWS BETWEEN 3 PRECEDING AND CURRENT ROW),
			w2 AS (PARTITION BY merchant, card ORDER BY ts ROWS BETWEEN 3 PRECEDING AND CURRENT ROW)`,
			"buckets: tx keyed[1 2]"},
		{"windows sharing no key", `SELECT sum(amount) OVER w1 AS a, count(amount) OVER w2 AS b FROM tx
			WINDOW w1 AS (PARTITION BY card ORDER BY ts ROWS BETWEEN 3 PRECEDING AND CURRENT ROW),
			w2 AS (PARTITION BY merchant ORDER BY ts ROWS BETWEEN 3 PRECEDING AND CURRENT ROW)`,
			"one bucket: the windows share no partition column of table tx"},
		{"union", `SELECT sum(amount) OVER w AS s FROM tx
			WINDOW w AS (UNION tx2 PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 1h PRECEDING AND CURRENT ROW)`,
			"buckets: tx keyed[1], tx2 keyed[1]"},
		{"join on the window key", `SELECT sum(amount) OVER w AS s, cards.limit_ FROM tx LAST JOIN cards ON tx.card = cards.card
			WINDOW w AS (PARTITION BY tx.card ORDER BY ts ROWS_RANGE BETWEEN 1h PRECEDING AND CURRENT ROW)`,
			"buckets: cards keyed[0], tx keyed[1]"},
		{"join on another key", `SELECT sum(amount) OVER w AS s, m.country FROM tx LAST JOIN merchants AS m ON tx.merchant = m.merchant
			WINDOW w AS (PARTITION BY tx.card ORDER BY ts ROWS_RANGE BETWEEN 1h PRECEDING AND CURRENT ROW)`,
			"buckets: merchants whole, tx keyed[1]"},
		{"join only", `SELECT tx.id, m.country FROM tx LAST JOIN merchants AS m ON tx.merchant = m.merchant`,
			"buckets: merchants keyed[0], tx keyed[2]"},
		{"no windows, no joins", `SELECT id, amount * 2 AS a FROM tx WHERE amount > 1`,
			"buckets: tx spread"},
		{"root limit", `SELECT id FROM tx LIMIT 3`, "buckets: tx spread"},
		{"limit in a subquery", `SELECT sum(amount) OVER w AS s FROM (SELECT * FROM tx LIMIT 3) AS q
			WINDOW w AS (PARTITION BY card ORDER BY ts ROWS BETWEEN 3 PRECEDING AND CURRENT ROW)`,
			"one bucket: a LIMIT inside the query"},
		{"key lost in a subquery", `SELECT sum(a) OVER w AS s FROM (SELECT concat(card, 'x') AS c, amount AS a, ts FROM tx) AS q
			WINDOW w AS (PARTITION BY c ORDER BY ts ROWS BETWEEN 3 PRECEDING AND CURRENT ROW)`,
			"one bucket: the windows share no partition column of table tx"},
		{"self join keyed alike", `SELECT tx.id, b.amount FROM tx LAST JOIN tx AS b ON tx.card = b.card`,
			"buckets: tx keyed[1]"},
		{"self join needing the table whole", `SELECT sum(tx.amount) OVER w AS s, b.amount FROM tx LAST JOIN tx AS b ON tx.merchant = b.merchant
			WINDOW w AS (PARTITION BY tx.card ORDER BY tx.ts ROWS BETWEEN 3 PRECEDING AND CURRENT ROW)`,
			"one bucket: table tx is read both keyed and whole"},
		{"no from", `SELECT 1 AS one`, "one bucket: the query reads no table"},
		{"group by", `SELECT card, count(*) AS n FROM tx WHERE amount > 0 GROUP BY card`, "buckets: tx keyed[1]"},
		{"group by two columns", `SELECT merchant, card, sum(amount) AS s FROM tx GROUP BY merchant, card`, "buckets: tx keyed[1 2]"},
		{"group by over a window of its key", `SELECT card, max(s) AS m FROM (SELECT card, sum(amount) OVER w AS s FROM tx
			WINDOW w AS (PARTITION BY card, merchant ORDER BY ts ROWS BETWEEN 3 PRECEDING AND CURRENT ROW)) AS q GROUP BY card`,
			"buckets: tx keyed[1]"},
		{"group by another key than the window's", `SELECT merchant, max(s) AS m FROM (SELECT merchant, sum(amount) OVER w AS s FROM tx
			WINDOW w AS (PARTITION BY card ORDER BY ts ROWS BETWEEN 3 PRECEDING AND CURRENT ROW)) AS q GROUP BY merchant`,
			"one bucket: the windows share no partition column of table tx"},
		{"group by, joined on its key", `SELECT tx.card, count(*) AS n, max(cards.limit_) AS l FROM tx LAST JOIN cards ON tx.card = cards.card GROUP BY tx.card`,
			"buckets: cards keyed[0], tx keyed[1]"},
		{"whole-table aggregate", `SELECT count(*) AS n FROM tx`, "one bucket: a whole-table aggregate reads every row"},
		{"a grouped subquery joined", `SELECT tx.id, q.n FROM tx LAST JOIN (SELECT card, count(*) AS n FROM tx2 GROUP BY card) AS q ON tx.card = q.card`,
			"one bucket: a GROUP BY inside a subquery"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := featurelang.CompileQuery("q.sql", tt.query, mod.Tables, featurelang.Options{})
			if err != nil {
				t.Fatal(err)
			}
			l := bucket.Plan(p)
			if got := l.String(); got != tt.want {
				t.Errorf("layout %q, want %q", got, tt.want)
			}
			if whole := tt.name == "whole-table aggregate"; l.Always != whole {
				t.Errorf("Always = %v, want %v", l.Always, whole)
			}
		})
	}
}

// TestSplitEqualsWhole evaluates every view of the project's feature
// scripts and every batch case of the OpenMLDB suite bucket by bucket, for
// several bucket counts, and requires the merged rows to be identical to
// one evaluation over all rows.
func TestSplitEqualsWhole(t *testing.T) {
	t.Parallel()
	type input struct {
		name   string
		p      *plan.Plan
		tables map[string]*types.Block
	}
	var inputs []input
	scripts, _ := filepath.Glob("../../testdata/features/*.txt")
	for _, path := range scripts {
		mod, tables, err := conformance.LoadScript(path)
		if err != nil {
			continue // scripts of expected errors
		}
		for _, v := range mod.Views {
			inputs = append(inputs, input{filepath.Base(path) + " " + v.Name, v, tables})
		}
	}
	if len(inputs) < 8 {
		t.Fatalf("only %d views from the feature scripts", len(inputs))
	}
	split := 0
	if path, err := conformance.SharedCases(); err == nil {
		if _, err := os.Stat(path); err == nil {
			cases, err := conformance.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range cases {
				if !c.Runnable(conformance.Batch) {
					continue
				}
				p, tables, err := c.BatchInput()
				if err != nil {
					continue // the conformance suite reports cases that do not compile
				}
				inputs = append(inputs, input{c.ID, p, tables})
			}
		}
	}
	ctx := context.Background()
	for _, in := range inputs {
		ev, err := eval.New(in.p)
		if err != nil {
			t.Fatal(err)
		}
		want, err := ev.Batch(ctx, in.tables)
		if err != nil || in.p.Requests != nil {
			continue // an input the evaluator rejects is the conformance suite's business; a request query is never split
		}
		l := bucket.Plan(in.p)
		if l.Split {
			split++
		}
		for _, n := range []int{1, 2, 3, 7} {
			got, err := evalSplit(ctx, ev, l, in.tables, n)
			if err != nil {
				t.Fatalf("%s, %d buckets (%s): %v", in.name, n, l, err)
			}
			if why := identical(want, got); why != "" {
				t.Errorf("%s, %d buckets (%s): %s", in.name, n, l, why)
			}
		}
	}
	t.Logf("%d views, %d split into buckets", len(inputs), split)
}

// evalSplit routes the tables' rows into n buckets as l says, evaluates
// each bucket, and merges the outputs in FROM-table order.
func evalSplit(ctx context.Context, ev *eval.Evaluator, l *bucket.Layout, tables map[string]*types.Block, n int) (*types.Block, error) {
	if !l.Split {
		n = 1
	}
	req := ev.Plan().RequestTable
	buckets := make([]map[string]*types.Block, n)
	var reqRows [][]int // per bucket: FROM-table positions of its rows
	for b := range buckets {
		buckets[b] = map[string]*types.Block{}
	}
	for name, blk := range tables {
		rows := route(l.Routes[name], blk, n)
		for b := range buckets {
			buckets[b][name] = blk.Gather(rows[b])
		}
		if name == req {
			reqRows = rows
		}
	}
	type outRow struct {
		pos int
		blk *types.Block
		i   int
	}
	var all []outRow
	for b := range buckets {
		out, origins, err := ev.BatchRows(ctx, buckets[b])
		if err != nil {
			return nil, fmt.Errorf("bucket %d: %w", b, err)
		}
		for i, o := range origins {
			pos := o
			if o >= 0 {
				pos = reqRows[b][o]
			}
			all = append(all, outRow{pos, out, i})
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].pos < all[j].pos })
	if l.Limit >= 0 && int64(len(all)) > l.Limit {
		all = all[:l.Limit]
	}
	res := types.NewBlock(ev.Plan().Output, len(all))
	for _, r := range all {
		res.AppendFrom(r.blk, r.i)
	}
	return res, nil
}

// route returns, per bucket, the positions of blk's rows it reads.
func route(r bucket.Route, blk *types.Block, n int) [][]int {
	rows := make([][]int, n)
	h := bucket.NewHasher(r.Cols, n)
	for i := 0; i < blk.Len; i++ {
		switch r.Kind {
		case bucket.Whole:
			for b := range rows {
				rows[b] = append(rows[b], i)
			}
		case bucket.Spread:
			b := (i / 2) % n // pairs of rows, as blocks travel together
			rows[b] = append(rows[b], i)
		case bucket.Keyed:
			b := h.Bucket(blk, i)
			rows[b] = append(rows[b], i)
		}
	}
	return rows
}

// identical compares two blocks value by value, floats by their bits.
func identical(a, b *types.Block) string {
	if a.Len != b.Len {
		return fmt.Sprintf("%d rows, want %d", b.Len, a.Len)
	}
	if !slices.Equal(a.Schema, b.Schema) {
		return fmt.Sprintf("schema %s, want %s", b.Schema, a.Schema)
	}
	for i := 0; i < a.Len; i++ {
		for j := range a.Cols {
			if x, y := a.Cols[j].Value(i), b.Cols[j].Value(i); !types.Identical(x, y) {
				return fmt.Sprintf("row %d column %s: %s, want %s", i+1, a.Schema[j].Name, y, x)
			}
		}
	}
	return ""
}

// TestPlace checks Hasher.Place on 2,000 keys (a NULL, and an integer key
// of two widths, which are one key): its bucket is Bucket's, its wave
// depends on the key and the number of waves alone (the same for every
// bucket count), and each wave's keys reach every bucket.
func TestPlace(t *testing.T) {
	t.Parallel()
	schema := types.Schema{{Name: "k", Type: types.String}, {Name: "n", Type: types.Int64}}
	blk := types.NewBlock(schema, 2002)
	for i := range 2000 {
		blk.AppendRow([]types.Value{types.StringValue(fmt.Sprint("k", i)), types.IntValue(types.Int64, 7)})
	}
	blk.AppendRow([]types.Value{types.NullOf(types.String), types.IntValue(types.Int64, 7)})
	blk.AppendRow([]types.Value{types.StringValue("k0"), types.IntValue(types.Int32, 7)}) // row 0's key
	for _, waves := range []int{0, 1, 2, 3, 7} {
		var first []int // the waves of the rows, with the first bucket count
		for _, n := range []int{1, 3, 8, 16} {
			h := bucket.NewHasher([]int{0, 1}, n)
			hits := make([][]int, n) // per bucket, the rows of each wave
			for b := range hits {
				hits[b] = make([]int, max(waves, 1))
			}
			var got []int
			for i := range blk.Len {
				b, w := h.Place(blk, i, waves)
				if b != h.Bucket(blk, i) || w < 0 || w >= max(waves, 1) {
					t.Fatalf("%d waves, %d buckets: row %d placed in bucket %d (Bucket: %d), wave %d", waves, n, i, b, h.Bucket(blk, i), w)
				}
				hits[b][w]++
				got = append(got, w)
			}
			if got[blk.Len-1] != got[0] {
				t.Errorf("%d waves, %d buckets: key k0 as int32 in wave %d, as int64 in %d", waves, n, got[blk.Len-1], got[0])
			}
			if first == nil {
				first = got
			} else if !slices.Equal(got, first) {
				t.Errorf("%d waves: the waves of the rows change with the bucket count (%d)", waves, n)
			}
			for b, ws := range hits {
				if slices.Contains(ws, 0) {
					t.Errorf("%d waves, %d buckets: bucket %d has rows of the waves %v", waves, n, b, ws)
				}
			}
		}
	}
}
