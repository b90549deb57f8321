package hot

import (
	"encoding/binary"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
)

// run is the rows of one key of an index, in window order: TS ascending
// (NULL first, as math.MinInt64), then sequence number ascending. ts and
// seqs are the rows' TS values and sequence numbers.
type run struct {
	id   int32 // in its index's byID
	key  string
	rows *types.Block
	ts   []int64
	seqs []uint64
}

func newRun(key string, schema types.Schema) *run {
	return &run{key: key, rows: types.NewBlock(schema, 0)}
}

func (r *run) len() int { return len(r.seqs) }

// search returns the position of the first row at or after (ts, seq) in
// window order.
func (r *run) search(ts int64, seq uint64) int {
	return sort.Search(len(r.ts), func(p int) bool {
		return r.ts[p] > ts || r.ts[p] == ts && r.seqs[p] >= seq
	})
}

// insert adds row i of src, of TS ts and sequence number seq, at its
// place: at the end unless it is older than the newest row.
func (r *run) insert(src *types.Block, i int, ts int64, seq uint64) {
	p := r.len()
	if p > 0 && (r.ts[p-1] > ts || r.ts[p-1] == ts && r.seqs[p-1] > seq) {
		p = r.search(ts, seq)
	}
	for c := range r.rows.Cols {
		insertValue(&r.rows.Cols[c], p, &src.Cols[c], i)
	}
	r.rows.Len++
	r.ts = slices.Insert(r.ts, p, ts)
	r.seqs = slices.Insert(r.seqs, p, seq)
}

// set replaces the values of row p by those of row i of src.
func (r *run) set(p int, src *types.Block, i int) {
	for c := range r.rows.Cols {
		r.rows.Cols[c].Set(p, src.Cols[c].Value(i))
	}
}

// remove deletes row p.
func (r *run) remove(p int) {
	for c := range r.rows.Cols {
		col := &r.rows.Cols[c]
		switch storageOf(col.Type) {
		case inI:
			col.I = slices.Delete(col.I, p, p+1)
		case inF:
			col.F = slices.Delete(col.F, p, p+1)
		case inS:
			col.S = slices.Delete(col.S, p, p+1)
		case inX:
			col.X = slices.Delete(col.X, p, p+1)
		}
		if col.Nulls != nil {
			col.Nulls = slices.Delete(col.Nulls, p, p+1)
		}
	}
	r.rows.Len--
	r.ts = slices.Delete(r.ts, p, p+1)
	r.seqs = slices.Delete(r.seqs, p, p+1)
}

// dropFirst deletes the first n rows, in O(n): the storage of the others
// is kept, and reclaimed when an append outgrows it.
func (r *run) dropFirst(n int) {
	for c := range r.rows.Cols {
		col := &r.rows.Cols[c]
		switch storageOf(col.Type) {
		case inI:
			col.I = col.I[n:]
		case inF:
			col.F = col.F[n:]
		case inS:
			clear(col.S[:n]) // release the strings
			col.S = col.S[n:]
		case inX:
			clear(col.X[:n])
			col.X = col.X[n:]
		}
		if col.Nulls != nil {
			col.Nulls = col.Nulls[n:]
		}
	}
	r.rows.Len -= n
	r.ts, r.seqs = r.ts[n:], r.seqs[n:]
}

// liveFrom returns the position of the oldest row the TTL of ix keeps at
// now: the expired rows of a key are its oldest, as TTLs expire rows by
// age and by rank (newest first), so they are a prefix of the run.
func (r *run) liveFrom(ix *index, now time.Time) int {
	n := r.len()
	return sort.Search(n, func(p int) bool {
		return !storage.Expired(ix.def, now, r.ts[p], n-1-p)
	})
}

// window returns the rows [lo, hi) a read of [from, to] keeps at now,
// the newest limit of them when limit is positive.
func (r *run) window(ix *index, now time.Time, from, to int64, limit int) (lo, hi int) {
	live := r.liveFrom(ix, now)
	lo = live + sort.Search(r.len()-live, func(p int) bool { return r.ts[live+p] >= from })
	hi = sort.Search(r.len(), func(p int) bool { return r.ts[p] > to })
	if hi < lo {
		return lo, lo
	}
	if limit > 0 && hi-lo > limit {
		lo = hi - limit
	}
	return lo, hi
}

