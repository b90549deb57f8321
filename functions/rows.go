package functions

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// DefaultMaxRows bounds the rows of one Compute unless Options.MaxRows
// says otherwise. A request of this many rows of distinct keys is
// answered well within DefaultTimeout (its reads go to the store in a few
// shared calls); one of more is refused at once with ErrTooManyRows
// rather than left to run into its deadline.
const DefaultMaxRows = 2000

// rowWorkers bounds the rows of one call evaluated at once. Their reads
// go out together (coalescer), so this is also about the most keys one
// shared read of a large call asks for.
const rowWorkers = 64

// Multi-row calls. The rows of a Compute call are evaluated in parallel
// and their reads shared, in levels: with store set, a row must see the
// rows of the call before it that it could read (its keys'), stored; the
// others it cannot see whatever their order. So each row gets a level one
// above the highest of the earlier rows it conflicts with (0 for none),
// the rows of a level are evaluated together, and then stored together
// in one write, before the next level starts. Without store, or when no
// two rows share a key, every row is of level 0; when every row may read
// every other (a view reading its request table without a key), the
// levels are the rows one by one, as if each came in a call of its own.

// conflicts says which rows of a view's request table a request row can
// read, for the levels of a call that stores its rows: the key columns
// (positions in the request table) of each read of the request table,
// the request row's values of which select the stored rows it reads. all
// is set when a row may read any other (a read of the whole table, or by
// a LAST JOIN whose keys come from other columns).
type conflicts struct {
	keys [][]int
	all  bool
}

// newConflicts derives the conflicts of view v from its evaluator's reads
// (eval.Evaluator.Reads). A window over the request table reads it by its
// partition columns, traced to the table's columns, whose values are the
// request row's own; a LAST JOIN's keys are values of other columns, and
// a read without keys takes every row: both make every row conflict with
// every other.
func newConflicts(v *View) conflicts {
	var c conflicts
	if v.input == nil {
		return c
	}
	for _, rd := range v.ev.Reads() {
		if !strings.EqualFold(rd.Table, v.Input.Name) {
			continue
		}
		if len(rd.Keys) == 0 || !strings.HasPrefix(rd.Why, "window") {
			return conflicts{all: true}
		}
		cols := make([]int, len(rd.Keys))
		for i, k := range rd.Keys {
			if cols[i] = columnIndex(v.Input.Schema, k); cols[i] < 0 {
				return conflicts{all: true}
			}
		}
		c.keys = append(c.keys, cols)
	}
	return c
}

// columnIndex finds column name as SQL names match: exactly, else
// case-insensitively; -1 when there is none.
func columnIndex(s types.Schema, name string) int {
	if i := s.Index(name); i >= 0 {
		return i
	}
	for i, f := range s {
		if strings.EqualFold(f.Name, name) {
			return i
		}
	}
	return -1
}

// levels returns the level of each row of rows (see above), and the
// number of levels.
func (c conflicts) levels(rows *types.Block) ([]int, int) {
	lv := make([]int, rows.Len)
	if c.all {
		for i := range lv {
			lv[i] = i
		}
		return lv, rows.Len
	}
	last := make([]map[string]int, len(c.keys)) // per read: a key's highest level so far
	for k := range last {
		last[k] = map[string]int{}
	}
	n := 0
	var buf []byte
	for i := range lv {
		for k, cols := range c.keys {
			buf = appendConflictKey(buf[:0], rows, i, cols)
			if l, ok := last[k][string(buf)]; ok {
				lv[i] = max(lv[i], l+1)
			}
		}
		for k, cols := range c.keys {
			buf = appendConflictKey(buf[:0], rows, i, cols)
			last[k][string(buf)] = lv[i]
		}
		n = max(n, lv[i]+1)
	}
	return lv, n
}

// appendConflictKey appends an encoding of row i's values of cols, equal
// for two rows whenever a store could take their keys as equal: NULL
// equals NULL, and a float's zeros, and its NaNs, are one value each.
func appendConflictKey(b []byte, rows *types.Block, i int, cols []int) []byte {
	for _, c := range cols {
		col := &rows.Cols[c]
		if col.IsNull(i) {
			b = append(b, 0)
			continue
		}
		b = append(b, 1)
		switch {
		case col.Type == types.String:
			b = binary.AppendUvarint(b, uint64(len(col.S[i])))
			b = append(b, col.S[i]...)
		case col.Type.IsFloat():
			f := col.F[i]
			switch {
			case f == 0:
				f = 0
			case math.IsNaN(f):
				f = math.NaN()
			}
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
		default:
			b = binary.LittleEndian.AppendUint64(b, uint64(col.I[i]))
		}
	}
	return b
}

