package dataflow

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strconv"
	"sync"
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
// (prism, or any runner in LOOPBACK mode), for live progress reports, and
// the tiles materialize stored. Runs on other workers report through Beam
// metrics only.
var Progress progress

type progress struct {
	Read, Bad, Written, Tiles atomic.Int64
	// MaxEvaluated is the most FROM-table rows one evaluation of a
	// backfill held.
	MaxEvaluated atomic.Int64
}

// noteEvaluated records an evaluation of n FROM-table rows.
func (p *progress) noteEvaluated(n int64) {
	for {
		m := p.MaxEvaluated.Load()
		if n <= m || p.MaxEvaluated.CompareAndSwap(m, n) {
			return
		}
	}
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

// readFn parses files into blocks and emits them as chunks keyed by
// bucket. The rows of a table every bucket reads whole (a LAST JOIN that
// cannot be keyed) go instead to a file beside the output, whose name
// (a wholeRef) goes to every bucket: a side input would do, but prism
// polls for as long as a stage that reads one runs.
type readFn struct {
	// Zone is the time zone of the process that built the pipeline
	// (types.ZoneName), set on the worker in Setup.
	Zone    string
	Names   []string
	Schemas []types.Schema
	Routes  []route
	Buckets int
	BadRows BadRows
	// Whole is the prefix of the files of tables read whole.
	Whole string
	// Wave and Waves: when Waves is more than 1, only the wave's rows are
	// emitted: those of the buckets b with b % Waves == Wave (a
	// backfill's wave, see Wave), or, with KeyWaves, those whose key puts
	// them in the wave (bucket.Hasher.Place) and the blocks of spread
	// tables whose position, (file + block) % Waves, does (a materialize's
	// wave, see MaterializeJob.Wave). Every wave reads every row, so only
	// wave 0 counts the rows of tables read whole, and the bad rows it
	// skips.
	Wave, Waves int
	KeyWaves    bool
	// Splits are the FROM table's keys evaluated in parts (SplitKeys):
	// their rows go to the parts' buckets, Buckets and up, by TS, the
	// FROM table's order column (Table); their rows of other keyed
	// tables go to every part.
	Splits []KeySplit
	Table  int
	TS     int

	// Run identifies the backfill's run: a failure here keeps its writer
	// from publishing an output (failedRuns).
	Run string

	census *census // set to count keys instead (SplitKeys)
}

// allBuckets is the number of buckets: the hashed ones and the parts of
// split keys.
func (f *readFn) allBuckets() int { return f.Buckets + partCount(f.Splits) }

// inWave reports whether bucket b is one of the wave's: any bucket, when
// waves split keys rather than buckets.
func (f *readFn) inWave(b int) bool { return f.Waves <= 1 || f.KeyWaves || b%f.Waves == f.Wave }

// keyWaves returns the number of waves that split keys (or blocks of
// spread tables), and the wave: 1 and 0 when waves split buckets.
func (f *readFn) keyWaves() (waves, wave int) {
	if !f.KeyWaves || f.Waves <= 1 {
		return 1, 0
	}
	return f.Waves, f.Wave
}

// Sizes: rows parsed per block (a file read sequentially), bytes of CSV
// per piece (a file parsed concurrently), and the bytes of chunks
// gathered per element before it is emitted.
const (
	blockRows  = 16384
	pieceBytes = 1 << 20
	flushBytes = 1 << 20
)

// Setup sets the worker's time zone: timestamp text without an offset is
// read in it.
func (f *readFn) Setup() error { return types.SetZone(f.Zone) }

// ProcessElement records its error as the pipeline's failure (see Run).
func (f *readFn) ProcessElement(ctx context.Context, t fileTask, emit func(int, []byte)) error {
	active.add()
	defer active.done()
	return failRun(f.Run, f.process(ctx, t, emit))
}

func (f *readFn) process(ctx context.Context, t fileTask, emit func(int, []byte)) error {
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
	e := newEmitter(f, t, emit)
	if csv, ok := r.(*datafile.Reader); ok && format == datafile.CSV {
		sp, err := csv.Split(pieceBytes)
		if err != nil {
			return err
		}
		if err := e.runPieces(ctx, sp); err != nil {
			return err
		}
		r = nil
		if rest := sp.Rest(); rest != nil {
			r = rest
		}
	}
	if r != nil {
		if err := e.run(ctx, r); err != nil {
			return err
		}
	}
	return e.finish(ctx)
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
	emit    func(int, []byte)
	pending [][]byte // per bucket (or [0] for a whole table): framed chunks
	blocks  int      // blocks routed, for spreading them
	rows    int      // rows routed to the wave's buckets (all of a table read whole)
	router  *router  // of the sequential path
	route   [][]byte // the router's output
}

func newEmitter(f *readFn, t fileTask, emit func(int, []byte)) *emitter {
	e := &emitter{fn: f, t: t, emit: emit, pending: make([][]byte, f.allBuckets())}
	e.router = e.newRouter()
	e.route = make([][]byte, len(e.pending))
	return e
}

// run reads the rest of r sequentially, a block at a time.
func (e *emitter) run(ctx context.Context, r datafile.RowReader) error {
	blk := types.NewBlock(e.fn.Schemas[e.t.Table], blockRows)
	var lines []int64
	var seqs []uint64
	for {
		_, err := r.Next(blk, &lines, blockRows-blk.Len)
		var rowErr *datafile.RowError
		switch {
		case errors.As(err, &rowErr):
			if err := e.bad(ctx, rowErr); err != nil {
				return err
			}
			continue
		case err != nil && err != io.EOF:
			return err
		}
		if err := ctx.Err(); err != nil { // a failed or interrupted run: stop early
			return err
		}
		if blk.Len == blockRows || (err == io.EOF && blk.Len > 0) {
			seqs = e.router.seqs(seqs[:0], lines)
			kept := e.router.frames(blk, seqs, e.blocks, e.route)
			e.add(ctx, kept, e.route)
			blk.Reset()
			lines = lines[:0]
		}
		if err == io.EOF {
			return nil
		}
	}
}

// bad handles a bad row by the policy: it fails, or counts and logs it
// (in wave 0 only: the later waves read the same rows again).
func (e *emitter) bad(ctx context.Context, rowErr *datafile.RowError) error {
	if e.fn.BadRows == FailOnBadRows {
		return rowErr
	}
	if e.fn.Wave > 0 {
		return nil
	}
	badRows.Inc(ctx, 1)
	Progress.Bad.Add(1)
	log.Warnf(ctx, "skipping bad row: %v", rowErr)
	return nil
}

// add takes a routed block of rows (rows of them routed to the wave's
// buckets): its framed chunks per bucket, which it appends to the
// buckets' pending elements, emitting those large enough. It empties
// frames.
func (e *emitter) add(ctx context.Context, rows int, frames [][]byte) {
	whole := e.fn.Routes[e.t.Table].Kind == bucket.Whole
	for b, fr := range frames {
		if len(fr) == 0 {
			continue
		}
		if e.pending[b] == nil { // room for several pieces' chunks, not more than an element's
			e.pending[b] = make([]byte, 0, min(flushBytes, 16*len(fr))+len(fr))
		}
		e.pending[b] = append(e.pending[b], fr...)
		frames[b] = fr[:0]
		if len(e.pending[b]) >= flushBytes && !whole {
			e.emit(b, e.pending[b])
			e.pending[b] = nil // emitted elements are not reused
		}
	}
	e.blocks++
	e.rows += rows
	if !whole || e.fn.Wave == 0 {
		rowsRead.Inc(ctx, int64(rows))
		Progress.Read.Add(int64(rows))
	}
}

// finish emits the pending chunks; a table read whole goes to its file,
// whose name goes to every bucket.
func (e *emitter) finish(ctx context.Context) error {
	if e.fn.Routes[e.t.Table].Kind != bucket.Whole {
		for b, p := range e.pending {
			if len(p) > 0 {
				e.emit(b, p)
			}
		}
		return nil
	}
	if e.rows == 0 {
		return nil
	}
	name := e.fn.Whole + "whole-" + strconv.Itoa(e.t.Table) + "-" + strconv.Itoa(e.t.File)
	if err := writeAtomic(ctx, name, e.pending[0]); err != nil {
		return fmt.Errorf("reading table %s: %w", e.fn.Names[e.t.Table], err)
	}
	for b := range e.fn.allBuckets() {
		if e.fn.inWave(b) {
			e.emit(b, wholeRef(name))
		}
	}
	return nil
}

// wholeRef is the element that names the file of a table read whole: a
// zero byte (an element of chunks never starts with an empty frame), then
// the name.
func wholeRef(name string) []byte { return append([]byte{0}, name...) }

// isWholeRef reports whether an element is a wholeRef, and its name.
func isWholeRef(elem []byte) (string, bool) {
	if len(elem) == 0 || elem[0] != 0 {
		return "", false
	}
	return string(elem[1:]), true
}

// router routes the rows of a file's blocks to buckets, as framed chunks,
// keeping those of the wave's buckets, or of its keys. A router is used
// by one goroutine at a time.
type router struct {
	table, file, buckets int
	inWave               func(b int) bool
	waves, wave          int // of waves that split keys (1 and 0: none)
	route                route
	hasher               *bucket.Hasher
	idx                  [][]int32
	scratch              []byte
	// splits, of the keys evaluated in parts; ts is the order column
	// when the table is the FROM table, else -1 (rows go to every part).
	splits *splitTable
	ts     int
	parts  []int
	census *census
	hashes []uint64
}

func (e *emitter) newRouter() *router {
	rt := e.fn.Routes[e.t.Table]
	r := &router{table: e.t.Table, file: e.t.File, buckets: e.fn.Buckets, inWave: e.fn.inWave, route: rt}
	r.waves, r.wave = e.fn.keyWaves()
	if rt.Kind == bucket.Keyed {
		r.hasher = bucket.NewHasher(rt.Cols, e.fn.Buckets)
		r.idx = make([][]int32, e.fn.allBuckets())
		r.splits, r.ts, r.census = newSplitTable(e.fn.Splits, e.fn.Buckets), -1, e.fn.census
		if e.t.Table == e.fn.Table {
			r.ts = e.fn.TS
		}
	}
	return r
}

// seqs appends the sequence numbers of rows that start on lines to dst.
func (r *router) seqs(dst []uint64, lines []int64) []uint64 {
	for _, l := range lines {
		dst = append(dst, seqOf(r.file, l))
	}
	return dst
}

// frames appends the wave's rows of blk, the file's block number block,
// to out[b], as a framed chunk per bucket b that has some (out[0] for a
// table read whole, all of whose rows it keeps). It returns the number
// of rows kept.
func (r *router) frames(blk *types.Block, seqs []uint64, block int, out [][]byte) (kept int) {
	switch r.route.Kind {
	case bucket.Whole:
		out[0] = r.frame(out[0], blk, nil, seqs)
		return blk.Len
	case bucket.Spread:
		if b := (r.file + block) % r.buckets; r.inWave(b) && (r.file+block)%r.waves == r.wave {
			out[b] = r.frame(out[b], blk, nil, seqs)
			return blk.Len
		}
	case bucket.Keyed:
		if r.census != nil {
			r.count(blk)
			return 0
		}
		for b := range r.idx {
			r.idx[b] = r.idx[b][:0]
		}
		kept = 0
		for i := 0; i < blk.Len; i++ {
			x := r.hasher.Hash(blk, i)
			if r.splits != nil {
				if s := r.splits.byHash[x]; s != nil {
					kept += r.split(s, blk, i)
					continue
				}
			}
			if b, w := r.hasher.PlaceHash(x, r.waves); w == r.wave {
				r.idx[b] = append(r.idx[b], int32(i))
				if r.inWave(b) {
					kept++
				}
			}
		}
		for b, rows := range r.idx {
			if len(rows) > 0 && r.inWave(b) {
				out[b] = r.frame(out[b], blk, rows, seqs)
			}
		}
	}
	return kept
}

// split routes row i of blk, of a key evaluated in parts (s), to its
// parts, and returns 1 when the first, the part that owns it (part 0,
// for a table other than the FROM table), is in the wave, else 0, so
// that a row is counted once over the waves.
func (r *router) split(s *KeySplit, blk *types.Block, i int) int {
	r.parts = r.parts[:0]
	if r.ts >= 0 {
		ts := int64(math.MinInt64)
		if !blk.Cols[r.ts].IsNull(i) {
			ts = blk.Cols[r.ts].I[i]
		}
		r.parts = s.appendParts(r.parts, ts)
	} else {
		for j := range s.parts() {
			r.parts = append(r.parts, s.First+j)
		}
	}
	for _, b := range r.parts {
		r.idx[b] = append(r.idx[b], int32(i))
	}
	if r.inWave(r.parts[0]) {
		return 1
	}
	return 0
}

// count adds the keys of blk's rows to the census.
func (r *router) count(blk *types.Block) {
	r.hashes = r.hashes[:0]
	for i := 0; i < blk.Len; i++ {
		r.hashes = append(r.hashes, r.hasher.Hash(blk, i))
	}
	r.census.add(blk, r.hashes)
}

// frame appends the rows idx of blk (nil: all) as a framed chunk to dst.
func (r *router) frame(dst []byte, blk *types.Block, idx []int32, seqs []uint64) []byte {
	r.scratch = wire.Append(r.scratch[:0], r.table, blk, idx, seqs)
	return wire.AppendFrame(dst, r.scratch)
}

// piece is the parsed, routed rows of one piece of a file.
type piece struct {
	frames [][]byte             // per bucket
	rows   int                  // rows kept (see router.frames)
	bad    []*datafile.RowError // rows skipped, in order
	err    error                // what stopped the piece: the file fails
	done   chan struct{}        // closed when the fields above are set
}

// runPieces reads the pieces of a CSV file: up to GOMAXPROCS pieces are
// parsed and routed concurrently, and added in order.
func (e *emitter) runPieces(ctx context.Context, sp *datafile.Splitter) error {
	workers := max(runtime.GOMAXPROCS(0), 1)
	var wg sync.WaitGroup
	defer wg.Wait() // after cancel
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pieces := make(chan *piece, workers)
	slots := make(chan *router, workers) // a router (and its scratch) per running worker
	for range workers {
		slots <- e.newRouter()
	}
	blocks := make(chan *types.Block, workers)
	wg.Go(func() {
		defer close(pieces)
		for n := 0; ; n++ {
			pr, err := sp.Next()
			if err == io.EOF {
				return
			}
			p := &piece{done: make(chan struct{})}
			if err != nil {
				p.err = err
				close(p.done)
				select {
				case pieces <- p:
				case <-ctx.Done():
				}
				return
			}
			var rt *router
			select {
			case rt = <-slots:
			case <-ctx.Done():
				return
			}
			select {
			case pieces <- p:
			case <-ctx.Done():
				return
			}
			wg.Go(func() {
				defer func() { slots <- rt }()
				e.parse(pr, n, rt, blocks, p)
				close(p.done)
			})
		}
	})
	for p := range pieces {
		<-p.done
		for _, rowErr := range p.bad {
			if err := e.bad(ctx, rowErr); err != nil {
				return err
			}
		}
		// Every piece counts as a block, whatever rows it keeps, so that
		// the blocks after the pieces spread the same in every wave; and
		// a piece keeps frames even when it counts no row (the context
		// rows of a key's part, whose own rows are in other waves).
		e.add(ctx, p.rows, p.frames)
		if p.err != nil {
			return p.err
		}
	}
	return nil
}

// parse reads the rows of one piece, number n, into p, routed by rt; it
// takes a block from blocks (or makes one) and puts it back after.
func (e *emitter) parse(r *datafile.Reader, n int, rt *router, blocks chan *types.Block, p *piece) {
	var blk *types.Block
	select {
	case blk = <-blocks:
	default:
		blk = types.NewBlock(e.fn.Schemas[e.t.Table], blockRows)
	}
	defer func() {
		blk.Reset()
		select {
		case blocks <- blk:
		default:
		}
	}()
	var lines []int64
	for {
		_, err := r.Next(blk, &lines, math.MaxInt)
		var rowErr *datafile.RowError
		if errors.As(err, &rowErr) {
			p.bad = append(p.bad, rowErr)
			if e.fn.BadRows == FailOnBadRows {
				break
			}
			continue
		}
		if err != nil && err != io.EOF {
			p.err = err
		}
		break
	}
	if blk.Len == 0 {
		return
	}
	p.frames = make([][]byte, len(e.pending))
	p.rows = rt.frames(blk, rt.seqs(nil, lines), n, p.frames)
}
