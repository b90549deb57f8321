// Package examples holds the example feature files, embedded so that
// `fenestra up` runs on a fresh machine with nothing but the binary, and a
// deterministic data generator for each (`fenestra gen`).
package examples

import (
	"embed"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// FS holds the examples: cards/features.sql is the README example.
//
//go:embed cards/features.sql
var FS embed.FS

// Example is an example: its feature file and its data generator.
type Example struct {
	// Name names the example (fenestra up --example NAME).
	Name string
	// Path is the feature file's path in FS; SQL its text.
	Path, SQL string
	// Module is the compiled feature file.
	Module *featurelang.Module
	// View is the view the example serves and backfills, and Key the
	// column a request's key is in.
	View, Key string
	// Days is the span of the generated data.
	Days int

	generate func(tables map[string]*plan.Table, cfg Config) map[string]*types.Block
	// stream, if not nil, is what Stream does (without checking cfg);
	// otherwise Stream writes generate's tables.
	stream func(tables map[string]*plan.Table, cfg Config, create CreateFunc) error
}

// Config shapes generated data.
type Config struct {
	// Rows is the number of rows of the example's main (request) table.
	Rows int
	// Seed selects the data: the same Config always gives the same rows.
	Seed uint64
	// Start is when the data starts (the cards: 30 days of transactions
	// from Start). Online stores expire rows by TTL against the wall
	// clock, so data to serve now should end about now.
	Start time.Time
}

// DefaultStart returns a Start for data of days days that ends with
// today (UTC): midnight, days-1 days before today. Rows are then younger
// than days days for the rest of the day, so an online store whose TTL is
// that long holds them all.
func DefaultStart(now time.Time, days int) time.Time {
	y, m, d := now.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1-days)
}

// Generate returns the example's tables, by name, for cfg: the same cfg
// always gives the same rows, in the same (arrival) order.
func (e *Example) Generate(cfg Config) (map[string]*types.Block, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	return e.generate(e.tables(), cfg), nil
}

// TableWriter takes a table's rows, a block at a time, as
// datafile.BlockWriter does. Write must be done with the block when it
// returns (Stream reuses it); Close ends the table.
type TableWriter interface {
	Write(b *types.Block) error
	Close() error
}

// CreateFunc returns the writer of table t's rows.
type CreateFunc func(t *plan.Table) (TableWriter, error)

// StreamBlock is the most rows Stream hands a writer of a large table at
// once: a multiple of the 1024 rows a Parquet writer encodes at a time and
// a divisor of the 128K rows of its row groups, so that a Parquet file
// written block by block is the bytes of one written whole.
const StreamBlock = 4096

// Stream writes the tables Generate returns for cfg, the same rows in the
// same order, to writers from create: one table at a time, in an order of
// the example's, each writer closed (even after an error) before the next
// table's is created. Examples that generate a table in a stream (the
// cards: the transactions) write it in blocks of at most StreamBlock
// rows, so that their memory is bounded whatever cfg.Rows; the others
// generate every table in memory first. Stream returns the first error of
// create or of a writer.
func (e *Example) Stream(cfg Config, create CreateFunc) error {
	if err := cfg.check(); err != nil {
		return err
	}
	if e.stream != nil {
		return e.stream(e.tables(), cfg, create)
	}
	out := e.generate(e.tables(), cfg)
	for _, t := range e.Module.Tables {
		if err := writeTable(create, t, out[t.Name]); err != nil {
			return err
		}
	}
	return nil
}

// writeTable writes table t's rows b, whole, to a writer from create.
func writeTable(create CreateFunc, t *plan.Table, b *types.Block) error {
	w, err := create(t)
	if err != nil {
		return err
	}
	err = w.Write(b)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return err
}

// check checks that cfg can be generated.
func (cfg Config) check() error {
	if cfg.Rows < 1 {
		return fmt.Errorf("examples: %d rows: want at least 1", cfg.Rows)
	}
	if cfg.Start.IsZero() {
		return fmt.Errorf("examples: no start time")
	}
	return nil
}

// tables returns the example's tables by name.
func (e *Example) tables() map[string]*plan.Table {
	tables := map[string]*plan.Table{}
	for _, t := range e.Module.Tables {
		tables[t.Name] = t
	}
	return tables
}

// Names returns the examples' names, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for _, e := range registry {
		names = append(names, e.Name)
	}
	slices.Sort(names)
	return names
}

// Lookup returns the example named name, compiled.
func Lookup(name string) (*Example, error) {
	i := slices.IndexFunc(registry, func(e Example) bool { return e.Name == name })
	if i < 0 {
		return nil, fmt.Errorf("examples: no example %q (there is %s)", name, strings.Join(Names(), ", "))
	}
	e := registry[i]
	text, err := FS.ReadFile(e.Path)
	if err != nil {
		return nil, err
	}
	e.SQL = string(text)
	if e.Module, err = featurelang.Compile("examples/"+e.Path, e.SQL, featurelang.Options{}); err != nil {
		return nil, err
	}
	return &e, nil
}

var registry = []Example{
	{Name: "cards", Path: "cards/features.sql", View: "card_features", Key: "card", Days: CardsDays, generate: generateCards, stream: streamCards},
}
