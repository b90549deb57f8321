package bigtable

import (
	"context"
	"math"
	"slices"
	"strings"
	"time"

	"cloud.google.com/go/bigtable"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
)

var _ eval.MultiSource = (*Store)(nil)

// ScanMany implements eval.MultiSource: what Scan returns for each query,
// each in a block of its own. The queries of one table that Scan reads
// through one index as one range of Bigtable rows are read together, in
// one ReadRows per table and index whatever their number and keys (see
// docs/storage-format.md, "Reads"): whole keys (Keys and no TS: a LAST
// JOIN's lookups) and time ranges of keys (Keys and TS, no Limit, of an
// index whose TTL has no latest part: the edges and the buckets without
// a tile of a tiled window). The others are Scans of their own: a limit,
// which Read pages, a latest TTL, whose ranks Read counts from the key's
// newest row, and queries no index serves.
func (s *Store) ScanMany(ctx context.Context, qs []eval.Query) ([]*types.Block, error) {
	out := make([]*types.Block, len(qs))
	var batches []*batch
	for i, q := range qs {
		t, err := s.table(ctx, q.Table)
		if err != nil {
			return nil, err
		}
		ord, ix, ok := batchIndex(t, q)
		if !ok {
			if out[i], err = s.Scan(ctx, q); err != nil {
				return nil, err
			}
			continue
		}
		k := slices.IndexFunc(batches, func(b *batch) bool { return b.t == t && b.ord == ord })
		if k < 0 {
			k = len(batches)
			batches = append(batches, &batch{t: t, ord: ord, ix: ix})
		}
		if ok, err := batches[k].add(i, q); err != nil {
			return nil, err
		} else if !ok {
			out[i] = types.NewBlock(t.def.Schema, 0)
		}
	}
	for _, b := range batches {
		if err := s.readBatch(ctx, b); err != nil {
			return nil, err
		}
		b.finish(qs, out)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// Batched reports whether ScanMany reads q together with the other
// queries of its table and index, in their one ReadRows, rather than as a
// Scan of its own (see ScanMany): a host that gathers the reads of
// concurrent requests sends only these through ScanMany. It never calls
// Bigtable: false for a table the store has not read or written yet.
func (s *Store) Batched(q eval.Query) bool {
	s.mu.RLock()
	t := s.tables[q.Table]
	s.mu.RUnlock()
	if t == nil {
		return false
	}
	_, _, ok := batchIndex(t, q)
	return ok
}

// batchIndex returns the index through which ScanMany reads q with other
// queries, as Scan reads it: the index on q.Keys (and q.TS), when q is a
// whole key or a time range of a key without a limit, of an index whose
// TTL has no latest part. ok is false for a query Scan answers otherwise.
func batchIndex(t *table, q eval.Query) (ord int, ix *plan.Index, ok bool) {
	if len(q.Keys) == 0 {
		return -1, nil, false
	}
	ord, ix, err := storage.FindIndex(t.def, q.Keys, q.TS)
	switch {
	case err != nil:
		return -1, nil, false
	case q.TS == "":
		return ord, ix, true
	}
	return ord, ix, q.Limit == 0 && ix.TTLLat == 0
}

// A batch is the queries of one table that ScanMany reads through index
// ord in one ReadRows, as the reads of the keys they ask for.
type batch struct {
	t     *table
	ord   int
	ix    *plan.Index
	reads []*keyRead
	// While reading: the reads of each key (by row-key prefix), the number
	// not done, and the decoding that failed, if one did.
	byPrefix map[string][]*keyRead
	active   int
	fail     *scan
}

// A keyRead is one key's rows that one or more queries of a batch ask
// for, read as readKey reads them: the live rows of [from, to], newest
// first, from the Bigtable rows [start, end), segments whose newest row is
// older than from aside.
type keyRead struct {
	prefix   string // the key's row-key prefix (table.keyPrefix)
	from, to int64
	asOf     int64 // the queries' eval.Query.AsOf
	whole    bool  // for queries without TS: every row of the key
	queries  []int // positions in ScanMany's qs
	// Set by begin:
	start, end string
	// cut is Read's column filter: a segment holds a row at or after from
	// when its qualifier sorts below cut ("": every segment does).
	cut  string
	sc   scan
	ks   keyScan
	seqs []uint64 // of a whole key's rows
	done bool     // no later row is kept
}

// add adds query i, q, to the batch; false (no error) when no stored row
// can match it.
func (b *batch) add(i int, q eval.Query) (bool, error) {
	prefix, ok, err := b.t.keyPrefix(nil, b.ord, b.ix, q.Keys, q.Values)
	if err != nil || !ok || q.TS != "" && q.From > q.To {
		return false, err
	}
	rd := &keyRead{prefix: string(prefix), whole: q.TS == "", from: math.MinInt64, to: math.MaxInt64, asOf: q.AsOf}
	if !rd.whole {
		rd.from, rd.to = q.From, q.To
	}
	k := slices.IndexFunc(b.reads, func(o *keyRead) bool {
		return o.prefix == rd.prefix && o.whole == rd.whole && o.from == rd.from && o.to == rd.to && o.asOf == rd.asOf
	})
	if k < 0 {
		k = len(b.reads)
		b.reads = append(b.reads, rd)
	}
	b.reads[k].queries = append(b.reads[k].queries, i)
	return true, nil
}

// begin readies rd to read the rows of its key through b's index at now:
// its Bigtable rows and column filter, as readKey's, and its block.
func (rd *keyRead) begin(b *batch, now time.Time) {
	prefix := []byte(rd.prefix)
	rd.start, rd.end = rd.prefix, prefixSuccessor(prefix)
	if !rd.whole {
		rd.start = string(appendDay(prefix[:len(prefix):len(prefix)], rd.to))
		rd.end = prefixSuccessor(appendDay(prefix[:len(prefix):len(prefix)], rd.from))
	}
	rd.cut = prefixSuccessor(appendTS(nil, rd.from))
	rd.sc = scan{t: b.t, out: types.NewBlock(b.t.def.Schema, 16)}
	if rd.whole {
		rd.sc.seqs = &rd.seqs
	}
	rd.ks = keyScan{sc: &rd.sc, ix: b.ix, now: now, from: rd.from, to: rd.to}
}

// readBatch reads the rows of every read of b in one ReadRows: the
// Bigtable rows of all of them (rowRanges), with the column filter of the
// read of the oldest from, each Bigtable row going to the reads whose
// rows it is (b.row).
func (s *Store) readBatch(ctx context.Context, b *batch) error {
	if len(b.reads) == 0 {
		return nil
	}
	b.byPrefix = make(map[string][]*keyRead, len(b.reads))
	oldest := int64(math.MaxInt64)
	for _, rd := range b.reads {
		rd.begin(b, storage.At(s.now, rd.asOf))
		b.byPrefix[rd.prefix] = append(b.byPrefix[rd.prefix], rd)
		oldest = min(oldest, rd.from)
	}
	b.active = len(b.reads)
	fam := b.t.families[b.ord]
	filter := bigtable.ColumnRangeFilter(fam, segmentsStart, prefixSuccessor(appendTS(nil, oldest)))
	var d daySegments
	cctx, cancel := s.call(ctx)
	defer cancel()
	err := b.t.bt.ReadRows(cctx, rowRanges(b.reads), func(row bigtable.Row) bool {
		d.reset(row, fam)
		return b.row(&d)
	}, bigtable.RowFilter(filter))
	switch {
	case b.fail != nil:
		return b.fail.failed(ctx, s)
	case err != nil:
		return s.readFailed(ctx, b.t, err)
	}
	return nil
}

// row gives the Bigtable row d to the reads whose rows it is; false once
// no read keeps a later row, or a decoding failed.
func (b *batch) row(d *daySegments) bool {
	if len(d.key) < 8 {
		return true // not a day row: in no read's rows
	}
	for _, rd := range b.byPrefix[d.key[:len(d.key)-8]] { // the key, without the day
		if rd.done || d.key < rd.start || d.key >= rd.end {
			continue
		}
		if !b.take(rd, d) {
			if b.fail != nil {
				return false
			}
			rd.done = true
			b.active--
		}
	}
	return b.active > 0
}

// take gives rd the rows of the Bigtable row d that readKey would read:
// those of the segments its filter keeps, merged. false once rd keeps no
// later row, or when a segment or row did not decode (b.fail set).
func (b *batch) take(rd *keyRead, d *daySegments) bool {
	rows, err := d.live(rd.cut)
	if err != nil {
		b.fail = &scan{t: b.t, err: err, key: d.key, qual: d.qual}
		return false
	}
	if len(rows) == 0 {
		return true // readKey does not receive the row
	}
	rd.sc.key = d.key
	if !rd.ks.add(rows) {
		if rd.sc.err != nil {
			b.fail = &rd.sc
		}
		return false
	}
	return true
}

// finish stores each query's rows in out, as Scan returns them: a time
// range oldest first (as Read returns it), a whole key in arrival order;
// every block a query's own.
func (b *batch) finish(qs []eval.Query, out []*types.Block) {
	for _, rd := range b.reads {
		if rd.whole {
			for _, i := range rd.queries {
				out[i] = inArrivalOrder(rd.sc.out, rd.seqs, qs[i])
			}
			continue
		}
		reverse(rd.sc.out)
		for k, i := range rd.queries {
			out[i] = rd.sc.out
			if k > 0 {
				out[i] = types.Concat(rd.sc.out) // a copy
			}
		}
	}
}

// rowRanges returns the Bigtable rows of the reads as one row set: their
// ranges sorted, those that overlap or meet merged, as Bigtable requires
// of a request's ranges. (No range is unbounded: row keys of an index
// start with its ordinal, below 0xFF.)
func rowRanges(reads []*keyRead) bigtable.RowRangeList {
	type span struct{ start, end string }
	spans := make([]span, len(reads))
	for i, rd := range reads {
		spans[i] = span{rd.start, rd.end}
	}
	slices.SortFunc(spans, func(a, b span) int { return strings.Compare(a.start, b.start) })
	var out bigtable.RowRangeList
	cur := spans[0]
	for _, sp := range spans[1:] {
		if sp.start <= cur.end {
			cur.end = max(cur.end, sp.end)
			continue
		}
		out = append(out, bigtable.NewRange(cur.start, cur.end))
		cur = sp
	}
	return append(out, bigtable.NewRange(cur.start, cur.end))
}

// daySegments holds the segments of the Bigtable row being read, which
// it decodes and merges as reads ask for them.
type daySegments struct {
	key  string
	segs []daySegment
	rows []stored // the rows of the segments decoded, one after the other
	// merged holds the rows of the segments below mergedCut, merged.
	merged    []stored
	mergedCut string
	hasMerged bool
	qual      string // the qualifier of a segment that did not decode
}

// daySegment is a segment cell; once decoded, its rows are rows[lo:hi].
type daySegment struct {
	qual    string
	val     []byte
	decoded bool
	lo, hi  int
}

// reset takes the segments of row in family fam: the latest cell of each
// segment qualifier, as scan takes them (the version cell and any other
// cell passed over).
func (d *daySegments) reset(row bigtable.Row, fam string) {
	d.key, d.segs, d.rows, d.hasMerged = row.Key(), d.segs[:0], d.rows[:0], false
	colStart := len(fam) + 1 // items name their column "family:qualifier"
	prev := ""
	for _, it := range row[fam] {
		if it.Column == prev {
			continue // an older cell of the column
		}
		prev = it.Column
		if len(it.Column)-colStart == qualifierLen {
			d.segs = append(d.segs, daySegment{qual: it.Column[colStart:], val: it.Value})
		}
	}
}

// live returns the rows of the segments whose qualifier sorts below cut
// (all of them when cut is ""), merged as scan merges a Bigtable row's
// segments: newest first, the latest copy of each sequence number. The
// rows are valid until the next call with another cut.
func (d *daySegments) live(cut string) ([]stored, error) {
	if d.hasMerged && cut == d.mergedCut {
		return d.merged, nil
	}
	d.merged = d.merged[:0]
	n := 0
	for i := range d.segs {
		sg := &d.segs[i]
		if cut != "" && sg.qual >= cut {
			continue
		}
		if !sg.decoded {
			lo := len(d.rows)
			var err error
			if d.rows, err = appendSegmentRows(d.rows, sg.val); err != nil {
				d.rows, d.qual = d.rows[:lo], sg.qual
				return nil, err
			}
			sg.decoded, sg.lo, sg.hi = true, lo, len(d.rows)
		}
		d.merged = append(d.merged, d.rows[sg.lo:sg.hi]...)
		n++
	}
	d.merged, d.mergedCut, d.hasMerged = mergeSegments(d.merged, n == 1), cut, true
	return d.merged, nil
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
