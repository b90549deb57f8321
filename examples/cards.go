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
	src               *rand.PCG // r's source: its state can be saved and restored
	r                 *rand.Rand
	start             int64 // ms
	nCards, nMerchant int
	home              []string // of each card, at the start
}

func newCardsGen(cfg Config) *cardsGen {
	src := rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)
	return &cardsGen{src: src, r: rand.New(src), start: cfg.Start.UnixMilli(),
		nCards: max(1, cfg.Rows/100), nMerchant: max(10, cfg.Rows/2000)}
}

func generateCards(tables map[string]*plan.Table, cfg Config) map[string]*types.Block {
	g := newCardsGen(cfg)
	out := map[string]*types.Block{
		"merchants": g.merchants(tables["merchants"].Schema),
		"cards":     g.cards(tables["cards"].Schema),
	}
	out["tx"] = g.transactions(tables["tx"].Schema, cfg.Rows)
	return out
}

// streamCards writes generateCards' tables to writers from create: the
// merchants and the cards (about 1% of the rows) from memory, the
// transactions in a stream.
func streamCards(tables map[string]*plan.Table, cfg Config, create CreateFunc) error {
	g := newCardsGen(cfg)
	if err := writeTable(create, tables["merchants"], g.merchants(tables["merchants"].Schema)); err != nil {
		return err
	}
	if err := writeTable(create, tables["cards"], g.cards(tables["cards"].Schema)); err != nil {
		return err
	}
	w, err := create(tables["tx"])
	if err != nil {
		return err
	}
	err = g.streamTransactions(w, tables["tx"].Schema, cfg.Rows)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return err
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
	walk := g.walk(n)
	for i := range n {
		rows[i] = g.values(nil, g.next(walk, i))
	}
	for i := range n {
		if j, ok := late(g.r, i, n); ok {
			rows[i], rows[j] = rows[j], rows[i]
		}
	}
	return types.BlockOf(schema, rows)
}

// streamTransactions writes the rows transactions returns to w, in blocks
// of StreamBlock rows, holding lateBy+1 transactions. The late arrivals
// are drawn after all the transactions, so a first walk only draws them,
// to reach that state of the generator; then a second generator, from
// that state, draws the late arrivals while the first, back at its state
// before the walk, makes the transactions again: step i swaps transaction
// i with one at most lateBy later, and later steps only swap later ones,
// so after step i transaction i is where it stays, and is written.
func (g *cardsGen) streamTransactions(w TableWriter, schema types.Schema, n int) error {
	before := *g.src
	walk := g.walk(n)
	for i := range n {
		g.next(walk, i)
	}
	after := *g.src
	lateR := rand.New(&after)
	*g.src = before
	walk = g.walk(n)
	ring := make([]tx, lateBy+1)
	at := func(i int) *tx { return &ring[i%len(ring)] }
	b := types.NewBlock(schema, StreamBlock)
	row := make([]types.Value, 0, len(schema))
	made := 0
	for i := range n {
		for ; made < min(n, i+lateBy+1); made++ {
			*at(made) = g.next(walk, made)
		}
		if j, ok := late(lateR, i, n); ok {
			*at(i), *at(j) = *at(j), *at(i)
		}
		row = g.values(row[:0], *at(i))
		b.AppendRow(row)
		if b.Len == StreamBlock || i == n-1 {
			if err := w.Write(b); err != nil {
				return err
			}
			b.Reset()
		}
	}
	return nil
}

// lateBy is how many transactions a late one arrives after at most.
const lateBy = 20

// late draws from r whether transaction i of n arrives late (one in a
// hundred), and if so the index of the later one it swaps places with.
func late(r *rand.Rand, i, n int) (int, bool) {
	if r.IntN(100) != 0 {
		return 0, false
	}
	return min(n-1, i+1+r.IntN(lateBy)), true
}

// txWalk walks n transactions in time order: it holds the last one's
// time and card.
type txWalk struct {
	step int64 // the most time between two transactions of other cards
	ts   int64
	prev int
}

// burstMax is the most time between two transactions of a burst.
const burstMax = 30_000

// walk starts a walk of n transactions from the start. Steps spread the
// CardsDays days over the transactions, whatever n: about 78% of them
// are to another card (up to step, step/2 on average), 20% bursts of the
// same card (up to burstMax, or step when that is less) and 2% none.
func (g *cardsGen) walk(n int) *txWalk {
	span := int64(CardsDays) * 86_400_000
	step := (2*span/int64(n) - 20*burstMax/100) * 100 / 78
	if step < burstMax { // bursts as long as other steps: 98% of the steps spread the month
		step = 2 * span * 100 / (int64(n) * 98)
	}
	return &txWalk{step: max(1, step), ts: g.start}
}

// next draws transaction i, the walk's next.
func (g *cardsGen) next(w *txWalk, i int) tx {
	c := g.card(w.prev, i)
	switch {
	case i > 0 && g.r.IntN(50) == 0: // the same millisecond as the previous transaction
	case i > 0 && c == w.prev:
		w.ts += 1 + g.r.Int64N(min(burstMax, w.step)) // a burst: seconds later, or less in a busy month
	default:
		w.ts += 1 + g.r.Int64N(w.step)
	}
	w.prev = c
	return g.transaction(i, c, w.ts)
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

// tx is a transaction as drawn, before its values are made (drawing alone
// is cheap).
type tx struct {
	i, card  int
	ts       int64
	country  int     // countries[country], or homeCountry or noCountry
	normal   float64 // the standard normal draw the amount is made of
	noAmount bool
	merchant int  // MerchantName(merchant), or if unknown x%04d
	unknown  bool // not a known merchant
}

// A tx's country when it is not one of countries.
const (
	homeCountry = -1 // the card's home
	noCountry   = -2 // NULL
)

// transaction draws transaction i, of card c at ts.
func (g *cardsGen) transaction(i, c int, ts int64) tx {
	t := tx{i: i, card: c, ts: ts, country: homeCountry}
	switch g.r.IntN(100) {
	case 0, 1, 2:
		t.country = noCountry
	case 3, 4, 5, 6, 7, 8, 9, 10, 11, 12:
		t.country = g.r.IntN(len(countries))
	}
	t.normal = g.r.NormFloat64()
	t.noAmount = g.r.IntN(100) == 0
	t.merchant = g.r.IntN(g.nMerchant)
	if g.r.IntN(100) == 0 {
		t.unknown, t.merchant = true, g.r.IntN(100)
	}
	return t
}

// values appends t's row, a value per column of tx, to dst.
func (g *cardsGen) values(dst []types.Value, t tx) []types.Value {
	country := types.StringValue(g.home[t.card])
	switch t.country {
	case homeCountry:
	case noCountry:
		country = types.NullOf(types.String)
	default:
		country = types.StringValue(countries[t.country])
	}
	amount := types.DoubleValue(math.Round(math.Exp(t.normal*1.2+3)*100) / 100)
	if t.noAmount {
		amount = types.NullOf(types.Double)
	}
	merchant := MerchantName(t.merchant)
	if t.unknown {
		merchant = fmt.Sprintf("x%04d", t.merchant)
	}
	return append(dst, types.Int64Value(int64(t.i+1)), types.StringValue(CardName(t.card)), types.StringValue(merchant),
		country, amount, types.TimestampValue(t.ts))
}
