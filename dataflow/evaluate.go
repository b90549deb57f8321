package dataflow

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"

	"github.com/fenestra-dev/fenestra/dataflow/internal/wire"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/datafile"
)

// evalFn evaluates one bucket: it puts the bucket's chunks back in arrival
// order, adds the tables read whole, runs the batch evaluator once and
// writes the output rows, encoded, to a part file as a run of records in
// arrival order. It emits the part's name, keyed for the writer.
//
// A runner may hand an instance all its buckets in one bundle (prism
// does), so an instance evaluates up to GOMAXPROCS buckets of a bundle
// concurrently: ProcessElement takes the bucket's chunks, emits the name
// of its part (known in advance) and leaves the evaluation to a goroutine;
// FinishBundle waits for them all and fails the bundle if one failed, so
// that the runner keeps no name of a part that was not written.
type evalFn struct {
	// Zone is the time zone of the process that built the pipeline
	// (types.ZoneName), set on the worker in Setup.
	Zone     string
	Plan     []byte // plan JSON
	Names    []string
	Schemas  []types.Schema
	ReqTable int
	Format   datafile.Format
	CSV      datafile.CSVOptions // the dialect of a CSV output
	Parts    string              // part b is Parts + b
	// Buckets is the number of hashed buckets; buckets from Buckets up
	// are the parts of the keys Splits evaluates in parts, which keep
	// the output rows of the FROM-table rows they own by their order
	// value, column TS.
	Buckets int
	Splits  []KeySplit
	TS      int
	Run     string // the run, as readFn's

	// A DoFn instance processes one element at a time; its evaluations
	// share only the evaluator and the encoder (safe for concurrent use)
	// and the whole tables (read only).
	ev       *eval.Evaluator
	splits   *splitTable
	enc      *datafile.RowEncoder    // CSV and JSON Lines outputs
	whole    map[string]*types.Block // the tables read whole
	wholeKey string                  // the files they were read from
	work     *bundleWork             // the bundle's evaluations
}

func (f *evalFn) Setup() error {
	if err := types.SetZone(f.Zone); err != nil {
		return err
	}
	p, err := plan.Unmarshal(f.Plan)
	if err != nil {
		return err
	}
	if f.Format != datafile.Parquet {
		if f.enc, err = datafile.NewRowEncoder(f.Format, f.CSV); err != nil {
			return err
		}
	}
	f.splits = newSplitTable(f.Splits, f.Buckets)
	f.ev, err = eval.New(p)
	return err
}

// StartBundle readies the bundle's evaluations. (Beam wants the emitter
// of ProcessElement in the signature.)
func (f *evalFn) StartBundle(ctx context.Context, _ func(int, []byte)) {
	f.work = newBundleWork(ctx, runtime.GOMAXPROCS(0))
}

// ProcessElement records its error as the pipeline's failure (see Run).
func (f *evalFn) ProcessElement(ctx context.Context, b int, chunks func(*[]byte) bool, emit func(int, []byte)) error {
	return failRun(f.Run, f.process(ctx, b, chunks, emit))
}

// FinishBundle waits for the bundle's evaluations and returns the first
// error of one (recorded as the pipeline's failure, see Run).
func (f *evalFn) FinishBundle(_ context.Context, _ func(int, []byte)) error {
	return failRun(f.Run, f.work.wait())
}

// process takes bucket b's chunks and starts its evaluation, after
// reading the files of the tables read whole (once per instance). It
// emits the part's name, and the whole tables' files, which the writer
// removes.
func (f *evalFn) process(ctx context.Context, b int, elems func(*[]byte) bool, emit func(int, []byte)) error {
	if err := f.work.err(); err != nil {
		return err
	}
	var chunks [][]byte
	var wholeFiles []string
	var data []byte
	for elems(&data) {
		if name, ok := isWholeRef(data); ok {
			wholeFiles = append(wholeFiles, name)
		} else {
			chunks = append(chunks, data)
		}
	}
	if err := f.readWhole(ctx, wholeFiles); err != nil {
		return err
	}
	part, whole := f.Parts+strconv.Itoa(b), f.whole
	f.work.do(func(ctx context.Context) error { return f.evaluate(ctx, b, chunks, whole, part) })
	emit(0, []byte(part))
	for _, name := range wholeFiles {
		emit(0, wholeRef(name))
	}
	return nil
}

