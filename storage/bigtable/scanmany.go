package bigtable

import (
	"context"
	"math"
	"slices"
	"strings"

	"cloud.google.com/go/bigtable"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
)

var _ eval.MultiSource = (*Store)(nil)

// ScanMany implements eval.MultiSource: what Scan returns for each query.
// Queries of one table that read whole keys of one index (Keys with an
// index on them and no TS: a LAST JOIN's lookups) are read together, in
// one ReadRows of a range per key; the others are Scans of their own.
func (s *Store) ScanMany(ctx context.Context, qs []eval.Query) ([]*types.Block, error) {
	out := make([]*types.Block, len(qs))
	type group struct {
		t       *table
		ord     int
		ix      *plan.Index
		queries []int
	}
	var groups []*group
	for i, q := range qs {
		t, err := s.table(ctx, q.Table)
		if err != nil {
			return nil, err
		}
		ord, ix, ixErr := storage.FindIndex(t.def, q.Keys, "")
		if q.TS != "" || len(q.Keys) == 0 || ixErr != nil {
			if out[i], err = s.Scan(ctx, q); err != nil {
				return nil, err
			}
			continue
		}
		k := slices.IndexFunc(groups, func(g *group) bool { return g.t == t && g.ord == ord })
		if k < 0 {
			k = len(groups)
			groups = append(groups, &group{t: t, ord: ord, ix: ix})
		}
		groups[k].queries = append(groups[k].queries, i)
	}
	for _, g := range groups {
		if err := s.readKeys(ctx, g.t, g.ord, g.ix, qs, g.queries, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// readKeys answers the queries (positions in qs) of whole keys of index
// ord of t with one ReadRows, a prefix range per distinct key, and stores
// each query's rows in out as Scan would return them: in arrival order.
func (s *Store) readKeys(ctx context.Context, t *table, ord int, ix *plan.Index, qs []eval.Query, queries []int, out []*types.Block) error {
	type key struct {
		prefix  string
		queries []int
		rows    *types.Block
		seqs    []uint64
	}
	var keys []*key
	for _, i := range queries {
		out[i] = types.NewBlock(t.def.Schema, 0)
		prefix, ok, err := t.keyPrefix(nil, ord, ix, qs[i].Keys, qs[i].Values)
		if err != nil {
			return err
		}
		if !ok {
			continue // no stored key can equal it: no rows
		}
		k := slices.IndexFunc(keys, func(k *key) bool { return k.prefix == string(prefix) })
		if k < 0 {
			k = len(keys)
			keys = append(keys, &key{prefix: string(prefix), rows: types.NewBlock(t.def.Schema, 8)})
		}
		keys[k].queries = append(keys[k].queries, i)
	}
	if len(keys) == 0 {
		return nil
	}
	slices.SortFunc(keys, func(a, b *key) int { return strings.Compare(a.prefix, b.prefix) })
	ranges := make(bigtable.RowRangeList, len(keys))
	for i, k := range keys {
		ranges[i] = bigtable.PrefixRange(k.prefix)
	}
	now := s.now()
	cur := -1 // the key whose rows are coming
	var sc scan
	var ks keyScan
	sc.t = t
	_, err := s.scan(ctx, &sc, t.families[ord], ranges, func(rowKey string, rows []stored) bool {
		if cur < 0 || !strings.HasPrefix(rowKey, keys[cur].prefix) {
			for cur++; cur < len(keys) && !strings.HasPrefix(rowKey, keys[cur].prefix); cur++ {
			}
			if cur == len(keys) {
				return false // a row of no key asked for: cannot happen
			}
			k := keys[cur]
			sc.out, sc.seqs = k.rows, &k.seqs
			ks = keyScan{sc: &sc, ix: ix, now: now, from: math.MinInt64, to: math.MaxInt64}
		}
		ks.add(rows) // a key's later rows expire; the next keys' rows still come
		return sc.err == nil
	})
	if err != nil {
		return err
	}
	for _, k := range keys {
		for _, i := range k.queries {
			out[i] = inArrivalOrder(k.rows, k.seqs, qs[i])
		}
	}
	return nil
}

// inArrivalOrder returns the rows of one key (newest first, with their
// sequence numbers) that match q's key values, in arrival order, as Scan
// returns a key's rows.
func inArrivalOrder(rows *types.Block, seqs []uint64, q eval.Query) *types.Block {
	var keep []int
	for i := 0; i < rows.Len; i++ {
		if matches(rows, i, q.Keys, q.Values) {
			keep = append(keep, i)
		}
	}
	slices.SortFunc(keep, func(a, b int) int { return compareSeq(seqs[a], seqs[b]) })
	return storage.FinishScan(rows.Gather(keep), q)
}
