package bigtable

import (
	"context"
	"fmt"
	"math"
	"strings"

	"cloud.google.com/go/bigtable"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
)

// Bulk write batches stay under both limits: the service's 100,000
// mutations per MutateRows call, and half of gRPC's default 4 MiB message
// size, so an emulator started without larger limits accepts them too.
const (
	maxBatchMutations = 100_000
	maxBatchBytes     = 2 << 20
)

// Write implements storage.Store. Each row is encoded once and stored
// under every index of the table (one mutation per index), applied with
// ApplyBulk in batches. Rows keep their keys, times and sequence numbers,
// so writing a row again overwrites the same cells: a write that failed in
// part is retried by repeating it whole. Failed rows are reported by a
// *WriteError.
func (s *Store) Write(ctx context.Context, name string, rows *types.Block, seqs []uint64) error {
	t, err := s.table(ctx, name)
	if err != nil {
		return err
	}
	if err := storage.CheckRows(t.def, rows, seqs); err != nil {
		return err
	}
	w := &writer{s: s, t: t, rows: rows, seqs: seqs, failed: &WriteError{Table: name, Rows: rows.Len}}
	superseded := supersededRows(seqs)
	var key, qual []byte
	for i := 0; i < rows.Len; i++ {
		if superseded != nil && superseded[i] {
			continue
		}
		start := len(w.arena)
		w.arena = t.codec.Append(w.arena, rows, i)
		val := w.arena[start:len(w.arena):len(w.arena)] // shared by the row's index copies
		for ix := range t.def.Indexes {
			ts := orderValue(rows, t.tsCols[ix], i)
			key = t.rowKey(key[:0], ix, rows, i, ts)
			qual = appendQualifier(qual[:0], ts, seqs[i])
			w.add(string(key), ix, i, string(qual), cellTime(ts), val)
		}
		if w.full() {
			if err := w.flush(ctx); err != nil {
				return err
			}
		}
	}
	if err := w.flush(ctx); err != nil {
		return err
	}
	if len(w.failed.Failed) > 0 {
		return w.failed
	}
	return ctx.Err()
}

// supersededRows marks the rows whose sequence number appears again later
// in seqs, or returns nil when none does: only the last row of a sequence
// number is written, as if the rows were written one by one, because
// Bigtable does not order the entries of one bulk write.
func supersededRows(seqs []uint64) []bool {
	increasing := true
	for i := 1; i < len(seqs) && increasing; i++ {
		increasing = seqs[i] > seqs[i-1]
	}
	if increasing {
		return nil
	}
	last := make(map[uint64]int, len(seqs))
	for i, s := range seqs {
		last[s] = i
	}
	if len(last) == len(seqs) {
		return nil
	}
	out := make([]bool, len(seqs))
	for i, s := range seqs {
		out[i] = last[s] != i
	}
	return out
}

// rowKey appends the key of the Bigtable row that holds row i of b under
// index ix, whose order value is ts: the index key and ts's day.
func (t *table) rowKey(dst []byte, ix int, b *types.Block, i int, ts int64) []byte {
	dst = append(dst, byte(ix))
	for _, c := range t.keyCols[ix] {
		dst = appendKey(dst, b.Schema[c].Type, b.Cols[c].Value(i))
	}
	return appendDay(dst, ts)
}

// orderValue is a row's TS, NULL (or no TS column) as math.MinInt64, as
// windows order it.
func orderValue(b *types.Block, col, i int) int64 {
	if col < 0 || b.Cols[col].IsNull(i) {
		return math.MinInt64
	}
	return b.Cols[col].I[i]
}

// cellTime is the cell timestamp of a row whose order value is ms: its
// event time in microseconds, clamped to Bigtable's range (times before
// 1970 and NULL are 0), so an age GC policy ages rows by event time.
func cellTime(ms int64) bigtable.Timestamp {
	switch {
	case ms <= 0:
		return 0
	case ms > math.MaxInt64/1000:
		return bigtable.Timestamp(math.MaxInt64 / 1000 * 1000)
	}
	return bigtable.Timestamp(ms * 1000)
}

// writer accumulates one batch of entries.
type writer struct {
	s      *Store
	t      *table
	rows   *types.Block
	seqs   []uint64
	arena  []byte // the batch's encoded rows, which its mutations point into
	keys   []string
	muts   []*bigtable.Mutation
	refs   []entryRef
	bytes  int
	failed *WriteError
}