// copyRange returns a new block of rows [lo, hi), newest first when
// reverse, as Block.Gather of those positions would.
func (r *run) copyRange(lo, hi int, reverse bool) *types.Block {
	out := &types.Block{Schema: r.rows.Schema, Cols: make([]types.Column, len(r.rows.Cols)), Len: hi - lo}
	for c := range r.rows.Cols {
		out.Cols[c] = copyColumn(&r.rows.Cols[c], lo, hi, reverse)
	}
	return out
}

func copyColumn(c *types.Column, lo, hi int, reverse bool) types.Column {
	out := types.Column{Type: c.Type}
	switch storageOf(c.Type) {
	case inI:
		out.I = copySlice(c.I[lo:hi], reverse)
	case inF:
		out.F = copySlice(c.F[lo:hi], reverse)
	case inS:
		out.S = copySlice(c.S[lo:hi], reverse)
	case inX:
		out.X = copySlice(c.X[lo:hi], reverse)
	}
	if c.Nulls != nil && slices.Contains(c.Nulls[lo:hi], true) {
		out.Nulls = copySlice(c.Nulls[lo:hi], reverse)
	}
	return out
}

func copySlice[T any](v []T, reverse bool) []T {
	out := make([]T, len(v))
	copy(out, v)
	if reverse {
		slices.Reverse(out)
	}
	return out
}

// insertValue inserts value i of src at position p of dst.
func insertValue(dst *types.Column, p int, src *types.Column, i int) {
	n := dst.Len()
	null := src.IsNull(i)
	v := types.Value{}
	if !null {
		v = src.Value(i)
	}
	switch storageOf(dst.Type) {
	case inI:
		dst.I = slices.Insert(dst.I, p, v.I)
	case inF:
		dst.F = slices.Insert(dst.F, p, v.F)
	case inS:
		// A value equal to a neighbour's shares its bytes (a key's rows
		// mostly repeat its key), so memory holds fewer strings for the
		// collector to scan.
		switch {
		case p > 0 && dst.S[p-1] == v.S:
			v.S = dst.S[p-1]
		case p < n && dst.S[p] == v.S:
			v.S = dst.S[p]
		}
		dst.S = slices.Insert(dst.S, p, v.S)
	case inX:
		dst.X = slices.Insert(dst.X, p, v.X)
	}
	if null && dst.Nulls == nil {
		dst.Nulls = make([]bool, n, n+1)
	}
	if dst.Nulls != nil {
		dst.Nulls = slices.Insert(dst.Nulls, p, null)
	}
}

// Where a column keeps its values (see types.Column).
const (
	inI = iota
	inF
	inS
	inX
)

func storageOf(t types.Type) int {
	switch t.Kind() {
	case types.KindFloat, types.KindDouble:
		return inF
	case types.KindString:
		return inS
	case types.KindArray, types.KindMap:
		return inX
	}
	return inI
}

// appendKey appends the encoding of one KEY value: 0 for NULL, else 1 and
// the value: 8 bytes for integers, times and floats (-0 as 0, every NaN
// as one: the values types.Compare finds equal), a length-prefixed string,
// or the text of an array or map (which Compare compares). Values of one
// column have one type, which the encoding need not carry.
func appendKey(b []byte, v types.Value) []byte {
	if v.Null {
		return append(b, 0)
	}
	b = append(b, 1)
	switch storageOf(v.Type) {
	case inI:
		return binary.BigEndian.AppendUint64(b, uint64(v.I))
	case inF:
		f := v.F
		switch {
		case f == 0:
			f = 0
		case math.IsNaN(f):
			f = math.NaN()
		}
		return binary.BigEndian.AppendUint64(b, math.Float64bits(f))
	case inS:
		b = binary.AppendUvarint(b, uint64(len(v.S)))
		return append(b, v.S...)
	}
	s := v.String()
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// rowKey appends the key of row i of b.
func (ix *index) rowKey(buf []byte, b *types.Block, i int) []byte {
	for _, c := range ix.keyCols {
		buf = appendKey(buf, b.Cols[c].Value(i))
	}
	return buf
}
