package hot

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
)

// ErrNoDump: Load was asked of a Store whose back store is not a
// storage.Dumper.
var ErrNoDump = errors.New("hot: the back store cannot dump tables")

// Options of a Store.
type Options struct {
	// Clock is the time TTLs are enforced against, as storage.Mem does
	// (nil: the wall clock).
	Clock storage.Clock
	// Keep is how long after its absolute TTL expired a row stays in
	// memory (see the package comment): 0 means an hour, a negative Keep
	// keeps every row.
	Keep time.Duration
}

// Store is a storage.Store that answers the reads of loaded tables from
// memory and sends everything else to its back store. See the package
// comment. Safe for concurrent use.
type Store struct {
	back storage.Store
	now  storage.Clock
	keep int64 // milliseconds; negative: never prune
	rows atomic.Int64

	mu     sync.Mutex // held to add a table
	tables atomic.Pointer[map[string]*table]
}

var _ storage.Store = (*Store)(nil)

// New returns a Store over back with no table in memory yet.
func New(back storage.Store, opts Options) *Store {
	s := &Store{back: back, now: opts.Clock, keep: opts.Keep.Milliseconds()}
	if s.now == nil {
		s.now = time.Now
	}
	switch {
	case opts.Keep == 0:
		s.keep = time.Hour.Milliseconds()
	case opts.Keep < 0:
		s.keep = -1
	}
	s.tables.Store(&map[string]*table{})
	return s
}

// lookup returns the table named name, or nil when it was never loaded or
// applied to.
func (s *Store) lookup(name string) *table {
	return (*s.tables.Load())[name]
}

// entry returns the table named name, adding it when missing.
func (s *Store) entry(name string) *table {
	if t := s.lookup(name); t != nil {
		return t
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := *s.tables.Load()
	if t := old[name]; t != nil {
		return t
	}
	t := &table{s: s, stamps: map[uint64]uint64{}}
	tables := make(map[string]*table, len(old)+1)
	for k, v := range old {
		tables[k] = v
	}
	tables[name] = t
	s.tables.Store(&tables)
	return t
}

// Load takes a table into memory: its definition (the back store's
// Describe) and every stored row with its sequence number, through the
// back store's storage.Dumper (ErrNoDump when it is none). Until a table
// is loaded, its reads go to the back store; loading it again is a no-op,
// and concurrent Loads of a table wait for each other. Of the copies of
// one sequence number Dump hands over, the one of the greatest stamp is
// kept (of equal stamps, the first). Rows applied or written before or
// during Load are kept: a copy Load reads never replaces one applied or
// written, and of those, the last one wins. A failed Load leaves the
// table unloaded, and may be retried. Rows applied before the table's
// definition was known are checked here: a block that does not fit the
// table fails Load, and is dropped.
func (s *Store) Load(ctx context.Context, table string) error {
	d, ok := s.back.(storage.Dumper)
	if !ok {
		return fmt.Errorf("%w: %T", ErrNoDump, s.back)
	}
	t := s.entry(table)
	t.loadMu.Lock()
	defer t.loadMu.Unlock()
	if t.isLoaded() {
		return nil
	}
	def, err := s.back.Describe(ctx, table)
	if err != nil {
		return err
	}
	if err := t.define(def); err != nil {
		return err
	}
	if err := d.Dump(ctx, table, t.load); err != nil {
		return fmt.Errorf("hot: loading %s: %w", table, err)
	}
	t.setLoaded()
	return nil
}

// Apply adds rows of a table (in its column order, seqs[i] the sequence
// number of row i) to memory only: rows the back store has, or will have,
// from another writer. A row with a sequence number memory holds replaces
// it, as in Write. Rows are checked with storage.CheckRows; before the
// table's definition is known (Load asks for it), they are kept as they
// are, and checked by Load (until then, memory holds them, however many).
// Apply does not keep rows or seqs.
func (s *Store) Apply(table string, rows *types.Block, seqs []uint64) error {
	return s.entry(table).apply(rows, seqs)
}

// Init implements storage.Store: the back store's Init. It loads nothing:
// a server calls Load for each table it serves, after Init, so that how
// long starting takes and what it holds in memory stay its choice.
func (s *Store) Init(ctx context.Context, tables []*plan.Table) error {
	return s.back.Init(ctx, tables)
}

// Describe implements storage.Store: the back store's Describe.
func (s *Store) Describe(ctx context.Context, table string) (*plan.Table, error) {
	return s.back.Describe(ctx, table)
}

// Write implements storage.Store: the back store's Write, then, when it
// succeeds and the table is in memory (loaded, being loaded, or applied
// to), Apply. Rows of a table not in memory are left to Load to read.
func (s *Store) Write(ctx context.Context, table string, rows *types.Block, seqs []uint64) error {
	if err := s.back.Write(ctx, table, rows, seqs); err != nil {
		return err
	}
	if t := s.lookup(table); t != nil {
		return t.apply(rows, seqs)
	}
	return nil
}

// Rows returns how many rows memory holds, a row counting once per index
// of its table that holds it (rows applied before their table's
// definition was known not counted).
func (s *Store) Rows() int { return int(s.rows.Load()) }
