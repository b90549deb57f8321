package examples

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// The cards example's data: card transactions over 30 days from the
// start, with what makes feature pipelines go wrong:
//
//   - skew: a few busy cards (one transaction in ten among 0.2% of the
//     cards, so each has about 50 times a card's mean) and bursts (one in five continues the previous card's, seconds
//     later);
//   - equal timestamps: one transaction in fifty at the same millisecond
//     as the one before;
//   - NULLs: unknown countries, amounts, credit limits and categories;
//   - late arrival: one transaction in a hundred arrives (comes in the
//     file) up to 20 rows after later ones;
//   - point-in-time joins: a card's profile has versions (the home
//     country moves, the limit changes), some cards have none, and some
//     merchants are unknown.
//
// CardsDays is the span of the cards example's transactions.
const CardsDays = 30

var (
	countries  = []string{"FR", "DE", "US", "GB", "IT", "ES", "BR", "JP", "MX", "IN"}
	categories = []string{"grocery", "online", "travel", "fuel", "restaurant", "electronics"}
)

// cardsGen generates the cards example.
type cardsGen struct {
	r                 *rand.Rand
	start             int64 // ms
	nCards, nMerchant int
	home              []string // of each card, at the start
}

func generateCards(tables map[string]*plan.Table, cfg Config) map[string]*types.Block {
	g := &cardsGen{r: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)), start: cfg.Start.UnixMilli()}
	g.nCards = max(1, cfg.Rows/100)
	g.nMerchant = max(10, cfg.Rows/2000)
	out := map[string]*types.Block{
		"merchants": g.merchants(tables["merchants"].Schema),
		"cards":     g.cards(tables["cards"].Schema),
	}
	out["tx"] = g.transactions(tables["tx"].Schema, cfg.Rows)
	return out
}

// CardName and MerchantName name the example's cards and merchants.
func CardName(c int) string     { return fmt.Sprintf("c%05d", c) }
func MerchantName(m int) string { return fmt.Sprintf("m%04d", m) }

func (g *cardsGen) merchants(schema types.Schema) *types.Block {
	b := types.NewBlock(schema, g.nMerchant)
	for m := range g.nMerchant {
		category := types.StringValue(categories[g.r.IntN(len(categories))])
		if g.r.IntN(10) == 0 {
			category = types.NullOf(types.String)
		}
		b.AppendRow([]types.Value{types.StringValue(MerchantName(m)), category})
	}
	return b
}

// cards makes the profile versions: a first one a day before the start
// for 95% of cards, and for 30% of those a second during the month.
func (g *cardsGen) cards(schema types.Schema) *types.Block {
	b := types.NewBlock(schema, g.nCards)
	g.home = make([]string, g.nCards)
	limit := func() types.Value {
		if g.r.IntN(10) == 0 {
			return types.NullOf(types.Double)
		}
		return types.DoubleValue(float64(500 * (1 + g.r.IntN(20))))
	}
	var later [][]types.Value
	for c := range g.nCards {
		g.home[c] = countries[g.r.IntN(len(countries))]
		if g.r.IntN(20) == 0 {
			continue // no profile
		}
		b.AppendRow([]types.Value{types.StringValue(CardName(c)), types.StringValue(g.home[c]), limit(), types.TimestampValue(g.start - 86_400_000)})
		if g.r.IntN(10) < 3 {
			home := g.home[c]
			if g.r.IntN(3) == 0 {
				home = countries[g.r.IntN(len(countries))]
			}
			at := g.start + g.r.Int64N(CardsDays*86_400_000)
			later = append(later, []types.Value{types.StringValue(CardName(c)), types.StringValue(home), limit(), types.TimestampValue(at)})
		}
	}
	for _, row := range later {
		b.AppendRow(row)
	}
	return b
}

// transactions makes n transactions in time order, then lets one in a
// hundred arrive late.
func (g *cardsGen) transactions(schema types.Schema, n int) *types.Block {
	rows := make([][]types.Value, n)
	span := int64(CardsDays) * 86_400_000
	ts, prev := g.start, 0
	for i := range n {
		c := g.card(prev, i)
		switch {
		case i > 0 && g.r.IntN(50) == 0: // the same millisecond as the previous transaction
		case i > 0 && c == prev:
			ts += 1 + g.r.Int64N(30_000) // a burst: seconds later
		default:
			// about 78% of the steps: spread the month over them
			ts += 1 + g.r.Int64N(max(1, 2*span*100/(int64(n)*78)))
		}
		prev = c
		rows[i] = g.transaction(i, c, ts)
	}
	for i := range n {
		if g.r.IntN(100) == 0 {
			j := min(n-1, i+1+g.r.IntN(20))
			rows[i], rows[j] = rows[j], rows[i]
		}
	}
	return types.BlockOf(schema, rows)
}

// card picks the card of transaction i.
func (g *cardsGen) card(prev, i int) int {
	switch {
	case i > 0 && g.r.IntN(5) == 0:
		return prev
	case g.r.IntN(10) == 0:
		return g.r.IntN(max(1, g.nCards/500))
	}
	return g.r.IntN(g.nCards)
}

func (g *cardsGen) transaction(i, c int, ts int64) []types.Value {
	country := types.StringValue(g.home[c])
	switch g.r.IntN(100) {
	case 0, 1, 2:
		country = types.NullOf(types.String)
	case 3, 4, 5, 6, 7, 8, 9, 10, 11, 12:
		country = types.StringValue(countries[g.r.IntN(len(countries))])
	}
	amount := types.DoubleValue(math.Round(math.Exp(g.r.NormFloat64()*1.2+3)*100) / 100)
	if g.r.IntN(100) == 0 {
		amount = types.NullOf(types.Double)
	}
	merchant := MerchantName(g.r.IntN(g.nMerchant))
	if g.r.IntN(100) == 0 {
		merchant = fmt.Sprintf("x%04d", g.r.IntN(100)) // not a known merchant
	}
	return []types.Value{types.Int64Value(int64(i + 1)), types.StringValue(CardName(c)), types.StringValue(merchant),
		country, amount, types.TimestampValue(ts)}
}
