package dataflow

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"

	"github.com/fenestra-dev/fenestra/dataflow/internal/wire"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/datafile"
)

// writeFn merges the buckets' part files by sequence number, streaming,
// into the output file, then removes the parts and the files of the
// tables read whole (their wholeRefs come with the parts' names). For
// CSV and JSON Lines the records' lines are copied out after the header;
// for Parquet they are decoded into blocks that a datafile.ParquetWriter
// writes, so the writer's memory is a block and a row group, whatever the
// output's size.
type writeFn struct {
	Out    string
	Format datafile.Format
	CSV    datafile.CSVOptions // the dialect of a CSV output
	Schema types.Schema
	Limit  int64  // -1: no limit
	Run    string // the run, as readFn's: its output is not published once a DoFn of it failed
}

// ProcessElement emits the number of rows written, keyed by 0; it
// records its error as the pipeline's failure (see Run).
func (f *writeFn) ProcessElement(ctx context.Context, k int, parts func(*[]byte) bool, emit func(int, int)) error {
	n, err := f.process(ctx, k, parts)
	if err != nil {
		return fail(err)
	}
	emit(0, n)
	return nil
}

func (f *writeFn) process(ctx context.Context, _ int, parts func(*[]byte) bool) (int, error) {
	var names, wholeFiles []string
	var name []byte
	for parts(&name) {
		if w, ok := isWholeRef(name); ok {
			if !slices.Contains(wholeFiles, w) {
				wholeFiles = append(wholeFiles, w)
			}
		} else if len(name) > 0 {
			names = append(names, string(name))
		}
	}
	return f.write(ctx, names, wholeFiles)
}

