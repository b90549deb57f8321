package eval_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// cardsFile is the cards example's feature file, whose DEPLOY card_features
// BenchmarkCards1M evaluates.
const cardsFile = "../../examples/cards/features.sql"

// cardsView compiles the cards example and returns its tables and the
// evaluator of its view card_features.
func cardsView(tb testing.TB) (map[string]*plan.Table, *eval.Evaluator) {
	tb.Helper()
	text, err := os.ReadFile(cardsFile)
	if err != nil {
		tb.Skipf("the cards example: %v", err)
	}
	m, err := featurelang.Compile(cardsFile, string(text), featurelang.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tables := map[string]*plan.Table{}
	for _, t := range m.Tables {
		tables[t.Name] = t
	}
	for _, v := range m.Views {
		if v.Name == "card_features" {
			ev, err := eval.New(v)
			if err != nil {
				tb.Fatal(err)
			}
			return tables, ev
		}
	}
	tb.Fatal("no view card_features")
	return nil, nil
}

// cardsData generates data shaped as the cards example's (the examples
// package, which featurelang may not import, has the real generator): n
// transactions over 30 days of n/100 cards, busy cards and bursts among
// them, about 3% NULL countries and 1% NULL amounts, 1% unknown merchants,
// 1% late arrivals; a profile version for 95% of the cards and a second one
// for 30% of those, 10% of credit limits NULL; n/2000 merchants, 10% of
// categories NULL.
func cardsData(tables map[string]*plan.Table, n int) map[string]*types.Block {
	r := rand.New(rand.NewPCG(7, 11))
	nCards, nMerch := max(1, n/100), max(10, n/2000)
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	const span = int64(30 * 86_400_000)
	countries := []string{"FR", "DE", "US", "GB", "IT", "ES", "BR", "JP", "MX", "IN"}
	categories := []string{"grocery", "online", "travel", "fuel", "restaurant", "electronics"}
	nullOr := func(null bool, v types.Value) types.Value {
		if null {
			return types.NullOf(v.Type)
		}
		return v
	}
	var merchants, cards, tx [][]types.Value
	for m := range nMerch {
		merchants = append(merchants, []types.Value{types.StringValue(fmt.Sprintf("m%04d", m)),
			nullOr(r.IntN(10) == 0, types.StringValue(categories[r.IntN(len(categories))]))})
	}
	home := make([]string, nCards)
	limit := func() types.Value {
		return nullOr(r.IntN(10) == 0, types.DoubleValue(float64(500*(1+r.IntN(20)))))
	}
	for c := range nCards {
		home[c] = countries[r.IntN(len(countries))]
		if r.IntN(20) == 0 {
			continue
		}
		name := types.StringValue(fmt.Sprintf("c%05d", c))
		cards = append(cards, []types.Value{name, types.StringValue(home[c]), limit(), types.TimestampValue(start - 86_400_000)})
		if r.IntN(10) < 3 {
			cards = append(cards, []types.Value{name, types.StringValue(countries[r.IntN(len(countries))]), limit(),
				types.TimestampValue(start + r.Int64N(span))})
		}
	}
	ts, prev, step := start, 0, max(1, 2*span*100/(int64(n)*78))
	for i := range n {
		c := r.IntN(nCards)
		switch {
		case i > 0 && r.IntN(5) == 0:
			c = prev
		case r.IntN(10) == 0:
			c = r.IntN(max(1, nCards/500))
		}
		switch {
		case i > 0 && r.IntN(50) == 0:
		case c == prev:
			ts += 1 + r.Int64N(30_000)
		default:
			ts += 1 + r.Int64N(step)
		}
		prev = c
		country := types.StringValue(home[c])
		switch k := r.IntN(100); {
		case k < 3:
			country = types.NullOf(types.String)
		case k < 13:
			country = types.StringValue(countries[r.IntN(len(countries))])
		}
		merchant := fmt.Sprintf("m%04d", r.IntN(nMerch))
		if r.IntN(100) == 0 {
			merchant = fmt.Sprintf("x%04d", r.IntN(100))
		}
		amount := nullOr(r.IntN(100) == 0, types.DoubleValue(math.Round(math.Exp(r.NormFloat64()*1.2+3)*100)/100))
		tx = append(tx, []types.Value{types.Int64Value(int64(i + 1)), types.StringValue(fmt.Sprintf("c%05d", c)),
			types.StringValue(merchant), country, amount, types.TimestampValue(ts)})
	}
	for i := range n {
		if r.IntN(100) == 0 {
			j := min(n-1, i+1+r.IntN(20))
			tx[i], tx[j] = tx[j], tx[i]
		}
	}
	return map[string]*types.Block{
		"tx":        types.BlockOf(tables["tx"].Schema, tx),
		"cards":     types.BlockOf(tables["cards"].Schema, cards),
		"merchants": types.BlockOf(tables["merchants"].Schema, merchants),
	}
}

// BenchmarkCards1M evaluates the cards example's view card_features in
// batch, as fenestra backfill does, over 1,000,000 transactions of 10,000
// cards over 30 days. ns/row is per transaction.
func BenchmarkCards1M(b *testing.B) {
	tables, ev := cardsView(b)
	data := cardsData(tables, 1_000_000)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := ev.BatchRows(ctx, data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N)/1e6, "ns/row")
}
