package bigtable

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"cloud.google.com/go/bigtable"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
)

// Bulk write batches stay under both limits: the service's 100,000
// mutations per MutateRows call, and half of gRPC's default 4 MiB message
// size, so an emulator started without larger limits accepts them too. A
// segment holds up to maxSegmentBytes of encoded rows, so it fits in a
// batch whatever its rows.
const (
	maxBatchMutations = 100_000
	maxBatchBytes     = 2 << 20
	maxSegmentBytes   = 256 << 10
)

// Write implements storage.Store. Under each index, the rows that fall in
// one Bigtable row (one key, one day) are stored together as segments,
// cells of up to maxSegmentBytes, applied with ApplyBulk in batches. A
// segment's qualifier derives from its rows' times and sequence numbers,
// so writing the same rows again overwrites the same cells: a write that
// failed in part is retried by repeating it whole. Each mutation also
// gives its Bigtable row a new version (version.go), so even a repeated
// write changes the tokens of the buckets it touches. A row stored again
// in another segment (the same sequence number written with other rows)
// takes the place of the earlier copy when read, the latest write
// winning. Failed rows are reported by a *WriteError.
func (s *Store) Write(ctx context.Context, name string, rows *types.Block, seqs []uint64) error {
	t, err := s.table(ctx, name)
	if err != nil {
		return err
	}
	if err := storage.CheckRows(t.def, rows, seqs); err != nil {
		return err
	}
	w := &writer{s: s, t: t, rows: rows, seqs: seqs, stamp: s.stamp(), failed: &WriteError{Table: name, Rows: rows.Len}}
	live := liveRows(seqs)
	vals := t.encodeRows(rows, live)
	for ix := range t.def.Indexes {
		if err := w.index(ctx, ix, live, vals); err != nil {
			return err
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

// stamp returns a write stamp: the wall clock in microseconds, made
// strictly increasing within the store. Of two copies of a row, the one
// of the greater stamp is the row.
func (s *Store) stamp() uint64 {
	now := uint64(time.Now().UnixMicro())
	for {
		last := s.lastStamp.Load()
		next := max(now, last+1)
		if s.lastStamp.CompareAndSwap(last, next) {
			return next
		}
	}
}

// liveRows returns the positions of the rows to store: all of them, but
// for a sequence number that appears again later in seqs, only its last
// row, as if the rows were written one by one.
func liveRows(seqs []uint64) []int {
	superseded := supersededRows(seqs)
	live := make([]int, 0, len(seqs))
	for i := range seqs {
		if superseded == nil || !superseded[i] {
			live = append(live, i)
		}
	}
	return live
}

// supersededRows marks the rows whose sequence number appears again later
// in seqs, or returns nil when none does.
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

// encodedRows holds rows encoded once, for every index's segments.
type encodedRows struct {
	buf []byte
	off []int // row i is buf[off[i]:off[i+1]]; rows not written are empty
}

func (e *encodedRows) row(i int) []byte { return e.buf[e.off[i]:e.off[i+1]] }

// encodeRows encodes the rows at positions live.
func (t *table) encodeRows(rows *types.Block, live []int) *encodedRows {
	e := &encodedRows{off: make([]int, rows.Len+1)}
	next := 0
	for _, i := range live {
		for ; next <= i; next++ {
			e.off[next] = len(e.buf)
		}
		e.buf = t.codec.Append(e.buf, rows, i)
	}
	for ; next <= rows.Len; next++ {
		e.off[next] = len(e.buf)
	}
	return e
}

// placed is a row's place under one index: its Bigtable row key (in the
// writer's key arena), order value and sequence number.
type placed struct {
	row    int
	keyOff int
	keyLen int
	ts     int64
	seq    uint64
}

// index adds the segments of the live rows under index ix to the batch.
func (w *writer) index(ctx context.Context, ix int, live []int, vals *encodedRows) error {
	t := w.t
	var keys []byte
	ps := make([]placed, len(live))
	for k, i := range live {
		ts := orderValue(w.rows, t.tsCols[ix], i)
		off := len(keys)
		keys = t.rowKey(keys, ix, w.rows, i, ts)
		ps[k] = placed{row: i, keyOff: off, keyLen: len(keys) - off, ts: ts, seq: w.seqs[i]}
	}
	key := func(p placed) []byte { return keys[p.keyOff : p.keyOff+p.keyLen] }
	slices.SortFunc(ps, func(a, b placed) int {
		return cmp.Or(bytes.Compare(key(a), key(b)), cmp.Compare(b.ts, a.ts), cmp.Compare(b.seq, a.seq))
	})
	for start := 0; start < len(ps); {
		end := start + 1
		for end < len(ps) && bytes.Equal(key(ps[end]), key(ps[start])) {
			end++
		}
		k := string(key(ps[start]))
		for _, seg := range splitSegments(ps[start:end], vals) {
			w.addSegment(k, ix, seg, vals)
			if w.full() {
				if err := w.flush(ctx); err != nil {
					return err
				}
			}
		}
		start = end
	}
	return nil
}

// splitSegments cuts the rows of one Bigtable row, newest first, into
// segments of up to maxSegmentBytes of encoded rows (at least one row
// each). The cut depends only on the rows, so the same rows always make
// the same segments.
func splitSegments(ps []placed, vals *encodedRows) [][]placed {
	var out [][]placed
	start, size := 0, 0
	for i, p := range ps {
		n := len(vals.row(p.row)) + segmentRowOverhead
		if i > start && size+n > maxSegmentBytes {
			out = append(out, ps[start:i])
			start, size = i, 0
		}
		size += n
	}
	return append(out, ps[start:])
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

// cellTime is the cell timestamp of a segment whose newest row's order
// value is ms: that event time in microseconds, clamped to Bigtable's
// range (times before 1970 and NULL are 0), so an age GC policy deletes a
// segment once its newest row is old enough.
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
	stamp  uint64
	keys   []string
	muts   []*bigtable.Mutation
	refs   []entryRef
	bytes  int
	failed *WriteError
}

// entryRef says which rows and index an entry of a batch stores.
type entryRef struct {
	rows  []int
	index int
}

// addSegment adds the entry storing one segment in Bigtable row key: a
// mutation of that row alone, so atomic, setting the segment's cell and
// a new value of the row's version cell (version.go). Each entry has a
// version of its own, so a row that takes several segments of one write
// (over maxSegmentBytes) changes its version with each.
func (w *writer) addSegment(key string, ix int, seg []placed, vals *encodedRows) {
	qual := appendSegmentQualifier(nil, seg)
	val := appendSegment(nil, w.stamp, seg, vals)
	m := bigtable.NewMutation()
	m.Set(w.t.families[ix], string(qual), cellTime(seg[0].ts), val)
	m.Set(w.t.families[ix], versionQualifier, versionTime(seg[0].ts), appendVersion(make([]byte, 0, versionLen)))
	rows := make([]int, len(seg))
	for i, p := range seg {
		rows[i] = p.row
	}
	w.keys = append(w.keys, key)
	w.muts = append(w.muts, m)
	w.refs = append(w.refs, entryRef{rows: rows, index: ix})
	w.bytes += len(key) + len(qual) + len(val) + versionLen + 64
}

func (w *writer) full() bool {
	return len(w.muts) >= maxBatchMutations || w.bytes >= maxBatchBytes
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
		if status.Code(err) == codes.NotFound {
			err = fmt.Errorf("%w (was the table deleted?): %v", w.s.noTable(w.t.def.Name), err)
		}
		return w.s.fail(ctx, w.s.addr, err, "writing %d of the %d rows of %s; the write is idempotent: retry it whole", w.batchRows(), w.rows.Len, w.t.def.Name)
	}
	w.failed.add(w.refs, errs, w.seqs)
	w.keys, w.muts, w.refs, w.bytes = w.keys[:0], w.muts[:0], w.refs[:0], 0
	return nil
}

// batchRows counts the row copies of the batch.
func (w *writer) batchRows() int {
	n := 0
	for _, r := range w.refs {
		n += len(r.rows)
	}
	return n
}

// WriteError reports the rows of a write that Bigtable did not store. The
// others were stored; since writes are idempotent, the whole write can be
// retried.
type WriteError struct {
	Table  string
	Rows   int         // rows in the write
	Failed []FailedRow // by row, then index
}

// FailedRow is one row copy that was not stored.
type FailedRow struct {
	Row   int    // position in the written block, from 0
	Seq   uint64 // its sequence number
	Index int    // the ordinal of the index whose copy failed
	Err   error
}

// add records the rows of the failed entries of a batch: errs is
// ApplyBulk's result, one error (or nil) per entry, or nil when all
// succeeded.
func (e *WriteError) add(refs []entryRef, errs []error, seqs []uint64) {
	for i, err := range errs {
		if err == nil {
			continue
		}
		for _, row := range refs[i].rows {
			e.Failed = append(e.Failed, FailedRow{Row: row, Seq: seqs[row], Index: refs[i].index, Err: err})
		}
	}
	slices.SortStableFunc(e.Failed, func(a, b FailedRow) int { return cmp.Compare(a.Row, b.Row) })
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
