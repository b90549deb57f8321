package hot

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
)

// Read implements storage.Store: the rows of one key of an index in a time
// range, as storage.Mem returns them. Memory answers when the table is
// loaded and the read's time is not before its horizon (see the package
// comment); else the back store does.
func (s *Store) Read(ctx context.Context, r storage.Range) (*types.Block, error) {
	t := s.lookup(r.Table)
	if t == nil {
		return s.back.Read(ctx, r)
	}
	at := storage.At(s.now, r.AsOf)
	t.mu.RLock()
	if !t.serves(at.UnixMilli()) {
		t.mu.RUnlock()
		return s.back.Read(ctx, r)
	}
	b, m, err := t.read(ctx, r, at)
	t.mu.RUnlock()
	switch {
	case err != nil:
		return nil, err
	case m != nil:
		return m.Read(ctx, r)
	}
	return b, ctx.Err()
}

// Scan implements eval.Source, as storage.Mem does: with TS set and an
// index on the keys and TS, it is Read; otherwise the live rows of the key
// (or of the whole table) under the index on the keys, or else the
// table's first index, in arrival order, then storage.FinishScan. Memory
// answers when Read's would.
func (s *Store) Scan(ctx context.Context, q eval.Query) (*types.Block, error) {
	t := s.lookup(q.Table)
	if t == nil {
		return s.back.Scan(ctx, q)
	}
	at := storage.At(s.now, q.AsOf)
	t.mu.RLock()
	if !t.serves(at.UnixMilli()) {
		t.mu.RUnlock()
		return s.back.Scan(ctx, q)
	}
	b, m, err := t.scan(ctx, q, at)
	t.mu.RUnlock()
	switch {
	case err != nil:
		return nil, err
	case m != nil:
		return m.Scan(ctx, q)
	}
	return b, ctx.Err()
}

// read answers r at now from memory, or returns a storage.Mem holding the
// rows that answer it. The caller holds t.mu.
func (t *table) read(ctx context.Context, r storage.Range, now time.Time) (*types.Block, *storage.Mem, error) {
	pos, _, err := storage.FindIndex(t.def, r.Keys, r.TS)
	if err != nil {
		return nil, nil, err
	}
	ix := t.ixs[pos]
	run, ok, err := ix.find(r.Keys, r.Values)
	switch {
	case err != nil:
		return nil, nil, err
	case !ok:
		m, err := t.mem(ctx, pos)
		return nil, m, err
	case run == nil:
		return types.NewBlock(t.def.Schema, 0), nil, nil
	}
	lo, hi := run.window(ix, now, r.From, r.To, r.Limit)
	return run.copyRange(lo, hi, r.NewestFirst), nil, nil
}

// scan answers q at now from memory, or returns a storage.Mem holding the
// rows that answer it. The caller holds t.mu.
func (t *table) scan(ctx context.Context, q eval.Query, now time.Time) (*types.Block, *storage.Mem, error) {
	pos, _, err := storage.FindIndex(t.def, q.Keys, q.TS)
	switch {
	case err == nil && q.TS != "" && len(q.Keys) > 0:
		return t.read(ctx, storage.Range{Table: q.Table, Keys: q.Keys, Values: q.Values, TS: q.TS, From: q.From, To: q.To, Limit: q.Limit, AsOf: q.AsOf}, now)
	case err == nil && len(q.Keys) > 0 && !t.ixs[pos].coarse:
		return t.keyRows(ctx, pos, q, now)
	case err != nil:
		pos = min(0, len(t.ixs)-1) // Mem's fallback: the first index, if any
	}
	m, err := t.mem(ctx, pos)
	return nil, m, err
}

// keyRows answers a Scan of one key of index pos, without TS: the key's
// live rows in sequence order. The caller holds t.mu.
func (t *table) keyRows(ctx context.Context, pos int, q eval.Query, now time.Time) (*types.Block, *storage.Mem, error) {
	ix := t.ixs[pos]
	run, ok, err := ix.find(q.Keys, q.Values)
	switch {
	case err != nil:
		return nil, nil, err
	case !ok:
		m, err := t.mem(ctx, pos)
		return nil, m, err
	case run == nil:
		return types.NewBlock(t.def.Schema, 0), nil, nil
	}
	idx := make([]int, 0, run.len())
	for p := run.liveFrom(ix, now); p < run.len(); p++ {
		idx = append(idx, p)
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(run.seqs[a], run.seqs[b]) })
	return storage.FinishScan(run.rows.Gather(idx), q), nil, nil
}

// mem returns a storage.Mem holding the table's rows that index pos holds
// (none when pos is negative), to answer a read as Mem does. The caller
// holds t.mu.
func (t *table) mem(ctx context.Context, pos int) (*storage.Mem, error) {
	m := storage.NewMem(t.s.now)
	if err := m.Init(ctx, []*plan.Table{t.def}); err != nil {
		return nil, err
	}
	if pos < 0 {
		return m, nil
	}
	for _, r := range t.ixs[pos].runs {
		if err := m.Write(ctx, t.def.Name, r.rows, r.seqs); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// find returns the run of the key the values of keys (the index's KEY
// columns, in any order) name: nil when memory holds no row of it. ok is
// false when the encoding cannot find it (a value of another type than its
// column, which types.Compare may find equal to several; a column named
// twice): Mem must answer.
func (ix *index) find(keys []string, values []types.Value) (r *run, ok bool, err error) {
	if len(values) < len(keys) {
		return nil, false, fmt.Errorf("hot: %d key values for %d keys", len(values), len(keys))
	}
	if len(keys) > 64 {
		return nil, false, nil
	}
	var arr [64]byte
	buf := arr[:0]
	var used uint64
	for j, name := range ix.def.Keys {
		p := j
		if p >= len(keys) || keys[p] != name {
			if p = slices.IndexFunc(keys, func(k string) bool { return strings.EqualFold(k, name) }); p < 0 {
				return nil, false, nil
			}
		}
		v := values[p]
		if used&(1<<p) != 0 || !v.Null && v.Type != ix.schema[ix.keyCols[j]].Type {
			return nil, false, nil
		}
		used |= 1 << p
		buf = appendKey(buf, v)
	}
	return ix.runs[string(buf)], true, nil
}
