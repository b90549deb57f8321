package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage/bigtable"
)

// historySpan is how far back the history goes.
const historySpan = 10 * 24 * time.Hour

func runSetup(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("setup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sql := fs.String("sql", "", "the feature file whose tables to create; the history goes to its first table")
	keys := fs.Int("keys", 10_000, "number of cards")
	history := fs.Int("history", 100, "rows per card")
	instance := fs.String("bigtable", "", "the Bigtable PROJECT/INSTANCE (default local/local when BIGTABLE_EMULATOR_HOST is set)")
	prefix := fs.String("prefix", bigtable.DefaultPrefix, "prefix of the Bigtable table names")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *sql == "" || *keys < 1 || *history < 1 || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	project, inst, err := bigtable.ParseInstance(*instance)
	if err != nil {
		fmt.Fprintf(stderr, "fenestra-load setup: %v\n", err)
		return 2
	}
	if err := setup(ctx, *sql, bigtable.Config{Project: project, Instance: inst, Prefix: *prefix, Timeout: time.Minute}, *keys, *history, stdout); err != nil {
		fmt.Fprintf(stderr, "fenestra-load setup: %v\n", err)
		return 1
	}
	return 0
}

// setup creates the tables and writes the history, in blocks of rows.
func setup(ctx context.Context, path string, cfg bigtable.Config, keys, history int, stdout io.Writer) error {
	text, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	mod, err := featurelang.Compile(path, string(text), featurelang.Options{})
	if err != nil {
		return err
	}
	if len(mod.Tables) == 0 {
		return fmt.Errorf("%s has no CREATE TABLE", path)
	}
	s, err := bigtable.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.Init(ctx, mod.Tables); err != nil {
		return err
	}
	t := mod.Tables[0]
	gen, err := newRowGen(t, time.Now())
	if err != nil {
		return err
	}
	start, total := time.Now(), keys*history
	const block = 100_000
	b := types.NewBlock(t.Schema, block)
	seqs := make([]uint64, 0, block)
	for i := 0; i < total; i++ {
		// Rows go out time by time, all cards at each step: seq i+1, as
		// the lines of a file.
		step, card := i/keys, i%keys
		b.AppendRow(gen.row(int64(i+1), card, gen.end.Add(-historySpan+time.Duration(step)*historySpan/time.Duration(history))))
		seqs = append(seqs, uint64(i+1))
		if b.Len == block || i == total-1 {
			if err := s.Write(ctx, t.Name, b, seqs); err != nil {
				return err
			}
			b.Reset()
			seqs = seqs[:0]
		}
	}
	fmt.Fprintf(stdout, "wrote %d rows of %s (%d cards × %d) to Bigtable table %s in %v\n", total, t.Name, keys, history, s.TableName(t.Name), time.Since(start).Round(time.Millisecond))
	return nil
}

// rowGen makes rows of a table shaped like tx: an integer id, a string
// card, a double amount and a timestamp; other columns are NULL.
type rowGen struct {
	schema               types.Schema
	id, card, amount, ts int // column positions, -1 when absent
	end                  time.Time
	rnd                  *rand.Rand
}

func newRowGen(t *plan.Table, end time.Time) (*rowGen, error) {
	g := &rowGen{schema: t.Schema, id: -1, card: -1, amount: -1, ts: -1, end: end, rnd: rand.New(rand.NewPCG(1, 2))}
	for i, f := range t.Schema {
		switch {
		case f.Type == types.Int64 && g.id < 0:
			g.id = i
		case f.Type == types.String && g.card < 0:
			g.card = i
		case f.Type == types.Double && g.amount < 0:
			g.amount = i
		case f.Type == types.Timestamp && g.ts < 0:
			g.ts = i
		}
	}
	if g.card < 0 || g.ts < 0 {
		return nil, fmt.Errorf("table %s needs a string column (the key) and a timestamp column", t.Name)
	}
	return g, nil
}

func cardName(k int) string { return fmt.Sprintf("card%05d", k) }

// row returns a row for card k at time at.
func (g *rowGen) row(id int64, k int, at time.Time) []types.Value {
	row := make([]types.Value, len(g.schema))
	for i, f := range g.schema {
		row[i] = types.NullOf(f.Type)
	}
	if g.id >= 0 {
		row[g.id] = types.Int64Value(id)
	}
	row[g.card] = types.StringValue(cardName(k))
	if g.amount >= 0 {
		row[g.amount] = types.DoubleValue(float64(g.rnd.IntN(50_000)) / 100)
	}
	row[g.ts] = types.TimestampValue(at.UnixMilli())
	return row
}
