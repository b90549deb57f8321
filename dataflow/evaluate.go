package dataflow

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"sync"

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

	// A DoFn instance processes one element at a time: no locking.
	ev         *eval.Evaluator
	enc        *datafile.RowEncoder // CSV and JSON Lines outputs
	wholeFound bool
	whole      map[string]*types.Block
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
	f.ev, err = eval.New(p)
	return err
}

// ProcessElement records its error as the pipeline's failure (see Run).
func (f *evalFn) ProcessElement(ctx context.Context, b int, chunks func(*[]byte) bool, emit func(int, []byte)) error {
	return fail(f.process(ctx, b, chunks, nil, emit))
}

// evalWholeFn is evalFn for views that read tables whole: they come as a
// side input. (A side input costs prism a busy loop while it waits, so
// views without whole tables do without.)
type evalWholeFn struct {
	E *evalFn
}

func (f *evalWholeFn) Setup() error { return f.E.Setup() }

// ProcessElement records its error as the pipeline's failure (see Run).
func (f *evalWholeFn) ProcessElement(ctx context.Context, b int, chunks func(*[]byte) bool, whole func(*[]byte) bool, emit func(int, []byte)) error {
	return fail(f.E.process(ctx, b, chunks, whole, emit))
}

func (f *evalFn) process(ctx context.Context, b int, chunks func(*[]byte) bool, whole func(*[]byte) bool, emit func(int, []byte)) error {
	if whole != nil && !f.wholeFound {
		var err error
		if f.whole, _, err = f.decode(whole); err != nil {
			return err
		}
		f.wholeFound = true
	}
	tables, seqs, err := f.decode(chunks)
	if err != nil {
		return fmt.Errorf("bucket %d: %w", b, err)
	}
	for name, blk := range f.whole {
		tables[name] = blk
	}
	for i, name := range f.Names {
		if tables[name] == nil {
			tables[name] = types.NewBlock(f.Schemas[i], 0)
		}
	}
	out, origins, err := f.ev.BatchRows(ctx, tables)
	if err != nil {
		return fmt.Errorf("bucket %d: %w", b, err)
	}
	part := f.Parts + strconv.Itoa(b)
	if err := writeAtomic(ctx, part, f.records(out, origins, seqs[f.ReqTable])...); err != nil {
		return fmt.Errorf("bucket %d: %w", b, err)
	}
	emit(0, []byte(part))
	return nil
}

// decode decodes the chunks of an iterator into one block per table, in
// arrival order, and returns them with their rows' sequence numbers.
func (f *evalFn) decode(elems func(*[]byte) bool) (map[string]*types.Block, [][]uint64, error) {
	type chunk struct {
		h    wire.Header
		data []byte
	}
	var chunks []chunk
	var frames [][]byte
	var data []byte
	for elems(&data) {
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
				data = wire.AppendRecord(data, prev, seqOf(i), line)
				prev = seqOf(i)
			}
			pieces[p] = data
		})
	}
	wg.Wait()
	return pieces
}