// entryRef says which row and index an entry of a batch stores.
type entryRef struct {
	row   int
	index int
}

func (w *writer) add(key string, ix, row int, qual string, ts bigtable.Timestamp, val []byte) {
	m := bigtable.NewMutation()
	m.Set(w.t.families[ix], qual, ts, val)
	w.keys = append(w.keys, key)
	w.muts = append(w.muts, m)
	w.refs = append(w.refs, entryRef{row: row, index: ix})
	w.bytes += len(key) + len(qual) + len(val) + 32
}

func (w *writer) full() bool {
	return len(w.muts)+len(w.t.def.Indexes) > maxBatchMutations || w.bytes >= maxBatchBytes
}

// flush applies the batch. A failed call fails the write; failed entries
// are collected into w.failed.
func (w *writer) flush(ctx context.Context) error {
	if len(w.muts) == 0 {
		return nil
	}
	cctx, cancel := w.s.call(ctx)
	errs, err := w.t.bt.ApplyBulk(cctx, w.keys, w.muts)
	cancel()
	if err != nil {
		first, last := w.refs[0].row, w.refs[len(w.refs)-1].row
		if status.Code(err) == codes.NotFound {
			err = fmt.Errorf("%w (was the table deleted?): %v", w.s.noTable(w.t.def.Name), err)
		}
		return w.s.fail(ctx, w.s.addr, err, "writing rows %d to %d of %d of %s; the write is idempotent: retry it whole", first+1, last+1, w.rows.Len, w.t.def.Name)
	}
	w.failed.add(w.refs, errs, w.seqs)
	w.keys, w.muts, w.refs, w.bytes = w.keys[:0], w.muts[:0], w.refs[:0], 0
	w.arena = nil // the sent mutations may still point into it
	return nil
}

// WriteError reports the rows of a write that Bigtable did not store. The
// others were stored; since writes are idempotent, the whole write can be
// retried.
type WriteError struct {
	Table  string
	Rows   int         // rows in the write
	Failed []FailedRow // in write order
}

// FailedRow is one row copy that was not stored.
type FailedRow struct {
	Row   int    // position in the written block, from 0
	Seq   uint64 // its sequence number
	Index int    // the ordinal of the index whose copy failed
	Err   error
}

// add records the failed entries of a batch: errs is ApplyBulk's result,
// one error (or nil) per entry, or nil when all succeeded.
func (e *WriteError) add(refs []entryRef, errs []error, seqs []uint64) {
	for i, err := range errs {
		if err != nil {
			e.Failed = append(e.Failed, FailedRow{Row: refs[i].row, Seq: seqs[refs[i].row], Index: refs[i].index, Err: err})
		}
	}
}

// rowCount is the number of distinct rows that failed.
func (e *WriteError) rowCount() int {
	rows := map[int]bool{}
	for _, f := range e.Failed {
		rows[f.Row] = true
	}
	return len(rows)
}

// Error lists the first failed row copies, with their positions (from 1)
// and sequence numbers.
func (e *WriteError) Error() string {
	const show = 5
	var b strings.Builder
	fmt.Fprintf(&b, "bigtable: writing %s: %d of %d rows failed", e.Table, e.rowCount(), e.Rows)
	for i, f := range e.Failed {
		if i == show {
			fmt.Fprintf(&b, "; and %d more", len(e.Failed)-show)
			break
		}
		sep := "; "
		if i == 0 {
			sep = ": "
		}
		fmt.Fprintf(&b, "%srow %d (seq %d) index %d: %v", sep, f.Row+1, f.Seq, f.Index, f.Err)
	}
	b.WriteString("; the write is idempotent: retry it whole")
	return b.String()
}

// Unwrap returns storage.ErrUnavailable when a row failed because the
// server was unavailable, and the first row's error.
func (e *WriteError) Unwrap() []error {
	var out []error
	for _, f := range e.Failed {
		if unavailable(f.Err) {
			out = append(out, storage.ErrUnavailable)
			break
		}
	}
	if len(e.Failed) > 0 {
		out = append(out, e.Failed[0].Err)
	}
	return out
}