// computeRows evaluates the rows of a multi-row call into res.Rows, level
// by level, the rows of a level in parallel, storing each level's rows
// (with store) in one write with sequence numbers taken in row order
// before the next level starts. It returns the error of the first row to
// fail, which stops the others.
func (s *Service) computeRows(ctx context.Context, v *View, rows *types.Block, store bool, src eval.Source, asOf []int64, res *ComputeResult) error {
	lv, n := []int(nil), 1
	var seqs []uint64
	if store {
		lv, n = v.conflicts.levels(rows)
		seqs = make([]uint64, rows.Len)
		for i := range seqs {
			seqs[i] = s.seq.Next()
		}
	}
	byLevel := make([][]int, n)
	for i := 0; i < rows.Len; i++ {
		l := 0
		if lv != nil {
			l = lv[i]
		}
		byLevel[l] = append(byLevel[l], i)
	}
	for _, idx := range byLevel {
		if err := s.evalRows(ctx, v, rows, idx, src, asOf, res); err != nil {
			return err
		}
		if !store {
			continue
		}
		level, levelSeqs := rows, seqs
		if len(idx) < rows.Len {
			level, levelSeqs = rows.Gather(idx), make([]uint64, len(idx))
			for k, i := range idx {
				levelSeqs[k] = seqs[i]
			}
		}
		if err := s.write(ctx, v.input, level, levelSeqs); err != nil {
			return err
		}
	}
	return nil
}

// evalRows evaluates rows idx of rows into res.Rows, up to rowWorkers at
// once; the first error cancels the others and is returned.
func (s *Service) evalRows(ctx context.Context, v *View, rows *types.Block, idx []int, src eval.Source, asOf []int64, res *ComputeResult) error {
	if len(idx) == 1 {
		return s.evalRow(ctx, v, rows, idx[0], src, asOf, res, nil)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	fail := func(err error) {
		once.Do(func() { first = err })
		cancel(err)
	}
	for range min(len(idx), rowWorkers) {
		wg.Add(1)
		s.workers.run(func() {
			defer wg.Done()
			defer func() {
				if p := recover(); p != nil {
					fail(&PanicError{Value: p, Stack: debug.Stack()})
				}
			}()
			var row []types.Value
			for k := next.Add(1) - 1; k < int64(len(idx)) && ctx.Err() == nil; k = next.Add(1) - 1 {
				if err := s.evalRow(ctx, v, rows, idx[k], src, asOf, res, &row); err != nil {
					fail(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return context.Cause(ctx)
}

// evalRow evaluates row i of rows into res.Rows[i]; buf, when not nil, is
// the caller's scratch row.
func (s *Service) evalRow(ctx context.Context, v *View, rows *types.Block, i int, src eval.Source, asOf []int64, res *ComputeResult, buf *[]types.Value) error {
	var row []types.Value
	if buf != nil {
		row = rows.Row(i, *buf)
		*buf = row
	} else {
		row = rows.Row(i, nil)
	}
	out, err := v.ev.Request(ctx, row, rowSource(src, asOf, i))
	if err != nil {
		return fmt.Errorf("functions: view %s, row %d: %w", v.Key(), i, err)
	}
	res.Rows[i] = out
	return nil
}

// rowSource is the source row i of a call reads: src, or, for a call as
// of given times (ComputeAsOf), src reading as of row i's.
func rowSource(src eval.Source, asOf []int64, i int) eval.Source {
	if asOf == nil {
		return src
	}
	return asOfSource{src: src, asOf: asOf[i]}
}

// asOfSource reads from src with the queries' AsOf set. It is no
// eval.TileSource, so the evaluator reads raw rows, to which AsOf
// applies.
type asOfSource struct {
	src  eval.Source
	asOf int64
}

// Scan implements eval.Source.
func (a asOfSource) Scan(ctx context.Context, q eval.Query) (*types.Block, error) {
	q.AsOf = a.asOf
	return a.src.Scan(ctx, q)
}

// ScanMany implements eval.MultiSource, through src's when it has one.
func (a asOfSource) ScanMany(ctx context.Context, qs []eval.Query) ([]*types.Block, error) {
	at := make([]eval.Query, len(qs))
	for i, q := range qs {
		q.AsOf = a.asOf
		at[i] = q
	}
	if ms, ok := a.src.(eval.MultiSource); ok {
		return ms.ScanMany(ctx, at)
	}
	out := make([]*types.Block, len(at))
	for i, q := range at {
		b, err := a.src.Scan(ctx, q)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

// tooManyRows is the error of a call of n rows (0: more than limit, the
// count not known yet) past the limit.
func tooManyRows(n, limit int) error {
	if n == 0 {
		return fmt.Errorf("%w: more than %d rows; the limit is %d rows per request", ErrTooManyRows, limit, limit)
	}
	return fmt.Errorf("%w: %d rows; the limit is %d rows per request", ErrTooManyRows, n, limit)
}
