package console

import (
	"context"
	"math"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
)

// TestBeforeStore: reads of the cutoff's table stop before its event:
// earlier times, and at its time the rows that came before it (equal
// rows told apart by their rank); the newest-N reads still return N rows
// when there are; other tables and reads without a cutoff are untouched;
// writes are refused.
func TestBeforeStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mod := compile(t, `CREATE TABLE t (k string, v int64, ts timestamp, INDEX(KEY=k, TS=ts));
CREATE TABLE u (k string, ts timestamp, INDEX(KEY=k, TS=ts));`)
	mem := storage.NewMem(epoch)
	if err := mem.Init(ctx, mod.Tables); err != nil {
		t.Fatal(err)
	}
	schema := mod.Tables[0].Schema
	row := func(v, ts int64) []types.Value {
		return []types.Value{types.StringValue("a"), types.Int64Value(v), types.TimestampValue(ts)}
	}
	rows := [][]types.Value{row(1, 10), row(1, 10), row(2, 10), row(3, 20), row(4, 30)}
	if err := mem.Write(ctx, "t", types.BlockOf(schema, rows), []uint64{1, 2, 3, 4, 5}); err != nil {
		t.Fatal(err)
	}
	if err := mem.Write(ctx, "u", types.BlockOf(mod.Tables[1].Schema, [][]types.Value{{types.StringValue("a"), types.TimestampValue(99)}}), []uint64{1}); err != nil {
		t.Fatal(err)
	}
	s := beforeStore{mem}
	q := eval.Query{Table: "t", Keys: []string{"k"}, Values: []types.Value{types.StringValue("a")}, TS: "ts", From: math.MinInt64, To: math.MaxInt64}
	scan := func(c *cutoff, q eval.Query) []int64 {
		t.Helper()
		if c != nil {
			ctx = withCutoff(context.Background(), c)
		}
		b, err := s.Scan(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var vs []int64
		for i := range b.Len {
			vs = append(vs, b.Cols[b.Schema.Index("v")].I[i])
		}
		return vs
	}
	cut := func(i, n int) *cutoff {
		r := rows[i]
		return &cutoff{table: "t", ts: 2, tsName: "ts", at: r[2].I, row: r, n: n}
	}
	for _, c := range []struct {
		name  string
		c     *cutoff
		limit int
		want  []int64
	}{
		{"no cutoff", nil, 0, []int64{1, 1, 2, 3, 4}},
		{"the first of two equal rows", cut(0, 0), 0, nil},
		{"the second of two equal rows", cut(1, 1), 0, []int64{1}},
		{"after equal rows", cut(2, 0), 0, []int64{1, 1}},
		{"a later time", cut(3, 0), 0, []int64{1, 1, 2}},
		{"the newest row", cut(4, 0), 0, []int64{1, 1, 2, 3}},
		{"the newest 2 before", cut(4, 0), 2, []int64{2, 3}},
		{"the newest 1 before a time of 3 rows", cut(3, 0), 1, []int64{2}},
	} {
		q := q
		q.Limit = c.limit
		ctx = context.Background()
		if got := scan(c.c, q); !equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	// Another table is not cut.
	b, err := s.Scan(withCutoff(ctx, cut(0, 0)), eval.Query{Table: "u", Keys: []string{"k"}, Values: []types.Value{types.StringValue("a")}, TS: "ts", From: math.MinInt64, To: math.MaxInt64})
	if err != nil || b.Len != 1 {
		t.Errorf("table u under t's cutoff: %v rows, %v; want its row", b, err)
	}
	if err := s.Write(ctx, "t", types.BlockOf(schema, rows[:1]), []uint64{9}); err != errReadOnly {
		t.Errorf("Write: %v, want %v", err, errReadOnly)
	}
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
