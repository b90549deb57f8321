package hot

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
)

// maxPruneTTL bounds the absolute TTLs that prune, so that no bound
// computed from them overflows.
const maxPruneTTL = int64(1) << 50

// table is one table's memory.
type table struct {
	s      *Store
	loadMu sync.Mutex // held by Load

	mu  sync.RWMutex // guards what follows
	def *plan.Table  // nil until Load describes the table
	ixs []*index     // one per index of def
	// pending are the blocks applied before def was known, in order.
	pending []batch
	// stamps are, until the table is loaded (nil after), the stamps of
	// the copies held of each sequence number: those Dump handed over,
	// appliedStamp for those applied or written, which Load never
	// replaces.
	stamps map[uint64]uint64
	loaded bool
	// horizon is the latest now-Keep at which a row was pruned: reads of
	// an earlier time go to the back store.
	horizon int64
}

// appliedStamp is the stamp of a row applied or written: greater than
// any of a copy Load reads.
const appliedStamp = math.MaxUint64

// batch is a block of applied rows with their sequence numbers.
type batch struct {
	rows *types.Block
	seqs []uint64
}

// index is the memory of one index of a table.
type index struct {
	def     *plan.Index
	schema  types.Schema
	keyCols []int // the KEY columns, in def.Keys order
	tsCol   int   // the TS column; -1 when none
	// coarse says a KEY column is a timestamp: Mem groups a Scan's rows
	// by the second of such a key, not by its value.
	coarse bool
	// prunes says the absolute TTL expires a row whatever its rank.
	prunes bool
	runs   map[string]*run  // by encoded key
	byID   []*run           // by run.id; nil where a run was dropped
	free   []int32          // ids of dropped runs, for new ones
	bySeq  map[uint64]place // where each row is
}

// place is where a row of an index is: its key's run (its id, so that the
// map of a million rows holds no pointer for the collector to scan) and
// its TS value.
type place struct {
	run int32
	ts  int64
}

func (t *table) isLoaded() bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.loaded
}

func (t *table) setLoaded() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.loaded, t.stamps = true, nil
}

// serves reports whether memory answers a read of time at. The caller
// holds t.mu.
func (t *table) serves(at int64) bool { return t.loaded && at >= t.horizon }

// define sets the table's definition, builds its indexes and adds the
// pending blocks. A definition other than the one already set is
// storage.ErrSchema; pending blocks that do not fit it are dropped, and
// reported.
func (t *table) define(def *plan.Table) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.def != nil {
		if !sameDefinition(t.def, def) {
			return fmt.Errorf("%w: table %s changed in the back store to (%s)", storage.ErrSchema, def.Name, def.Schema)
		}
		return nil
	}
	ixs := make([]*index, len(def.Indexes))
	for i, ix := range def.Indexes {
		var err error
		if ixs[i], err = newIndex(def, ix); err != nil {
			return err
		}
	}
	t.def, t.ixs, t.horizon = def, ixs, math.MinInt64
	var errs []error
	for _, b := range t.pending {
		if err := storage.CheckRows(def, b.rows, b.seqs); err != nil {
			errs = append(errs, fmt.Errorf("rows applied before %s was loaded: %w", def.Name, err))
			continue
		}
		t.put(b.rows, b.seqs, nil)
	}
	t.pending = nil
	return errors.Join(errs...)
}

// sameDefinition compares schemas and indexes, as storage.Mem does.
func sameDefinition(a, b *plan.Table) bool {
	pa, _ := plan.Marshal(&plan.Plan{Tables: []*plan.Table{a}})
	pb, _ := plan.Marshal(&plan.Plan{Tables: []*plan.Table{b}})
	return string(pa) == string(pb)
}

func newIndex(def *plan.Table, ix *plan.Index) (*index, error) {
	x := &index{def: ix, schema: def.Schema, tsCol: def.Schema.Index(ix.TS),
		runs: map[string]*run{}, bySeq: map[uint64]place{}}
	x.prunes = ix.TTLAbs > 0 && ix.TTLAbs <= maxPruneTTL && ix.TTLType != "absorlat"
	for _, k := range ix.Keys {
		c := def.Schema.Index(k)
		if c < 0 {
			return nil, fmt.Errorf("%w: index KEY %q is not a column of %s", storage.ErrSchema, k, def.Name)
		}
		x.keyCols = append(x.keyCols, c)
		x.coarse = x.coarse || def.Schema[c].Type == types.Timestamp
	}
	return x, nil
}

// apply adds applied (or written) rows.
func (t *table) apply(rows *types.Block, seqs []uint64) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.def == nil {
		if len(seqs) != rows.Len {
			return fmt.Errorf("hot: %d rows but %d sequence numbers", rows.Len, len(seqs))
		}
		t.pending = append(t.pending, batch{types.Concat(rows), slices.Clone(seqs)})
		return nil
	}
	if err := storage.CheckRows(t.def, rows, seqs); err != nil {
		return err
	}
	t.put(rows, seqs, nil)
	return nil
}

