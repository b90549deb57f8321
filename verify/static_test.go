package verify

import (
	"context"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// TestStaticReads: the tables a replay does not write and that expire
// nothing by age are read once per query; the request table and a table
// with an absolute TTL are read each time.
func TestStaticReads(t *testing.T) {
	mod, err := featurelang.Compile("static.sql", `
CREATE TABLE tx (card string, amount double, ts timestamp, INDEX(KEY=card, TS=ts, TTL=1d, TTL_TYPE=absolute));
CREATE TABLE cards (card string, home string, INDEX(KEY=card));
CREATE TABLE rates (card string, rate double, ts timestamp, INDEX(KEY=card, TS=ts, TTL=1d, TTL_TYPE=absolute));
DEPLOY v SELECT sum(amount) OVER w AS s, cards.home AS home, rates.rate AS rate FROM tx
  LAST JOIN cards ON tx.card = cards.card
  LAST JOIN rates ORDER BY rates.ts ON tx.card = rates.card
WINDOW w AS (PARTITION BY tx.card ORDER BY tx.ts ROWS_RANGE BETWEEN 1h PRECEDING AND CURRENT ROW);`, featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p, err := NewInProcess(ctx, mod, "v")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if len(p.static) != 1 || !p.static["cards"] {
		t.Fatalf("static tables: got %v, want only cards", p.static)
	}
	rows := func(table string, vals ...types.Value) *types.Block {
		b := types.NewBlock(mod.Tables[tableIndex(mod, table)].Schema, 1)
		b.AppendRow(vals)
		return b
	}
	if err := p.Load(ctx, "cards", rows("cards", types.StringValue("c1"), types.StringValue("FR")), []uint64{1}); err != nil {
		t.Fatal(err)
	}
	s := newStaticReads(p.init, p.static)
	q := eval.Query{Table: "cards", Keys: []string{"card"}, Values: []types.Value{types.StringValue("c1")}}
	first, err := s.Scan(ctx, q)
	if err != nil || first.Len != 1 {
		t.Fatalf("first read: %v, %v", first, err)
	}
	// A row written behind the cache's back is not seen: the read is
	// the cached one (the replay never writes a static table).
	if err := p.Load(ctx, "cards", rows("cards", types.StringValue("c1"), types.StringValue("DE")), []uint64{2}); err != nil {
		t.Fatal(err)
	}
	again, err := s.ScanMany(ctx, []eval.Query{q, {Table: "tx", Keys: []string{"card"}, Values: []types.Value{types.StringValue("c1")}, TS: "ts", From: 0, To: 1 << 62}})
	if err != nil {
		t.Fatal(err)
	}
	if again[0] != first {
		t.Errorf("cards read again from the store, not from the cache")
	}
	if again[1] == nil || again[1].Len != 0 {
		t.Errorf("tx read: %v", again[1])
	}
	direct, err := p.init.Scan(ctx, q)
	if err != nil || direct.Len != 2 {
		t.Fatalf("the store holds %v, %v; want 2 rows", direct, err)
	}
}

func tableIndex(mod *featurelang.Module, name string) int {
	for i, t := range mod.Tables {
		if t.Name == name {
			return i
		}
	}
	return -1
}
