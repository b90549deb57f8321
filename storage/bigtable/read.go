package bigtable

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"cloud.google.com/go/bigtable"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
)

// Read implements storage.Store with one range scan of the key's
// Bigtable rows, a day of its rows each, whose cells are stored newest
// first: the scan starts at the day of r.To and ends after the day of
// r.From, a column range filter keeps the cells of [r.From, r.To], and a
// Limit of N stops after N cells. TTLs are enforced as storage.Mem
// enforces them: an absolute TTL against the Clock, a latest TTL by rank
// within the key, so when one applies the scan starts at the key's newest
// row to count ranks. Expired rows come last in a key's scan (they are
// older and ranked further down), so the scan stops at the first.
func (s *Store) Read(ctx context.Context, r storage.Range) (*types.Block, error) {
	t, err := s.table(ctx, r.Table)
	if err != nil {
		return nil, err
	}
	ord, ix, err := storage.FindIndex(t.def, r.Keys, r.TS)
	if err != nil {
		return nil, err
	}
	out := types.NewBlock(t.def.Schema, max(min(r.Limit, 1024), 16))
	if err := s.readKey(ctx, t, ord, ix, r, out, nil); err != nil {
		return nil, err
	}
	if !r.NewestFirst {
		reverse(out)
	}
	return out, ctx.Err()
}

// keyPrefix returns the row-key prefix of one key of index ord: the
// ordinal and the encoded key values. ok is false when no stored key can
// equal values (a fraction looked up in an integer column).
func (t *table) keyPrefix(dst []byte, ord int, ix *plan.Index, keys []string, values []types.Value) (_ []byte, ok bool, err error) {
	if len(keys) != len(values) {
		return nil, false, fmt.Errorf("bigtable: %d key columns but %d values", len(keys), len(values))
	}
	dst = append(dst, byte(ord))
	for j, col := range t.keyCols[ord] {
		p := slices.IndexFunc(keys, func(k string) bool { return strings.EqualFold(k, ix.Keys[j]) })
		typ := t.def.Schema[col].Type
		v, ok := keyValue(typ, values[p])
		if !ok {
			return nil, false, nil
		}
		dst = appendKey(dst, typ, v)
	}
	return dst, true, nil
}

// readKey appends the live rows of one key of index ord in [r.From, r.To]
// to out, newest first, at most r.Limit of them; with seqs non-nil it
// appends their sequence numbers to *seqs.
func (s *Store) readKey(ctx context.Context, t *table, ord int, ix *plan.Index, r storage.Range, out *types.Block, seqs *[]uint64) error {
	prefix, ok, err := t.keyPrefix(nil, ord, ix, r.Keys, r.Values)
	if err != nil || !ok || r.From > r.To {
		return err
	}
	now := storage.At(s.now, r.AsOf)
	_, latest := storage.TTLBounds(ix, now)
	byRank := latest > 0 // ranks count the key's rows newer than r.To
	start := prefix
	if !byRank {
		start = appendDay(prefix[:len(prefix):len(prefix)], r.To)
	}
	end := prefixSuccessor(appendDay(prefix[:len(prefix):len(prefix)], r.From))
	// Segments whose newest row is older than r.From hold no row wanted,
	// and the version cell none: a Bigtable row comes only if it holds a
	// segment in range, as pages and latest TTLs count on.
	filter := bigtable.RowFilter(bigtable.ColumnRangeFilter(t.families[ord], segmentsStart, prefixSuccessor(appendTS(nil, r.From))))
	// Pages of Bigtable rows: a limit of N rows needs at most N+1 of them
	// (every one holds a row in range, but the first may hold only rows
	// newer than r.To), unless copies of rows were dropped, so the scan
	// goes on page by page; a latest TTL of N hides every row past N
	// Bigtable rows (each holds at least one row), so one page does.
	page := 0
	switch {
	case !byRank && r.Limit > 0:
		page = r.Limit + 1
	case byRank && ix.TTLType != "absorlat":
		page = latest
	}
	sc := scan{t: t, out: out, seqs: seqs}
	ks := keyScan{sc: &sc, ix: ix, now: now, from: r.From, to: r.To, limit: r.Limit}
	each := func(_ string, rows []stored) bool { return ks.add(rows) }
	from := string(start)
	for {
		opts := []bigtable.ReadOption{filter}
		if page > 0 {
			opts = append(opts, bigtable.LimitRows(int64(page)))
		}
		res, err := s.scan(ctx, &sc, t.families[ord], bigtable.NewRange(from, end), each, opts...)
		if err != nil {
			return err
		}
		if res.stopped || page == 0 || res.rows < page || byRank {
			return nil
		}
		from = res.last + "\x00" // the next page starts after the last row read
	}
}

