package verify

import (
	"context"
	"encoding/binary"
	"sync"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage/bigtable"
)

// staticReads is a session's store that reads the static tables through
// a cache of its own. A table is static when the replay never writes it
// (it is loaded before the replay: every table but the request table) and
// no index expires its rows by age (an absolute TTL), so a read of it
// returns the same rows whatever the request's time: the first read of a
// query goes through the store, as served, and the later ones take its
// rows. Without it, every request would read again the profile and
// merchant rows its whole window joins. (One cache per session: a shared
// one costs more in lock traffic than the sessions' repeated first reads.
// A session evaluates rows in parallel, hence mu.)
type staticReads struct {
	*bigtable.Store
	tables staticTables
	mu     sync.Mutex
	blocks map[string]*types.Block
	buf    []byte // scratch of key, under mu
}

func newStaticReads(s *bigtable.Store, tables staticTables) *staticReads {
	return &staticReads{Store: s, tables: tables, blocks: map[string]*types.Block{}}
}

// staticTables are the names of the tables a replay reads through a cache.
type staticTables map[string]bool

// newStaticTables returns the static tables among tables, the view's
// request table aside (nil if none).
func newStaticTables(tables []*plan.Table, requestTable string) staticTables {
	st := staticTables{}
	for _, t := range tables {
		if t.Name != requestTable && !expiresByAge(t) {
			st[t.Name] = true
		}
	}
	if len(st) == 0 {
		return nil
	}
	return st
}

func expiresByAge(t *plan.Table) bool {
	for _, ix := range t.Indexes {
		if ix.TTLAbs > 0 {
			return true
		}
	}
	return false
}

// key encodes what identifies a query's rows into s.buf (s.mu held); AsOf
// is left out, as the tables cached have no TTL by age.
func (s *staticReads) key(q eval.Query) []byte {
	b := append(s.buf[:0], q.Table...)
	for _, k := range q.Keys {
		b = append(append(b, 0), k...)
	}
	b = append(b, 1)
	for _, v := range q.Values {
		b = eval.AppendKey(b, v)
	}
	b = append(append(b, 1), q.TS...)
	b = binary.AppendVarint(append(b, 1), q.From)
	b = binary.AppendVarint(b, q.To)
	b = binary.AppendVarint(b, int64(q.Limit))
	s.buf = b
	return b
}

// cached returns the cached rows of q, if any.
func (s *staticReads) cached(q eval.Query) (*types.Block, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.blocks[string(s.key(q))]
	return b, ok
}

func (s *staticReads) keep(q eval.Query, b *types.Block) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blocks[string(s.key(q))] = b
}

// Scan implements eval.Source.
func (s *staticReads) Scan(ctx context.Context, q eval.Query) (*types.Block, error) {
	if !s.tables[q.Table] {
		return s.Store.Scan(ctx, q)
	}
	if b, ok := s.cached(q); ok {
		return b, nil
	}
	b, err := s.Store.Scan(ctx, q)
	if err == nil {
		s.keep(q, b)
	}
	return b, err
}

// ScanMany implements eval.MultiSource: the queries not cached go to the
// store in one call.
func (s *staticReads) ScanMany(ctx context.Context, qs []eval.Query) ([]*types.Block, error) {
	out := make([]*types.Block, len(qs))
	var miss []int
	var mq []eval.Query
	for i, q := range qs {
		if s.tables[q.Table] {
			if b, ok := s.cached(q); ok {
				out[i] = b
				continue
			}
		}
		miss, mq = append(miss, i), append(mq, q)
	}
	if len(mq) == 0 {
		return out, nil
	}
	bs, err := s.Store.ScanMany(ctx, mq)
	if err != nil {
		return nil, err
	}
	for j, i := range miss {
		out[i] = bs[j]
		if s.tables[qs[i].Table] {
			s.keep(qs[i], bs[j])
		}
	}
	return out, nil
}