// readWhole decodes the tables read whole from their files, unless it has
// decoded these files already.
func (f *evalFn) readWhole(ctx context.Context, names []string) error {
	slices.Sort(names)
	key := strings.Join(names, "\x00")
	if key == f.wholeKey && f.whole != nil {
		return nil
	}
	var data [][]byte
	for _, name := range names {
		d, err := readFile(ctx, name)
		if err != nil {
			return fmt.Errorf("reading the tables read whole: %w", err)
		}
		data = append(data, d)
	}
	whole, _, err := f.decode(data)
	if err != nil {
		return err
	}
	f.whole, f.wholeKey = whole, key
	return nil
}

// readFile returns the contents of the file name.
func readFile(ctx context.Context, name string) ([]byte, error) {
	fs, err := filesystem.New(ctx, name)
	if err != nil {
		return nil, err
	}
	defer fs.Close()
	rc, err := fs.OpenRead(ctx, name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// evaluate evaluates bucket b, whose chunks are in data, with the tables
// read whole, into the part file part.
func (f *evalFn) evaluate(ctx context.Context, b int, data [][]byte, whole map[string]*types.Block, part string) error {
	tables, seqs, err := f.decode(data)
	if err != nil {
		return fmt.Errorf("bucket %d: %w", b, err)
	}
	for name, blk := range whole {
		tables[name] = blk
	}
	for i, name := range f.Names {
		if tables[name] == nil {
			tables[name] = types.NewBlock(f.Schemas[i], 0)
		}
	}
	from := tables[f.Names[f.ReqTable]]
	Progress.noteEvaluated(int64(from.Len))
	out, origins, err := f.ev.BatchRows(ctx, tables)
	if err == nil {
		err = ctx.Err() // a failed or interrupted run writes no more parts
	}
	if err != nil {
		return fmt.Errorf("bucket %d: %w", b, err)
	}
	if s, j := f.splits.part(b, f.Buckets); s != nil {
		out, origins = ownRows(s, j, &from.Cols[f.TS], out, origins)
	}
	if err := writeAtomic(ctx, part, f.records(out, origins, seqs[f.ReqTable])...); err != nil {
		return fmt.Errorf("bucket %d: %w", b, err)
	}
	return nil
}

// ownRows returns the output rows, and their origins, of the FROM-table
// rows part j of s owns (by their order values, ts), dropping those of
// its context rows.
func ownRows(s *KeySplit, j int, ts *types.Column, out *types.Block, origins []int) (*types.Block, []int) {
	var keep []int
	for i, o := range origins {
		v := int64(math.MinInt64)
		if o >= 0 && !ts.IsNull(o) {
			v = ts.I[o]
		}
		if o >= 0 && s.owns(j, v) {
			keep = append(keep, i)
		}
	}
	kept := make([]int, len(keep))
	for k, i := range keep {
		kept[k] = origins[i]
	}
	return out.Gather(keep), kept
}

// bundleWork runs a bundle's evaluations, up to a limit at a time.
type bundleWork struct {
	ctx   context.Context
	slots chan struct{}
	wg    sync.WaitGroup
	mu    sync.Mutex
	first error
}

func newBundleWork(ctx context.Context, n int) *bundleWork {
	return &bundleWork{ctx: ctx, slots: make(chan struct{}, max(n, 1))}
}

// do runs fn in a goroutine once a slot is free (blocking until then).
func (w *bundleWork) do(fn func(context.Context) error) {
	w.slots <- struct{}{}
	active.add()
	w.wg.Go(func() {
		defer active.done()
		defer func() { <-w.slots }()
		if err := fn(w.ctx); err != nil {
			w.mu.Lock()
			if w.first == nil {
				w.first = err
			}
			w.mu.Unlock()
		}
	})
}

// err returns the first error of the work done so far.
func (w *bundleWork) err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.first
}

// wait waits for all the work and returns its first error.
func (w *bundleWork) wait() error {
	w.wg.Wait()
	return w.err()
}

// decode decodes chunks into one block per table, in arrival order, and
// returns them with their rows' sequence numbers.
func (f *evalFn) decode(elems [][]byte) (map[string]*types.Block, [][]uint64, error) {
	type chunk struct {
		h    wire.Header
		data []byte
	}
	var chunks []chunk
	var frames [][]byte
	for _, data := range elems {
		var err error
		if frames, err = wire.Frames(data, frames[:0]); err != nil {
			return nil, nil, err
		}
		for _, fr := range frames {
			h, err := wire.Peek(fr)
			if err != nil {
				return nil, nil, err
			}
			if h.Table >= len(f.Schemas) {
				return nil, nil, fmt.Errorf("%w: table %d", wire.ErrCorrupt, h.Table)
			}
			chunks = append(chunks, chunk{h, fr})
		}
	}
	// Chunks of one file come in order and files do not interleave, so
	// ordering chunks by their first row orders the rows.
	slices.SortFunc(chunks, func(a, b chunk) int {
		return cmp.Or(cmp.Compare(a.h.Table, b.h.Table), cmp.Compare(a.h.FirstSeq, b.h.FirstSeq))
	})
	rows := make([]int, len(f.Schemas))
	for _, c := range chunks {
		rows[c.h.Table] += c.h.Rows
	}
	tables := map[string]*types.Block{}
	seqs := make([][]uint64, len(f.Schemas))
	for _, c := range chunks {
		name := f.Names[c.h.Table]
		blk := tables[name]
		if blk == nil {
			blk = types.NewBlock(f.Schemas[c.h.Table], rows[c.h.Table])
			tables[name] = blk
			seqs[c.h.Table] = make([]uint64, 0, rows[c.h.Table])
		}
		if err := wire.Decode(c.data, blk, &seqs[c.h.Table]); err != nil {
			return nil, nil, err
		}
	}
	return tables, seqs, nil
}

// records encodes the output rows, with the sequence numbers of the
// FROM-table rows they were computed for, as a run of records: in pieces
// formatted concurrently, one per CPU, to be written in order. A record
// holds its row as a line of the output format, or, for Parquet, as a
// one-row chunk (package wire, array and map columns as JSON text) that
// the writer decodes into blocks.
func (f *evalFn) records(out *types.Block, origins []int, seqs []uint64) [][]byte {
	seqOf := func(i int) uint64 {
		if i < 0 || origins[i] < 0 {
			return 0
		}
		return seqs[origins[i]]
	}
	var noSeqs []uint64 // a chunk's own sequence numbers: the record has the row's
	if f.Format == datafile.Parquet {
		out = datafile.AsText(out)
		noSeqs = make([]uint64, out.Len)
	}
	pieces := make([][]byte, min(runtime.GOMAXPROCS(0), max(1, out.Len/4096)))
	var wg sync.WaitGroup
	for p := range pieces {
		lo, hi := p*out.Len/len(pieces), (p+1)*out.Len/len(pieces)
		wg.Go(func() {
			var data, line []byte
			row := make([]int32, 1)
			prev := seqOf(lo - 1)
			for i := lo; i < hi; i++ {
				if noSeqs != nil {
					row[0] = int32(i)
					line = wire.Append(line[:0], 0, out, row, noSeqs)
				} else {
					line = f.enc.AppendRow(line[:0], out, i)
				}
				if i == lo { // room for the piece's records, as long as the first
					data = make([]byte, 0, (hi-lo)*(len(line)+len(line)/4+8))
				}
				data = wire.AppendRecord(data, prev, seqOf(i), line)
				prev = seqOf(i)
			}
			pieces[p] = data
		})
	}
	wg.Wait()
	return pieces
}