// keyScan keeps, of one key's stored rows coming newest first, the live
// ones in [from, to], at most limit of them (when positive), decoding them
// into its scan's block.
type keyScan struct {
	sc       *scan
	ix       *plan.Index
	now      time.Time
	from, to int64
	limit    int
	rank, n  int // rows seen (for latest TTLs) and kept
}

// add takes the next rows of the key, newest first; false once no later
// row can be kept (or one did not decode).
func (k *keyScan) add(rows []stored) bool {
	reserve(k.sc.out, len(rows))
	for _, row := range rows {
		if row.ts < k.from || storage.Expired(k.ix, k.now, row.ts, k.rank) {
			return false
		}
		k.rank++
		if row.ts > k.to {
			continue
		}
		if !k.sc.add(row) {
			return false
		}
		k.n++
		if k.limit > 0 && k.n >= k.limit {
			return false
		}
	}
	return true
}

// scan decodes stored rows into a block.
type scan struct {
	t    *table
	out  *types.Block
	seqs *[]uint64
	rows []stored // scratch: the rows of one Bigtable row
	// version holds the value of the version cell (version.go) of the
	// Bigtable row f is called with, or noVersion when it has none. With
	// keepVersion, f is called with every Bigtable row read, even one
	// without a segment (whose segments GC deleted before its version).
	keepVersion bool
	version     []byte
	err         error  // a row or segment that did not decode
	key         string // its Bigtable row
	qual        string // and its cell's qualifier
}

// failed returns the error of a row that did not decode, naming the
// schema it was written with when the metadata row records it.
func (sc *scan) failed(ctx context.Context, s *Store) error {
	if sc.err == nil {
		return nil
	}
	var se *SchemaError
	if errors.As(sc.err, &se) && se.Got == nil {
		se.Got = s.knownSchema(ctx, sc.t.def.Name, se.GotFP)
	}
	return fmt.Errorf("bigtable: reading %s: %w (row key %x, cell %x)", sc.t.def.Name, sc.err, sc.key, sc.qual)
}

// add decodes one stored row; false (with sc.err set) on a bad row.
func (sc *scan) add(r stored) bool {
	if err := sc.t.codec.Decode(r.val, sc.out); err != nil {
		sc.err = err
		return false
	}
	if sc.seqs != nil {
		*sc.seqs = append(*sc.seqs, r.seq)
	}
	return true
}

// scanned is what a scan read.
type scanned struct {
	rows    int    // Bigtable rows
	last    string // the last one's key
	stopped bool   // f asked to stop
}

// scan reads the Bigtable rows of rg of t and calls f with each one's key
// and its stored rows (its segments' rows in family fam, merged: newest
// first, the latest copy of each sequence number), until f returns false.
// Cells whose qualifier is not a segment's (the version cell) are passed
// over, as are older versions of a cell, and so are Bigtable rows without
// a segment unless sc.keepVersion. A segment that does not decode stops
// the scan with its error.
func (s *Store) scan(ctx context.Context, sc *scan, fam string, rg bigtable.RowSet, f func(key string, rows []stored) bool, opts ...bigtable.ReadOption) (scanned, error) {
	cctx, cancel := s.call(ctx)
	defer cancel()
	var res scanned
	colStart := len(fam) + 1 // items name their column "family:qualifier"
	err := sc.t.bt.ReadRows(cctx, rg, func(row bigtable.Row) bool {
		res.rows++
		res.last = row.Key()
		sc.rows, sc.version = sc.rows[:0], noVersion
		prev, segments := "", 0
		for _, it := range row[fam] {
			if it.Column == prev {
				continue // an older cell of the column
			}
			prev = it.Column
			if q := len(it.Column) - colStart; q != qualifierLen {
				if q == len(versionQualifier) {
					sc.version = it.Value
				}
				continue
			}
			var err error
			if sc.rows, err = appendSegmentRows(sc.rows, it.Value); err != nil {
				sc.err, sc.key, sc.qual = err, it.Row, it.Column[colStart:]
				return false
			}
			segments++
		}
		if len(sc.rows) == 0 && !sc.keepVersion {
			return true
		}
		s.compact.met(sc.t, fam, row.Key(), segments)
		sc.key = row.Key()
		if !f(row.Key(), mergeSegments(sc.rows, segments == 1)) {
			res.stopped = true
			return false
		}
		return true
	}, opts...)
	if err == nil && sc.err != nil {
		err = sc.failed(ctx, s)
	}
	if err != nil && sc.err == nil {
		err = s.readFailed(ctx, sc.t, err)
	}
	return res, err
}

