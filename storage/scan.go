package storage

import (
	"math"
	"slices"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// FinishScan applies to rows — rows of q.Table matching q.Keys, in
// arrival order — what q asks beyond the keys, as eval.Source defines it:
// with q.TS set, it keeps the rows with q.From <= TS <= q.To (a NULL TS
// counting as math.MinInt64, the value a window orders it by), orders them
// by TS, arrival order kept within a time, and keeps the newest q.Limit
// when q.Limit is positive. Without q.TS it returns rows unchanged. Stores
// use it for the scans no index on q.Keys and q.TS serves.
func FinishScan(rows *types.Block, q eval.Query) *types.Block {
	if q.TS == "" {
		return rows
	}
	c := rows.Schema.Index(q.TS)
	if c < 0 {
		return rows
	}
	col := &rows.Cols[c]
	ts := func(i int) int64 {
		if col.IsNull(i) {
			return math.MinInt64
		}
		return col.I[i]
	}
	var keep []int
	for i := 0; i < rows.Len; i++ {
		if t := ts(i); t >= q.From && t <= q.To {
			keep = append(keep, i)
		}
	}
	slices.SortStableFunc(keep, func(a, b int) int {
		switch ta, tb := ts(a), ts(b); {
		case ta < tb:
			return -1
		case ta > tb:
			return 1
		}
		return 0
	})
	if q.Limit > 0 && len(keep) > q.Limit {
		keep = keep[len(keep)-q.Limit:]
	}
	return rows.Gather(keep)
}
