package console

import (
	"context"
	"errors"
	"math"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
)

// A key's features as of one of its events are the view's answer to the
// event in request mode over the rows stored before it: the rows the
// event's own row in the training set sees. The console computes them
// with a Service (the same evaluator and the same compute path as the
// API) over beforeStore, a view of the store whose reads of the request
// table stop before the event the context names.

// cutoff is the event a read must stop before: rows of table whose TS
// column ts is later than at are left out, and at at, the event itself
// and the rows after it. Rows of one time come from the store in arrival
// order, so the event is found there by its values: the n-th row equal to
// it (0 the first), n being how many equal rows of that time come before
// it among the key's events. A read of rows at the event's time that does
// not hold the event (a read by another key) keeps them all.
type cutoff struct {
	table  string
	ts     int    // the TS column of the table
	tsName string // its name
	at     int64
	row    []types.Value
	n      int
}

type cutoffKey struct{}

// withCutoff returns ctx carrying c, for beforeStore.
func withCutoff(ctx context.Context, c *cutoff) context.Context {
	return context.WithValue(ctx, cutoffKey{}, c)
}

// errReadOnly is what beforeStore answers writes with: the console never
// writes.
var errReadOnly = errors.New("console: the console's store is read-only")

// beforeStore is a storage.Store whose Scans of the cutoff's table (the
// cutoff the context carries) return only the rows stored before the
// cutoff's event. It writes nothing.
type beforeStore struct{ storage.Store }

// Write implements storage.Store: it refuses.
func (beforeStore) Write(context.Context, string, *types.Block, []uint64) error { return errReadOnly }

// Scan implements eval.Source.
func (s beforeStore) Scan(ctx context.Context, q eval.Query) (*types.Block, error) {
	c, _ := ctx.Value(cutoffKey{}).(*cutoff)
	if c == nil || q.Table != c.table {
		return s.Store.Scan(ctx, q)
	}
	limit := q.Limit
	if q.TS == c.tsName && q.To > c.at {
		q.To = c.at
	}
	rows, err := s.Store.Scan(ctx, q)
	if err != nil {
		return nil, err
	}
	keep := c.before(rows)
	if len(keep) < rows.Len && limit > 0 && rows.Len >= limit {
		// The newest rows the limit kept were at or after the event:
		// read again without it, then keep the newest limit rows left.
		q.Limit = 0
		if rows, err = s.Store.Scan(ctx, q); err != nil {
			return nil, err
		}
		keep = c.before(rows)
		if len(keep) > limit {
			keep = keep[len(keep)-limit:]
		}
	}
	if len(keep) == rows.Len {
		return rows, nil
	}
	return rows.Gather(keep), nil
}

// before returns the positions of the rows that come before the event.
func (c *cutoff) before(rows *types.Block) []int {
	col := &rows.Cols[c.ts]
	ts := func(i int) int64 {
		if col.IsNull(i) {
			return math.MinInt64
		}
		return col.I[i]
	}
	keep := make([]int, 0, rows.Len)
	var at []int // the rows at the event's time, in arrival order
	seen := 0
	event := -1 // the event's place in at
	var row []types.Value
	for i := 0; i < rows.Len; i++ {
		switch t := ts(i); {
		case t < c.at:
			keep = append(keep, i)
		case t == c.at:
			if event < 0 {
				row = rows.Row(i, row)
				if identical(row, c.row) {
					if seen == c.n {
						event = len(at)
					}
					seen++
				}
			}
			at = append(at, i)
		}
	}
	if event >= 0 {
		at = at[:event]
	}
	// Rows at the event's time sort after the earlier ones in window
	// order; keep the store's order (by time) by merging back.
	return mergeSorted(keep, at)
}

// mergeSorted merges two ascending position lists.
func mergeSorted(a, b []int) []int {
	if len(b) == 0 {
		return a
	}
	out := make([]int, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		if j == len(b) || i < len(a) && a[i] < b[j] {
			out = append(out, a[i])
			i++
		} else {
			out = append(out, b[j])
			j++
		}
	}
	return out
}

// identical reports whether two rows hold the same values, NULLs equal.
func identical(a, b []types.Value) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !types.Identical(a[i], b[i]) {
			return false
		}
	}
	return true
}
