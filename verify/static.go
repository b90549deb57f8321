package verify

import (
	"context"
	"strconv"
	"strings"
	"sync"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage/bigtable"
)

// staticReads is a session's store that reads the static tables through
// a cache the sessions share. A table is static when the replay never
// writes it (it is loaded before the replay: every table but the request
// table) and no index expires its rows by age (an absolute TTL), so a
// read of it returns the same rows whatever the request's time: the
// first read of a key goes through the store, as served, and the later
// ones of any session take its rows. Without it, every request would
// read again the profile and merchant rows its whole window joins.
type staticReads struct {
	*bigtable.Store
	cache *readCache
}

type readCache struct {
	tables map[string]bool
	mu     sync.RWMutex
	blocks map[string]*types.Block
}

// newReadCache returns the cache of view's static tables (nil if none).
func newReadCache(tables []*plan.Table, requestTable string) *readCache {
	c := &readCache{tables: map[string]bool{}, blocks: map[string]*types.Block{}}
	for _, t := range tables {
		if t.Name != requestTable && !expiresByAge(t) {
			c.tables[t.Name] = true
		}
	}
	if len(c.tables) == 0 {
		return nil
	}
	return c
}

func expiresByAge(t *plan.Table) bool {
	for _, ix := range t.Indexes {
		if ix.TTLAbs > 0 {
			return true
		}
	}
	return false
}

// key identifies a query's rows; AsOf is left out, as the tables cached
// have no TTL by age.
func (c *readCache) key(q eval.Query) string {
	var sb strings.Builder
	sb.WriteString(q.Table)
	for _, k := range q.Keys {
		sb.WriteByte(0)
		sb.WriteString(k)
	}
	sb.WriteByte(1)
	var enc []byte
	for _, v := range q.Values {
		enc = eval.AppendKey(enc, v)
	}
	sb.Write(enc)
	sb.WriteByte(1)
	sb.WriteString(q.TS)
	for _, n := range []int64{q.From, q.To, int64(q.Limit)} {
		sb.WriteByte(1)
		sb.WriteString(strconv.FormatInt(n, 36))
	}
	return sb.String()
}

func (c *readCache) get(k string) (*types.Block, bool) {
	c.mu.RLock()
	b, ok := c.blocks[k]
	c.mu.RUnlock()
	return b, ok
}

func (c *readCache) put(k string, b *types.Block) {
	c.mu.Lock()
	c.blocks[k] = b
	c.mu.Unlock()
}

// Scan implements eval.Source.
func (s staticReads) Scan(ctx context.Context, q eval.Query) (*types.Block, error) {
	if !s.cache.tables[q.Table] {
		return s.Store.Scan(ctx, q)
	}
	k := s.cache.key(q)
	if b, ok := s.cache.get(k); ok {
		return b, nil
	}
	b, err := s.Store.Scan(ctx, q)
	if err == nil {
		s.cache.put(k, b)
	}
	return b, err
}

// ScanMany implements eval.MultiSource: the queries not cached go to the
// store in one call.
func (s staticReads) ScanMany(ctx context.Context, qs []eval.Query) ([]*types.Block, error) {
	out := make([]*types.Block, len(qs))
	var miss []int
	var mq []eval.Query
	keys := make([]string, len(qs))
	for i, q := range qs {
		if !s.cache.tables[q.Table] {
			miss, mq = append(miss, i), append(mq, q)
			continue
		}
		keys[i] = s.cache.key(q)
		if b, ok := s.cache.get(keys[i]); ok {
			out[i] = b
			continue
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
		if keys[i] != "" {
			s.cache.put(keys[i], bs[j])
		}
	}
	return out, nil
}
