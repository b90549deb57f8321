package dataflow

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"

	"github.com/fenestra-dev/fenestra/dataflow/bucket"
	"github.com/fenestra-dev/fenestra/dataflow/internal/wire"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/datafile"
)

// Input is one data file of a table: CSV (.csv), JSON Lines (.jsonl,
// .ndjson, .json) or Parquet (.parquet), on any file system Beam knows (a
// local path, gs://...). A table may have several files; their order is
// the rows' arrival order.
type Input struct {
	Table string
	Path  string
	// CSV is the dialect of a CSV file (the zero value: a header row,
	// commas, NULL an empty unquoted field); other formats ignore it.
	CSV datafile.CSVOptions
}

// BadRows says what a pipeline does with a malformed data row.
type BadRows int

// The bad-row policies.
const (
	// FailOnBadRows stops the pipeline with the row's file and line.
	FailOnBadRows BadRows = iota
	// SkipBadRows skips the row, logs it and counts it (the bad_rows
	// counter).
	SkipBadRows
)

// seqOf is the arrival sequence number of the row that starts on line of
// a table's file number file (for Parquet, line is the row's number in the
// file).
func seqOf(file int, line int64) uint64 { return uint64(file)<<40 | uint64(line) }

// Counters, as Beam metrics of namespace "fenestra"; Progress has the same
// counts for pipelines that run in this process.
var (
	rowsRead    = beam.NewCounter("fenestra", "rows_read")
	badRows     = beam.NewCounter("fenestra", "bad_rows")
	rowsWritten = beam.NewCounter("fenestra", "rows_written")
	// tilesWritten counts the tiles materialize stored.
	tilesWritten = beam.NewCounter("fenestra", "tiles_written")
)

// Progress counts the rows of pipelines whose workers run in this process
// (prism, or any runner in LOOPBACK mode), for live progress reports. Runs
// on other workers report through Beam metrics only.
var Progress struct {
	Read, Bad, Written atomic.Int64
}

// fileTask is one file to read: the element of the read stage.
type fileTask struct {
	Table int // index into the job's tables
	File  int // position among the table's files
	Path  string
	CSV   datafile.CSVOptions // the dialect of a CSV file
}

// route is how a table's rows go to buckets: a bucket.Route, serialized.
type route struct {
	Kind bucket.Kind
	Cols []int
}

// readFn parses files into blocks and emits them as chunks: keyed by
// bucket, or (tables every bucket reads whole) on the second output.
type readFn struct {
	// Zone is the time zone of the process that built the pipeline
	// (types.ZoneName), set on the worker in Setup.
	Zone    string
	Names   []string
	Schemas []types.Schema
	Routes  []route
	Buckets int
	BadRows BadRows
}

// Sizes: rows parsed per block, and the bytes of chunks gathered per
// element before it is emitted.
const (
	blockRows  = 16384
	flushBytes = 1 << 20
)

// Setup sets the worker's time zone: timestamp text without an offset is
// read in it.
func (f *readFn) Setup() error { return types.SetZone(f.Zone) }

// ProcessElement records its error as the pipeline's failure (see Run).
func (f *readFn) ProcessElement(ctx context.Context, t fileTask, keyed func(int, []byte), whole func([]byte)) error {
	return fail(f.process(ctx, t, keyed, whole))
}

func (f *readFn) process(ctx context.Context, t fileTask, keyed func(int, []byte), whole func([]byte)) error {
	fs, err := filesystem.New(ctx, t.Path)
	if err != nil {
		return err
	}
	defer fs.Close()
	rc, err := fs.OpenRead(ctx, t.Path)
	if err != nil {
		return fmt.Errorf("reading table %s: %w", f.Names[t.Table], err)
	}
	defer rc.Close()
	format, err := datafile.FormatOf(t.Path)
	if err != nil {
		return err
	}
	var src io.Reader
	if format == datafile.Parquet {
		ra, done, err := randomAccess(rc)
		if err != nil {
			return fmt.Errorf("reading table %s: %s: %w", f.Names[t.Table], t.Path, err)
		}
		defer done()
		src = ra
	} else {
		src = bufio.NewReaderSize(rc, 1<<20)
	}
	r, err := datafile.OpenOptions(src, t.Path, format, f.Schemas[t.Table], t.CSV)
	if err != nil {
		return err
	}
	e := &emitter{fn: f, t: t, keyed: keyed, whole: whole, pending: make([][]byte, f.Buckets)}
	return e.run(ctx, r)
}

