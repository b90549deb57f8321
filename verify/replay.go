// Package verify checks that a view's online answers equal its training
// set: it replays a table's rows as requests through the online path, in
// time order, each stored after its answer (OpenMLDB's request, then
// insert), and compares every answer with the backfill's row for it. The
// online path is the functions core in process, over a Bigtable emulator
// of its own (InProcess), or a running feature function over HTTP (HTTP).
package verify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/fenestra-dev/fenestra/dataflow/bucket"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// Online is the online path of one view.
type Online interface {
	// Load stores rows of a table other than the requests', with their
	// arrival sequence numbers, before the replay.
	Load(ctx context.Context, table string, rows *types.Block, seqs []uint64) error
	// Session returns a session for one replay worker.
	Session(ctx context.Context) (Session, error)
}

// Session answers requests, in the order given.
type Session interface {
	// Compute answers the request rows of rows (rows of the view's request
	// table, in replay order), row i as of time nows[i] (its TTL clock,
	// epoch milliseconds), each stored after its answer, so that a later
	// row sees the earlier ones: OpenMLDB's request, then insert, row
	// after row. It returns an answer per row, nil for a row the view
	// filters out.
	Compute(ctx context.Context, rows *types.Block, nows []int64) ([][]types.Value, error)
	Close() error
}

// Table is a table's rows in arrival order, with their sequence numbers.
type Table struct {
	Rows *types.Block
	Seqs []uint64
}

// Replay loads the tables other than view's request table into online,
// then sends every row of the request table, in time order (arrival order
// within a time), and returns the answers in the request table's arrival
// order. When the view's rows split by key (dataflow/bucket), the keys
// are split into parts by hash, which workers sessions replay at once,
// each key's requests in order; else one session sends them all. A session gets up to batch consecutive requests
// in one call (Session.Compute). done counts the requests answered.
func Replay(ctx context.Context, online Online, view *plan.Plan, tables map[string]*Table, workers, batch int, done *atomic.Int64) ([][]types.Value, error) {
	req := tables[view.RequestTable]
	if req == nil {
		return nil, fmt.Errorf("verify: no rows of the request table %s", view.RequestTable)
	}
	for _, t := range view.Tables {
		if tb := tables[t.Name]; t.Name != view.RequestTable && tb != nil && tb.Rows.Len > 0 {
			if err := online.Load(ctx, t.Name, tb.Rows, tb.Seqs); err != nil {
				return nil, fmt.Errorf("verify: loading %s: %w", t.Name, err)
			}
		}
	}
	workers = max(1, workers)
	parts := partition(view, req, workers*partsPerWorker)
	// Largest first, each to the next free session: a few heavy keys
	// (a bot, a busy merchant) make some parts far longer than others,
	// and the longest must start first for the sessions to end together.
	slices.SortStableFunc(parts, func(a, b []int) int { return cmp.Compare(len(b), len(a)) })
	answers := make([][]types.Value, req.Rows.Len)
	var wg sync.WaitGroup
	sessions := min(workers, len(parts))
	errs := make([]error, sessions)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	for w := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if errs[w] = replayParts(ctx, online, view, req, parts, &next, max(1, batch), answers, done); errs[w] != nil {
				cancel()
			}
		}()
	}
	wg.Wait()
	// The error that stopped the replay, not one of the cancellations it
	// caused in the other sessions.
	var first error
	for _, err := range errs {
		if err != nil && (first == nil || errors.Is(first, context.Canceled) && !errors.Is(err, context.Canceled)) {
			first = err
		}
	}
	if first != nil {
		return nil, first
	}
	return answers, nil
}

// partsPerWorker is how many parts of the keys a replay makes per
// session, so that the sessions end together.
const partsPerWorker = 8

// replayParts opens a session and replays parts through it, taking the
// next part not taken yet (next) until none is left.
func replayParts(ctx context.Context, online Online, view *plan.Plan, req *Table, parts [][]int, next *atomic.Int64, batch int, answers [][]types.Value, done *atomic.Int64) error {
	s, err := online.Session(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	for {
		p := int(next.Add(1) - 1)
		if p >= len(parts) {
			return nil
		}
		if err := replayPart(ctx, s, view, req, parts[p], batch, answers, done); err != nil {
			return err
		}
	}
}

// replayPart sends rows (positions in req, in replay order) through a
// session, batch at a time. A request's TTL clock is the latest time of
// the part's requests up to it.
func replayPart(ctx context.Context, s Session, view *plan.Plan, req *Table, rows []int, batch int, answers [][]types.Value, done *atomic.Int64) error {
	tsCol := requestTS(view)
	clock := firstTime(req.Rows, tsCol, rows)
	nows := make([]int64, 0, batch)
	for start := 0; start < len(rows); start += batch {
		part := rows[start:min(len(rows), start+batch)]
		nows = nows[:0]
		for _, i := range part {
			if t := orderValue(req.Rows, tsCol, i); t > clock {
				clock = t
			}
			nows = append(nows, clock)
		}
		out, err := s.Compute(ctx, req.Rows.Gather(part), nows)
		if err != nil {
			return fmt.Errorf("verify: requests %d to %d of %s (rows %d, ...): %w", start+1, start+len(part), view.RequestTable, part[0]+1, err)
		}
		if len(out) != len(part) {
			return fmt.Errorf("verify: %d answers to %d requests", len(out), len(part))
		}
		for k, i := range part {
			answers[i] = out[k]
		}
		if done != nil {
			done.Add(int64(len(part)))
		}
	}
	return nil
}

// partition splits the request rows into replay orders: sorted by time,
// then arrival, and, when the view splits by key, into n parts by the
// key's hash (parts may be empty).
func partition(view *plan.Plan, req *Table, n int) [][]int {
	tsCol := requestTS(view)
	order := make([]int, req.Rows.Len)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Or(cmp.Compare(orderValue(req.Rows, tsCol, a), orderValue(req.Rows, tsCol, b)), cmp.Compare(req.Seqs[a], req.Seqs[b]))
	})
	l := bucket.Plan(view)
	r, ok := l.Routes[view.RequestTable]
	if n == 1 || !l.Split || !ok || r.Kind != bucket.Keyed {
		return [][]int{order}
	}
	h := bucket.NewHasher(r.Cols, n)
	parts := make([][]int, n)
	for _, i := range order {
		p := h.Bucket(req.Rows, i)
		parts[p] = append(parts[p], i)
	}
	return parts
}

// requestTS returns the column that orders the request table's rows in
// time: the TS of its first index with one, else -1 (arrival order only).
func requestTS(view *plan.Plan) int {
	t := view.Table(view.RequestTable)
	if t == nil {
		return -1
	}
	for _, ix := range t.Indexes {
		if ix.TS != "" {
			return t.Schema.Index(ix.TS)
		}
	}
	return -1
}

// orderValue is a row's time, NULL (or no time column) as math.MinInt64,
// as windows order rows.
func orderValue(b *types.Block, col, i int) int64 {
	if col < 0 || b.Cols[col].IsNull(i) {
		return math.MinInt64
	}
	return b.Cols[col].I[i]
}

// firstTime is the clock of a session before its first timed row: the
// earliest time among rows (0 when none has one).
func firstTime(b *types.Block, col int, rows []int) int64 {
	for _, i := range rows {
		if t := orderValue(b, col, i); t != math.MinInt64 {
			return t
		}
	}
	return 0
}