// load adds a block Dump handed over: a row whose sequence number memory
// holds with as great a stamp (or applied) is skipped.
func (t *table) load(rows *types.Block, seqs, stamps []uint64) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := storage.CheckRows(t.def, rows, seqs); err != nil {
		return err
	}
	if len(stamps) != rows.Len {
		return fmt.Errorf("hot: %d rows but %d stamps", rows.Len, len(stamps))
	}
	t.put(rows, seqs, stamps)
	return nil
}

// put adds rows to every index, pruning as it goes: rows Dump handed over
// with their stamps, or, when stamps is nil, rows applied or written. The
// caller holds t.mu.
func (t *table) put(rows *types.Block, seqs, stamps []uint64) {
	now := t.s.now().UnixMilli()
	cuts := make([]int64, len(t.ixs))
	for i, ix := range t.ixs {
		cuts[i] = ix.cut(now, t.s.keep)
	}
	var buf [64]byte
	delta, pruned := 0, false
	for i, seq := range seqs {
		if t.stamps != nil {
			stamp := uint64(appliedStamp)
			if stamps != nil {
				stamp = stamps[i]
				if held, ok := t.stamps[seq]; ok && held >= stamp {
					continue
				}
			}
			t.stamps[seq] = stamp
		}
		for x, ix := range t.ixs {
			d, p := ix.put(rows, i, seq, cuts[x], buf[:0])
			delta, pruned = delta+d, pruned || p
		}
	}
	t.s.rows.Add(int64(delta))
	if pruned {
		t.horizon = max(t.horizon, now-t.s.keep)
	}
}

// cut returns the TS values below which the index prunes rows at now:
// those whose absolute TTL expired more than keep ago.
func (ix *index) cut(now, keep int64) int64 {
	if !ix.prunes || keep < 0 {
		return math.MinInt64
	}
	return now - keep - ix.def.TTLAbs
}

// put adds row i of rows, of sequence number seq, replacing the row of
// that sequence number, then drops the rows of its key with a TS below
// cut. It returns the change in the number of rows held and whether it
// dropped a row. buf is scratch space for the key.
func (ix *index) put(rows *types.Block, i int, seq uint64, cut int64, buf []byte) (delta int, pruned bool) {
	ts := orderValue(rows, ix.tsCol, i)
	key := ix.rowKey(buf, rows, i)
	old, had := ix.bySeq[seq]
	if had && old.ts == ts && ix.byID[old.run].key == string(key) {
		r := ix.byID[old.run]
		r.set(r.search(ts, seq), rows, i)
		return 0, false
	}
	if had {
		ix.remove(old, seq)
		delta--
	}
	if ts < cut {
		return delta, true
	}
	r := ix.runs[string(key)]
	if r == nil {
		r = ix.newRun(string(key))
	}
	r.insert(rows, i, ts, seq)
	ix.bySeq[seq] = place{r.id, ts}
	n := ix.prune(r, cut)
	return delta + 1 - n, n > 0
}

// newRun adds an empty run for key.
func (ix *index) newRun(key string) *run {
	r := newRun(key, ix.schema)
	if n := len(ix.free); n > 0 {
		r.id, ix.free = ix.free[n-1], ix.free[:n-1]
		ix.byID[r.id] = r
	} else {
		r.id = int32(len(ix.byID))
		ix.byID = append(ix.byID, r)
	}
	ix.runs[key] = r
	return r
}

// drop forgets an empty run.
func (ix *index) drop(r *run) {
	delete(ix.runs, r.key)
	ix.byID[r.id] = nil
	ix.free = append(ix.free, r.id)
}

// remove deletes the row of sequence number seq, at p.
func (ix *index) remove(p place, seq uint64) {
	r := ix.byID[p.run]
	r.remove(r.search(p.ts, seq))
	delete(ix.bySeq, seq)
	if r.len() == 0 {
		ix.drop(r)
	}
}

// prune drops the rows of r with a TS below cut and returns how many.
func (ix *index) prune(r *run, cut int64) int {
	if r.len() == 0 || r.ts[0] >= cut {
		return 0
	}
	n, _ := slices.BinarySearch(r.ts, cut)
	for _, seq := range r.seqs[:n] {
		delete(ix.bySeq, seq)
	}
	r.dropFirst(n)
	if r.len() == 0 {
		ix.drop(r)
	}
	return n
}

// orderValue is row i's TS, NULL (and no TS column) as math.MinInt64, as
// windows order them.
func orderValue(b *types.Block, col, i int) int64 {
	if col < 0 || b.Cols[col].IsNull(i) {
		return math.MinInt64
	}
	return b.Cols[col].I[i]
}