// readFailed describes a failed ReadRows call.
func (s *Store) readFailed(ctx context.Context, t *table, err error) error {
	switch {
	case err == nil:
		return nil
	case status.Code(err) == codes.NotFound:
		return s.noTable(t.def.Name)
	}
	return s.fail(ctx, s.addr, err, "reading %s (table %s)", t.def.Name, t.btName)
}

// reserve makes room in b's columns for n more rows, so that decoding a
// Bigtable row's rows grows them at most once.
func reserve(b *types.Block, n int) {
	for i := range b.Cols {
		c := &b.Cols[i]
		switch {
		case c.Type == types.String:
			c.S = slices.Grow(c.S, n)
		case c.Type.IsFloat():
			c.F = slices.Grow(c.F, n)
		default:
			c.I = slices.Grow(c.I, n)
		}
	}
}

// reverse reverses the rows of b in place.
func reverse(b *types.Block) {
	for i := range b.Cols {
		c := &b.Cols[i]
		slices.Reverse(c.I)
		slices.Reverse(c.F)
		slices.Reverse(c.S)
		slices.Reverse(c.Nulls)
	}
}

// Scan implements eval.Source with the semantics of storage.Mem.Scan: with
// q.TS and an index on q.Keys it is Read, oldest first; otherwise it takes
// the rows of the key (or of the whole table) in arrival order, through
// the index on q.Keys, or else the table's first index, whose TTL applies,
// and, with q.TS set, storage.FinishScan keeps those in the time range,
// ordered by time.
func (s *Store) Scan(ctx context.Context, q eval.Query) (*types.Block, error) {
	t, err := s.table(ctx, q.Table)
	if err != nil {
		return nil, err
	}
	ord, ix, ixErr := storage.FindIndex(t.def, q.Keys, q.TS)
	if q.TS != "" && len(q.Keys) > 0 && ixErr == nil {
		return s.Read(ctx, storage.Range{Table: q.Table, Keys: q.Keys, Values: q.Values, TS: q.TS, From: q.From, To: q.To, Limit: q.Limit, AsOf: q.AsOf})
	}
	rows := types.NewBlock(t.def.Schema, 64)
	var seqs []uint64
	if ixErr == nil {
		all := storage.Range{Keys: q.Keys, Values: q.Values, From: math.MinInt64, To: math.MaxInt64, AsOf: q.AsOf}
		err = s.readKey(ctx, t, ord, ix, all, rows, &seqs)
	} else {
		err = s.readIndex(ctx, t, 0, t.def.Indexes[0], storage.At(s.now, q.AsOf), rows, &seqs)
	}
	if err != nil {
		return nil, err
	}
	var keep []int
	for i := 0; i < rows.Len; i++ {
		if matches(rows, i, q.Keys, q.Values) {
			keep = append(keep, i)
		}
	}
	slices.SortFunc(keep, func(a, b int) int { return compareSeq(seqs[a], seqs[b]) })
	return storage.FinishScan(rows.Gather(keep), q), ctx.Err()
}

func compareSeq(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// readIndex appends every row of index ord live at now to out, key by
// key, each key's rows newest first.
func (s *Store) readIndex(ctx context.Context, t *table, ord int, ix *plan.Index, now time.Time, out *types.Block, seqs *[]uint64) error {
	sc := scan{t: t, out: out, seqs: seqs}
	var last string
	rank := 0
	_, err := s.scan(ctx, &sc, t.families[ord], bigtable.PrefixRange(string([]byte{byte(ord)})), func(key string, rows []stored) bool {
		if k := key[:len(key)-8]; k != last { // the key, without the day
			last, rank = k, 0
		}
		for _, r := range rows {
			rank++
			if !storage.Expired(ix, now, r.ts, rank-1) && !sc.add(r) {
				return false
			}
		}
		return true
	})
	return err
}

// matches reports whether row i of b has the key values (NULL equal to
// NULL), as storage.Mem matches them.
func matches(b *types.Block, i int, keys []string, values []types.Value) bool {
	for k, name := range keys {
		v := b.Cols[b.Schema.Index(name)].Value(i)
		w := values[k]
		if v.Null || w.Null {
			if v.Null != w.Null {
				return false
			}
			continue
		}
		if types.Compare(v, w) != 0 {
			return false
		}
	}
	return true
}
