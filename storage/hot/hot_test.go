package hot_test

import (
	"context"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
	"github.com/fenestra-dev/fenestra/storage/hot"
	"github.com/fenestra-dev/fenestra/storage/storagetest"
)

// dumpMem is a storage.Mem whose Dump (storage.Dumper) can be steered:
// it hands over the rows in blocks of block seqs, in sequence order, each
// as it is when its block is formed, or with snapshot, when Dump starts;
// with copies, every copy ever written of a row, with its Write's stamp:
// the older copies of an even sequence number before its latest, those of
// an odd one in blocks at the end. between, when set, runs after each
// block; fail, when set, is returned after the first block, once. A block
// of 0 is storage.Mem's own Dump. It counts the reads asked of it.
type dumpMem struct {
	*storage.Mem
	block    int
	snapshot bool
	copies   bool
	between  func()
	fail     error
	dumps    atomic.Int64 // Dump calls
	reads    atomic.Int64 // Read and Scan calls

	mu     sync.Mutex
	rows   map[string]map[uint64][]rowCopy // by table and sequence number, oldest first
	writes uint64
}

// rowCopy is a row as a Write wrote it, with the Write's stamp.
type rowCopy struct {
	row   []types.Value
	stamp uint64
}

var _ storage.Dumper = (*dumpMem)(nil)

func newDumpMem(clock storage.Clock, block int) *dumpMem {
	return &dumpMem{Mem: storage.NewMem(clock), block: block, rows: map[string]map[uint64][]rowCopy{}}
}

// Write implements storage.Store, recording the rows.
func (d *dumpMem) Write(ctx context.Context, table string, rows *types.Block, seqs []uint64) error {
	if err := d.Mem.Write(ctx, table, rows, seqs); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.rows[table] == nil {
		d.rows[table] = map[uint64][]rowCopy{}
	}
	d.writes++
	for i, seq := range seqs {
		d.rows[table][seq] = append(d.rows[table][seq], rowCopy{rows.Row(i, nil), d.writes})
	}
	return nil
}

// Read implements storage.Store, counting.
func (d *dumpMem) Read(ctx context.Context, r storage.Range) (*types.Block, error) {
	d.reads.Add(1)
	return d.Mem.Read(ctx, r)
}

// Scan implements eval.Source, counting.
func (d *dumpMem) Scan(ctx context.Context, q eval.Query) (*types.Block, error) {
	d.reads.Add(1)
	return d.Mem.Scan(ctx, q)
}

// Dump implements storage.Dumper.
func (d *dumpMem) Dump(ctx context.Context, table string, f func(rows *types.Block, seqs, stamps []uint64) error) error {
	d.dumps.Add(1)
	if d.block == 0 {
		return d.Mem.Dump(ctx, table, f)
	}
	def, err := d.Describe(ctx, table)
	if err != nil {
		return err
	}
	d.mu.Lock()
	rows := d.rows[table]
	if d.snapshot {
		rows = maps.Clone(rows)
	}
	seqs := slices.Sorted(maps.Keys(rows))
	d.mu.Unlock()
	var tail []rowCopy
	var tailSeqs []uint64
	for len(seqs) > 0 || len(tail) > 0 {
		b, bseqs, stamps := types.NewBlock(def.Schema, 0), []uint64{}, []uint64{}
		add := func(seq uint64, c rowCopy) {
			b.AppendRow(c.row)
			bseqs, stamps = append(bseqs, seq), append(stamps, c.stamp)
		}
		if len(seqs) == 0 { // the tail, a block at a time
			n := min(d.block, len(tail))
			for i := range n {
				add(tailSeqs[i], tail[i])
			}
			tail, tailSeqs = tail[n:], tailSeqs[n:]
		}
		n := min(d.block, len(seqs))
		d.mu.Lock()
		for _, seq := range seqs[:n] {
			all := rows[seq]
			for _, c := range all[:len(all)-1] {
				switch {
				case !d.copies:
				case seq%2 == 0:
					add(seq, c)
				default:
					tail, tailSeqs = append(tail, c), append(tailSeqs, seq)
				}
			}
			add(seq, all[len(all)-1])
		}
		d.mu.Unlock()
		seqs = seqs[n:]
		if err := f(b, bseqs, stamps); err != nil {
			return err
		}
		if err := d.fail; err != nil {
			d.fail = nil
			return err
		}
		if d.between != nil {
			d.between()
		}
	}
	return ctx.Err()
}

// caseStore is the store the data-driven cases run on: a hot.Store over
// a dumpMem that loads every table Init creates. The runner has no notion
// of a store without tiles or deployments, and hot.Store keeps only rows:
// their commands go to the dumpMem, whose rows hot.Store wrote.
type caseStore struct {
	*hot.Store
	back *dumpMem
}

var (
	_ storage.TileStore       = (*caseStore)(nil)
	_ storage.DeploymentStore = (*caseStore)(nil)
)

// Init initialises the tables, then loads them.
func (c *caseStore) Init(ctx context.Context, tables []*plan.Table) error {
	if err := c.Store.Init(ctx, tables); err != nil {
		return err
	}
	for _, t := range tables {
		if err := c.Load(ctx, t.Name); err != nil {
			return err
		}
	}
	return nil
}

func (c *caseStore) WriteTiles(ctx context.Context, table string, tiles []storage.Tile) error {
	return c.back.WriteTiles(ctx, table, tiles)
}

func (c *caseStore) ReadTiles(ctx context.Context, r storage.TileRange) ([]storage.Tile, error) {
	return c.back.ReadTiles(ctx, r)
}

func (c *caseStore) ReadBuckets(ctx context.Context, r storage.TileRange) ([]storage.Bucket, error) {
	return c.back.ReadBuckets(ctx, r)
}

func (c *caseStore) PutDeployment(ctx context.Context, d storage.Deployment) error {
	return c.back.PutDeployment(ctx, d)
}

func (c *caseStore) Deployment(ctx context.Context, db, name string) (*storage.Deployment, error) {
	return c.back.Deployment(ctx, db, name)
}

func (c *caseStore) Deployments(ctx context.Context) ([]storage.Deployment, error) {
	return c.back.Deployments(ctx)
}

func (c *caseStore) DropDeployment(ctx context.Context, db, name string) error {
	return c.back.DropDeployment(ctx, db, name)
}

// TestStorageCases runs the data-driven storage cases, whose expected
// results storage.Mem produced, with every table loaded: every read is
// answered from memory.
func TestStorageCases(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, "../testdata/*.txt", func(t *testing.T, clock storage.Clock) storage.Store {
		back := newDumpMem(clock, 2)
		back.copies = true
		s := &caseStore{Store: hot.New(back, hot.Options{Clock: clock}), back: back}
		t.Cleanup(func() {
			if err := s.Check(); err != nil {
				t.Error(err)
			}
			if n := back.reads.Load(); n != 0 {
				t.Errorf("%d reads went to the back store; every table is loaded", n)
			}
		})
		return s
	})
}
