package bigtable

import (
	"context"
	"sync"
	"sync/atomic"

	"cloud.google.com/go/bigtable"
)

// Compaction (see docs/storage-format.md, "Compaction"): a day row written
// a row at a time (online ingestion, a replay) holds a segment per write,
// and every read of it pays for every cell. When a read meets a day row of
// CompactAt segments or more, the row is queued, and a goroutine of the
// Store rewrites it: it reads the row's version and segments, merges them
// as reads do (the latest copy of each sequence number), and in one
// conditional single-row mutation, applied only if the version cell still
// holds the value read, writes the merged rows as segments (cut at
// maxSegmentBytes, as Write cuts them) and deletes the old ones. A write
// between the read and the mutation changes the version, so the mutation
// is not applied and nothing written is lost; a later read queues the row
// again. The version is left as it is: the row holds the same rows, so
// tiles built from it (whose tokens hash versions) stay valid.
const (
	// DefaultCompactAt is the number of segments in a day row at which a
	// read queues it for compaction, when Config.CompactAt is zero.
	DefaultCompactAt = 8
	// maxCompactBytes bounds the segments compacted in one mutation; a
	// larger day row is left as it is.
	maxCompactBytes = 16 << 20
	// compactQueue bounds the rows waiting; a row met when it is full is
	// left for a later read to queue.
	compactQueue = 1024
)

// CompactStats counts what compaction did since the Store opened.
type CompactStats struct {
	Queued    int64 // day rows queued by reads
	Compacted int64 // day rows rewritten
	Segments  int64 // segments those rows held before
	Conflicts int64 // rewrites not applied: the row was written meanwhile
	Skipped   int64 // rows left as they were (nothing to gain, too large, no version)
	Failed    int64 // calls that failed (logged)
}

// compactRef names a day row of one index (its family) of a table.
type compactRef struct {
	t   *table
	fam string
	key string
}

// compactor queues and rewrites day rows for a Store.
type compactor struct {
	s       *Store
	at      int // segments that queue a row; 0: off
	start   sync.Once
	queue   chan compactRef
	stop    chan struct{}
	stopped sync.Once
	done    sync.WaitGroup
	// beforeApply, when set (tests), runs between reading a row and
	// applying its rewrite.
	beforeApply func()

	mu      sync.Mutex
	pending map[compactRef]bool // queued or being rewritten

	queued, compacted, segments, conflicts, skipped, failed atomic.Int64
}

func newCompactor(s *Store, at int) *compactor {
	if at == 0 {
		at = DefaultCompactAt
	}
	return &compactor{s: s, at: max(at, 0), stop: make(chan struct{}), pending: map[compactRef]bool{}}
}

// met is called by scans with a day row of family fam and the number of
// segments they read of it.
func (c *compactor) met(t *table, fam, key string, segments int) {
	if c.at == 0 || segments < c.at || segments < 2 {
		return
	}
	ref := compactRef{t: t, fam: fam, key: key}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending[ref] {
		return
	}
	c.start.Do(func() {
		c.queue = make(chan compactRef, compactQueue)
		c.done.Add(1)
		go c.run()
	})
	select {
	case c.queue <- ref:
		c.pending[ref] = true
		c.queued.Add(1)
	default: // full: a later read queues it again
	}
}

// run rewrites queued rows until close.
func (c *compactor) run() {
	defer c.done.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-c.stop; cancel() }()
	for {
		select {
		case <-c.stop:
			return
		case ref := <-c.queue:
			if err := c.s.compactRow(ctx, ref.t, ref.fam, ref.key, c); err != nil && ctx.Err() == nil {
				c.failed.Add(1)
				c.s.log.Warn("bigtable: compacting a day row", "table", ref.t.def.Name, "row", ref.key, "error", err)
			}
			c.mu.Lock()
			delete(c.pending, ref)
			c.mu.Unlock()
		}
	}
}

// close stops the goroutine, leaving queued rows as they are.
func (c *compactor) close() {
	c.stopped.Do(func() { close(c.stop) })
	c.done.Wait()
}

// idle reports whether no row is queued or being rewritten.
func (c *compactor) idle() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending) == 0
}

func (c *compactor) stats() CompactStats {
	return CompactStats{
		Queued: c.queued.Load(), Compacted: c.compacted.Load(), Segments: c.segments.Load(),
		Conflicts: c.conflicts.Load(), Skipped: c.skipped.Load(), Failed: c.failed.Load(),
	}
}

// CompactStats returns what compaction did since the Store opened.
func (s *Store) CompactStats() CompactStats { return s.compact.stats() }

// compactRow rewrites day row key of family fam of t as described above,
// counting the outcome in c.
func (s *Store) compactRow(ctx context.Context, t *table, fam, key string, c *compactor) error {
	cctx, cancel := s.call(ctx)
	row, err := t.bt.ReadRow(cctx, key, bigtable.RowFilter(bigtable.ChainFilters(
		bigtable.FamilyFilter(fam), bigtable.LatestNFilter(1))))
	cancel()
	if err != nil {
		return s.readFailed(ctx, t, err)
	}
	colStart := len(fam) + 1
	var (
		version []byte
		quals   []string
		rows    []stored
		size    int
	)
	for _, it := range row[fam] {
		switch len(it.Column) - colStart {
		case len(versionQualifier):
			version = it.Value
		case qualifierLen:
			if rows, err = appendSegmentRows(rows, it.Value); err != nil {
				return err
			}
			quals = append(quals, it.Column[colStart:])
			size += len(it.Value)
		}
	}
	if len(version) != versionLen || len(quals) < 2 || size > maxCompactBytes {
		c.skipped.Add(1)
		return nil
	}
	merged := mergeSegments(rows, false)
	var stamp uint64
	vals := &encodedRows{off: make([]int, 1, len(merged)+1)}
	ps := make([]placed, len(merged))
	for i, r := range merged {
		stamp = max(stamp, r.stamp)
		vals.buf = append(vals.buf, r.val...)
		vals.off = append(vals.off, len(vals.buf))
		ps[i] = placed{row: i, ts: r.ts, seq: r.seq}
	}
	segs := splitSegments(ps, vals)
	if len(segs) >= len(quals) {
		c.skipped.Add(1)
		return nil
	}
	m := bigtable.NewMutation()
	kept := make(map[string]bool, len(segs))
	for _, seg := range segs {
		q := string(appendSegmentQualifier(nil, seg))
		kept[q] = true
		m.Set(fam, q, cellTime(seg[0].ts), appendSegment(nil, stamp, seg, vals))
	}
	for _, q := range quals {
		if !kept[q] {
			m.DeleteCellsInColumn(fam, q)
		}
	}
	if c.beforeApply != nil {
		c.beforeApply()
	}
	// Applied only while the version cell holds the value read.
	unchanged := bigtable.ChainFilters(
		bigtable.ColumnRangeFilter(fam, versionQualifier, segmentsStart),
		bigtable.ValueRangeFilter(version, append(version[:len(version):len(version)], 0)))
	var applied bool
	cctx, cancel = s.call(ctx)
	err = t.bt.Apply(cctx, key, bigtable.NewCondMutation(unchanged, m, nil), bigtable.GetCondMutationResult(&applied))
	cancel()
	switch {
	case err != nil:
		return s.fail(ctx, s.addr, err, "compacting a day row of %s", t.def.Name)
	case !applied:
		c.conflicts.Add(1)
	default:
		c.compacted.Add(1)
		c.segments.Add(int64(len(quals)))
	}
	return nil
}
