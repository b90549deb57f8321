package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/fenestra-dev/fenestra/examples"
	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// runUp runs the embedded example end to end: synthetic card transactions
// are turned into training features offline (batch mode) and served online
// (one request per transaction, against the rows stored before it), and
// the two are compared bit for bit.
func runUp(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("up", flag.ContinueOnError)
	fs.SetOutput(stderr)
	nTx := fs.Int("tx", 100_000, "number of synthetic transactions")
	nCards := fs.Int("cards", 2_000, "number of cards")
	days := fs.Int("days", 30, "days the transactions span")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: fenestra up [flags]\n\nRuns the embedded example (examples/cards/features.sql) on synthetic card\ntransactions: offline in batch mode, online one request per transaction, and\nchecks that both give identical features.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *nTx < 1 || *nCards < 1 || *days < 1 {
		fmt.Fprintln(stderr, "fenestra up: --tx, --cards and --days must be positive")
		return 2
	}
	if err := up(ctx, stdout, *nTx, *nCards, *days); err != nil {
		fmt.Fprintf(stderr, "fenestra up: %v\n", err)
		return 1
	}
	return 0
}

func up(ctx context.Context, w io.Writer, nTx, nCards, days int) error {
	src, err := examples.FS.ReadFile("cards/features.sql")
	if err != nil {
		return err
	}
	mod, err := featurelang.Compile("examples/cards/features.sql", string(src), featurelang.Options{})
	if err != nil {
		return err
	}
	view := mod.Views[0]
	ev, err := eval.New(view)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "view %s, plan %s\n", view.Name, plan.Version(view))
	tables := synthesize(mod.Tables, nTx, nCards, days)

	t0 := time.Now()
	offline, err := ev.Batch(ctx, tables)
	if err != nil {
		return fmt.Errorf("offline: %w", err)
	}
	batchTime := time.Since(t0)
	fmt.Fprintf(w, "offline (batch):   %d rows in %v (%.0f rows/s)\n", offline.Len, batchTime.Round(time.Millisecond), float64(nTx)/batchTime.Seconds())

	lat, same, err := online(ctx, ev, view, tables, offline)
	if err != nil {
		return fmt.Errorf("online: %w", err)
	}
	fmt.Fprintf(w, "online (request):  %d requests, p50 %v, p99 %v\n", len(lat), lat[len(lat)/2], lat[len(lat)*99/100])
	fmt.Fprintf(w, "online == offline: %d of %d rows identical\n", same, offline.Len)
	printSample(w, offline, 8)
	if same != offline.Len {
		return fmt.Errorf("%d rows differ between online and offline", offline.Len-same)
	}
	return nil
}

// online serves every transaction as a request against the rows stored
// before it, storing it afterwards, and compares with the offline rows.
func online(ctx context.Context, ev *eval.Evaluator, view *plan.Plan, tables map[string]*types.Block, offline *types.Block) ([]time.Duration, int, error) {
	store := eval.NewMemSource()
	for name, b := range tables {
		store.Create(name, b.Schema)
		if name != view.RequestTable {
			if err := store.Insert(name, b.Rows()...); err != nil {
				return nil, 0, err
			}
		}
	}
	reqs := tables[view.RequestTable]
	lat := make([]time.Duration, 0, reqs.Len)
	same := 0
	var row []types.Value
	for i := 0; i < reqs.Len; i++ {
		row = reqs.Row(i, row)
		t0 := time.Now()
		out, err := ev.Request(ctx, row, store)
		if err != nil {
			return nil, 0, err
		}
		lat = append(lat, time.Since(t0))
		if identicalRow(out, offline, i) {
			same++
		}
		if err := store.Insert(view.RequestTable, slices.Clone(row)); err != nil {
			return nil, 0, err
		}
	}
	slices.Sort(lat)
	return lat, same, nil
}

func identicalRow(row []types.Value, b *types.Block, i int) bool {
	for j := range b.Cols {
		if !types.Identical(row[j], b.Cols[j].Value(i)) {
			return false
		}
	}
	return true
}

// synthesize makes the example's tables: merchants with a category (some
// unknown), cards with a home country and a credit limit (some unknown),
// and transactions in time order, mostly at home, with log-normal amounts
// and bursts.
func synthesize(defs []*plan.Table, nTx, nCards, days int) map[string]*types.Block {
	r := rand.New(rand.NewPCG(7, 11))
	countries := []string{"FR", "DE", "US", "GB", "IT", "ES", "BR", "JP"}
	categories := []string{"grocery", "online", "travel", "fuel", "restaurant"}
	const nMerchants = 500
	start := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	tables := map[string]*types.Block{}
	for _, d := range defs {
		tables[d.Name] = types.NewBlock(d.Schema, 0)
	}
	for m := range nMerchants {
		category := types.StringValue(categories[r.IntN(len(categories))])
		if r.IntN(10) == 0 {
			category = types.NullOf(types.String)
		}
		tables["merchants"].AppendRow([]types.Value{types.StringValue(merchantName(m)), category})
	}
	home := make([]string, nCards)
	for c := range nCards {
		home[c] = countries[r.IntN(len(countries))]
		limit := types.DoubleValue(float64(500 * (1 + r.IntN(20))))
		if r.IntN(10) == 0 {
			limit = types.NullOf(types.Double)
		}
		tables["cards"].AppendRow([]types.Value{types.StringValue(cardName(c)), types.StringValue(home[c]), limit, types.TimestampValue(start)})
	}
	span := int64(days) * 86_400_000
	ts, prev := start, 0
	for i := range nTx {
		c := r.IntN(nCards)
		if i > 0 && r.IntN(5) == 0 { // a burst on the previous card
			c = prev
		}
		prev = c
		country := types.StringValue(home[c])
		switch r.IntN(20) {
		case 0, 1:
			country = types.StringValue(countries[r.IntN(len(countries))])
		case 2:
			country = types.NullOf(types.String)
		}
		amount := math.Round(math.Exp(r.NormFloat64()*1.2+3)*100) / 100
		ts += 1 + r.Int64N(2*span/int64(nTx))
		tables["tx"].AppendRow([]types.Value{types.Int64Value(int64(i + 1)), types.StringValue(cardName(c)),
			types.StringValue(merchantName(r.IntN(nMerchants))), country, types.DoubleValue(amount), types.TimestampValue(ts)})
	}
	return tables
}

func merchantName(m int) string { return fmt.Sprintf("m%04d", m) }

func cardName(c int) string { return fmt.Sprintf("c%05d", c) }

func printSample(w io.Writer, b *types.Block, n int) {
	fmt.Fprintln(w, "\nfirst features:")
	for j, f := range b.Schema {
		if j > 0 {
			fmt.Fprint(w, "  ")
		}
		fmt.Fprintf(w, "%14s", f.Name)
	}
	fmt.Fprintln(w)
	for i := 0; i < min(n, b.Len); i++ {
		for j := range b.Cols {
			if j > 0 {
				fmt.Fprint(w, "  ")
			}
			fmt.Fprintf(w, "%14s", b.Cols[j].Value(i).String())
		}
		fmt.Fprintln(w)
	}
}