// randomAccess returns the opened file rc as a reader that Parquet can
// read: rc itself when it is an io.ReaderAt of known size (a local file),
// else a copy in a temporary file, which done removes (an object store's
// reader, gs://, is a stream; Parquet reads its footer first). The copy
// takes the file's size on the worker's local disk for as long as the
// file is read.
func randomAccess(rc io.Reader) (r io.Reader, done func(), err error) {
	if _, _, ok := datafile.ReaderAt(rc); ok {
		return rc, func() {}, nil
	}
	tmp, err := os.CreateTemp("", "fenestra-*.parquet")
	if err != nil {
		return nil, nil, err
	}
	done = func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}
	if _, err := io.Copy(tmp, rc); err != nil {
		done()
		return nil, nil, fmt.Errorf("copying to a temporary file: %w", err)
	}
	return tmp, done, nil
}

// emitter routes the blocks of one file and emits them in chunks.
type emitter struct {
	fn      *readFn
	t       fileTask
	keyed   func(int, []byte)
	whole   func([]byte)
	pending [][]byte // per bucket (or [0] for whole tables): framed chunks
	blocks  int
	scratch []byte
	hasher  *bucket.Hasher
}

func (e *emitter) run(ctx context.Context, r datafile.RowReader) error {
	schema := e.fn.Schemas[e.t.Table]
	rt := e.fn.Routes[e.t.Table]
	if rt.Kind == bucket.Keyed {
		e.hasher = bucket.NewHasher(rt.Cols, e.fn.Buckets)
	}
	blk := types.NewBlock(schema, blockRows)
	var lines []int64
	seqs := make([]uint64, 0, blockRows)
	for {
		_, err := r.Next(blk, &lines, blockRows-blk.Len)
		var rowErr *datafile.RowError
		switch {
		case errors.As(err, &rowErr):
			if e.fn.BadRows == FailOnBadRows {
				return rowErr
			}
			badRows.Inc(ctx, 1)
			Progress.Bad.Add(1)
			log.Warnf(ctx, "skipping bad row: %v", rowErr)
			continue
		case err != nil && err != io.EOF:
			return err
		}
		if blk.Len == blockRows || (err == io.EOF && blk.Len > 0) {
			seqs = seqs[:0]
			for _, l := range lines {
				seqs = append(seqs, seqOf(e.t.File, l))
			}
			e.route(blk, seqs)
			rowsRead.Inc(ctx, int64(blk.Len))
			Progress.Read.Add(int64(blk.Len))
			blk.Reset()
			lines = lines[:0]
		}
		if err == io.EOF {
			e.flushAll()
			return nil
		}
	}
}

// route sends the rows of blk to their buckets.
func (e *emitter) route(blk *types.Block, seqs []uint64) {
	rt := e.fn.Routes[e.t.Table]
	switch rt.Kind {
	case bucket.Whole:
		e.add(0, blk, nil, seqs)
	case bucket.Spread:
		e.add((e.t.File+e.blocks)%e.fn.Buckets, blk, nil, seqs)
	case bucket.Keyed:
		idx := make([][]int32, e.fn.Buckets)
		for i := 0; i < blk.Len; i++ {
			b := e.hasher.Bucket(blk, i)
			idx[b] = append(idx[b], int32(i))
		}
		for b, rows := range idx {
			if len(rows) > 0 {
				e.add(b, blk, rows, seqs)
			}
		}
	}
	e.blocks++
}

// add appends the rows of blk (idx; nil for all) as a chunk to bucket b's
// pending element, emitting it once it is large enough.
func (e *emitter) add(b int, blk *types.Block, idx []int32, seqs []uint64) {
	e.scratch = wire.Append(e.scratch[:0], e.t.Table, blk, idx, seqs)
	e.pending[b] = wire.AppendFrame(e.pending[b], e.scratch)
	if len(e.pending[b]) >= flushBytes {
		e.flush(b)
	}
}

func (e *emitter) flush(b int) {
	if len(e.pending[b]) == 0 {
		return
	}
	if e.fn.Routes[e.t.Table].Kind == bucket.Whole {
		e.whole(e.pending[b])
	} else {
		e.keyed(b, e.pending[b])
	}
	e.pending[b] = nil // emitted elements are not reused
}

func (e *emitter) flushAll() {
	for b := range e.pending {
		e.flush(b)
	}
}