// write merges the runs names into the output, then removes them and the
// files wholeFiles (on one file system, which may be the output's or
// another). It returns the number of rows written.
func (f *writeFn) write(ctx context.Context, names, wholeFiles []string) (int, error) {
	on := f.Out
	if files := slices.Concat(names, wholeFiles); len(files) > 0 {
		on = files[0]
	}
	fs, err := filesystem.New(ctx, on)
	if err != nil {
		return 0, err
	}
	defer fs.Close()
	defer removeAll(ctx, fs, names)
	defer removeAll(ctx, fs, wholeFiles)
	var readers []*wire.RecordReader
	for _, name := range names {
		rc, err := fs.OpenRead(ctx, name)
		if err != nil {
			return 0, err
		}
		defer rc.Close()
		readers = append(readers, wire.NewRecordReader(rc))
	}
	n := 0
	err = writeAtomicFunc(ctx, f.Out, func(w *bufio.Writer) error {
		out, err := f.sink(w)
		if err != nil {
			return err
		}
		n, err = f.merge(ctx, out, readers)
		if err = errors.Join(err, out.close()); err == nil && runFailed(f.Run) {
			err = errRunFailed // removed, not renamed into place
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("writing %s: %w", f.Out, err)
	}
	return n, nil
}

// errRunFailed is the writer's error when a stage before it failed.
var errRunFailed = errors.New("dataflow: an earlier stage of the backfill failed")

// merge writes the records of the runs to out in sequence order, up to the
// limit.
func (f *writeFn) merge(ctx context.Context, out rowSink, runs []*wire.RecordReader) (int, error) {
	var h runHeap
	for _, r := range runs {
		if err := r.Next(); err == nil {
			h = append(h, r)
		} else if err != io.EOF {
			return 0, err
		}
	}
	h.init()
	n, reported := 0, 0
	for len(h) > 0 && (f.Limit < 0 || int64(n) < f.Limit) {
		r := h[0]
		if err := out.add(r.Line()); err != nil {
			return n, err
		}
		if n++; n-reported == 65536 {
			rowsWritten.Inc(ctx, int64(n-reported))
			Progress.Written.Add(int64(n - reported))
			reported = n
			if err := ctx.Err(); err != nil { // interrupted
				return n, err
			}
		}
		switch err := r.Next(); {
		case err == io.EOF:
			h.pop()
		case err != nil:
			return n, err
		default:
			h.down(0)
		}
	}
	rowsWritten.Inc(ctx, int64(n-reported))
	Progress.Written.Add(int64(n - reported))
	return n, nil
}

// rowSink takes the merged records' rows, in order, into the output.
type rowSink interface {
	add(record []byte) error
	// close finishes the file, not the underlying writer.
	close() error
}

// sink returns the rowSink of the output's format, writing to w.
func (f *writeFn) sink(w *bufio.Writer) (rowSink, error) {
	if f.Format != datafile.Parquet {
		enc, err := datafile.NewRowEncoder(f.Format, f.CSV)
		if err != nil {
			return nil, err
		}
		return &textSink{w: w, enc: enc, schema: f.Schema}, nil
	}
	schema := datafile.TextSchema(f.Schema)
	pw, err := datafile.NewParquetWriter(w, schema, datafile.ParquetOptions{})
	if err != nil {
		return nil, err
	}
	return &parquetSink{w: pw, blk: types.NewBlock(schema, sinkRows)}, nil
}

// textSink writes records that are CSV or JSON Lines rows as they are,
// after the file's start (the header), which may depend on the first row
// (datafile.RowEncoder.AppendStart).
type textSink struct {
	w       *bufio.Writer
	enc     *datafile.RowEncoder
	schema  types.Schema
	started bool
}

func (s *textSink) add(line []byte) error {
	if err := s.start(line); err != nil {
		return err
	}
	_, err := s.w.Write(line)
	return err
}

// start writes the file's start before its first row, first (nil when
// there is none).
func (s *textSink) start(first []byte) error {
	if s.started {
		return nil
	}
	s.started = true
	_, err := s.w.Write(s.enc.AppendStart(nil, s.schema, first))
	return err
}

func (s *textSink) close() error { return s.start(nil) }

// sinkRows is the size of the blocks a parquetSink writes.
const sinkRows = 4096

// parquetSink decodes records (one-row chunks) into blocks and writes them
// as Parquet.
type parquetSink struct {
	w    *datafile.ParquetWriter
	blk  *types.Block
	seqs []uint64
}

func (s *parquetSink) add(chunk []byte) error {
	if err := wire.Decode(chunk, s.blk, &s.seqs); err != nil {
		return err
	}
	if s.blk.Len == sinkRows {
		return s.flush()
	}
	return nil
}

func (s *parquetSink) flush() error {
	err := s.w.Write(s.blk)
	s.blk.Reset()
	s.seqs = s.seqs[:0]
	return err
}

func (s *parquetSink) close() error {
	if s.blk.Len > 0 {
		if err := s.flush(); err != nil {
			return err
		}
	}
	return s.w.Close()
}

// runHeap is a min-heap of runs by the sequence number of their current
// record (no two runs share a sequence number: a row is in one bucket).
type runHeap []*wire.RecordReader

func (h runHeap) init() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

// down moves run i down to its place.
func (h runHeap) down(i int) {
	r := h[i]
	seq := r.Seq()
	for {
		c := 2*i + 1
		if c >= len(h) {
			break
		}
		if c+1 < len(h) && h[c+1].Seq() < h[c].Seq() {
			c++
		}
		if seq <= h[c].Seq() {
			break
		}
		h[i] = h[c]
		i = c
	}
	h[i] = r
}

// pop removes the first run.
func (h *runHeap) pop() {
	old := *h
	last := len(old) - 1
	old[0] = old[last]
	*h = old[:last]
	if last > 0 {
		h.down(0)
	}
}

// writeAtomic writes the pieces of data, in order, to the file name.
func writeAtomic(ctx context.Context, name string, data ...[]byte) error {
	return writeAtomicFunc(ctx, name, func(w *bufio.Writer) error {
		for _, d := range data {
			if _, err := w.Write(d); err != nil {
				return err
			}
		}
		return nil
	})
}

// writeAtomicFunc writes the file name with write: to a temporary name
// first, renamed into place once complete where the file system can rename,
// so a failed or repeated attempt never leaves a file that looks whole.
func writeAtomicFunc(ctx context.Context, name string, write func(*bufio.Writer) error) error {
	fs, err := filesystem.New(ctx, name)
	if err != nil {
		return err
	}
	defer fs.Close()
	renamer, canRename := fs.(filesystem.Renamer)
	target := name
	if canRename {
		target = tempName(name)
	}
	wc, err := fs.OpenWrite(ctx, target)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(wc, 1<<20)
	err = write(w)
	if err == nil {
		err = w.Flush()
	}
	if cerr := wc.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if canRename {
			removeAll(ctx, fs, []string{target})
		}
		return err
	}
	if canRename {
		return renamer.Rename(ctx, target, name)
	}
	return nil
}

// removeAll removes files where the file system can; errors are ignored
// (leftover part files are garbage, not results).
func removeAll(ctx context.Context, fs filesystem.Interface, names []string) {
	if r, ok := fs.(filesystem.Remover); ok {
		for _, n := range names {
			r.Remove(ctx, n)
		}
	}
}

// tempName is a hidden name beside out (a path or URL) for writing it.
func tempName(out string) string {
	i := strings.LastIndexByte(out, '/') + 1
	return out[:i] + "." + out[i:] + ".tmp-" + strconv.FormatInt(time.Now().UnixNano(), 36)
}
