package dataflow

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local" // local paths
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/fenestra-dev/fenestra/dataflow/bucket"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/datafile"
)

func init() {
	beam.RegisterType(reflect.TypeOf((*fileTask)(nil)).Elem())
	register.DoFn3x1[context.Context, fileTask, func(int, []byte), error](&readFn{})
	register.DoFn4x1[context.Context, int, func(*[]byte) bool, func(int, []byte), error](&evalFn{})
	register.DoFn4x1[context.Context, int, func(*[]byte) bool, func(int, int), error](&writeFn{})
	register.DoFn4x1[context.Context, int, func(*[]byte) bool, func(int, int), error](&waveEndFn{})
	register.Function3x0(rowCount)
	register.Emitter1[int]()
	register.Emitter2[int, int]()
	register.Iter1[int]()
	register.Function2x0(noPart)
	register.Function2x0(noRows)
	register.Emitter1[[]byte]()
	register.Emitter2[int, []byte]()
	register.Iter1[[]byte]()
}

// BackfillJob is one backfill: a feature view, the files of the tables it
// reads and where the training set goes.
type BackfillJob struct {
	View *plan.Plan
	// Inputs are the files of each table the view reads, in arrival order.
	Inputs []Input
	// Out is the output file: CSV (.csv), JSON Lines (.jsonl) or Parquet
	// (.parquet; array and map columns hold their JSON text, as in CSV).
	Out string
	// OutCSV is the dialect of a CSV output (the zero value: a header
	// row, commas, NULL an empty unquoted field); other formats ignore it.
	OutCSV datafile.CSVOptions
	// Buckets is the number of buckets (0: DefaultBuckets).
	Buckets int
	BadRows BadRows
	// Wave, when Wave.Of is more than 1, makes the pipeline one wave of a
	// backfill evaluated a share of its buckets at a time (RunWaves runs
	// them): it writes the runs of its buckets to Wave.Dir and no output.
	Wave Wave
	// Splits are the keys evaluated in parts (SplitKeys), each part a
	// bucket after the Buckets hashed ones.
	Splits []KeySplit
}

// Wave is one wave of a backfill or a materialize in waves. A backfill's
// wave (BackfillJob.Wave) reads every row but evaluates only the buckets
// b with b % Of == N, and leaves their runs (part files) in the
// directory Dir, where RunWaves merges the runs of all the waves into
// the output; Of is at most the job's bucket count (1 for a view that
// does not split). A materialize's wave (MaterializeJob.Wave) reads
// every row but stores only those of its share of the keys, and has no
// Dir.
type Wave struct {
	N, Of int
	Dir   string
}

// DefaultBuckets is the bucket count of a BackfillJob that sets none,
// and the least BucketsFor returns.
const DefaultBuckets = 16

// BucketBytes is the input size per bucket BucketsFor aims at.
const BucketBytes = 4 << 20

// BucketsFor returns a bucket count for inputs of size bytes in all: one
// bucket per BucketBytes, at least DefaultBuckets, at most 1<<16.
func BucketsFor(size int64) int {
	return int(min(max(DefaultBuckets, (size+BucketBytes-1)/BucketBytes), 1<<16))
}

// Errors of job definitions.
var ErrJob = errors.New("dataflow: bad job")

// Backfill adds a backfill to the pipeline of s. The training set has one
// row per row of the view's FROM table, in that table's arrival order
// (for GROUP BY, one row per group, in order of first appearance; for a
// whole-table aggregate, one row), computed as the batch evaluator
// computes it over all the rows (bit for bit). It returns a PCollection
// of one element: the number of rows written (for one wave of a backfill
// in waves, job.Wave, the number of its runs, or none when its buckets
// have no rows).
func Backfill(s beam.Scope, job BackfillJob) (beam.PCollection, error) {
	s = s.Scope("dataflow.Backfill")
	t, err := newTables(job.View, job.Inputs)
	if err != nil {
		return beam.PCollection{}, err
	}
	if job.View.RequestTable == "" {
		return beam.PCollection{}, fmt.Errorf("%w: view %s reads no table: nothing to backfill", ErrJob, viewName(job.View))
	}
	if job.View.Requests != nil {
		return beam.PCollection{}, fmt.Errorf("%w: %s", ErrJob, eval.RequestQuery)
	}
	if _, err := eval.New(job.View); err != nil {
		return beam.PCollection{}, err
	}
	format, err := datafile.FormatOf(job.Out)
	if err != nil {
		return beam.PCollection{}, fmt.Errorf("%w: %v", ErrJob, err)
	}
	switch format {
	case datafile.Parquet: // the writer refuses schemas it cannot write (a repeated name)
		if _, err := datafile.NewParquetWriter(io.Discard, datafile.TextSchema(job.View.Output), datafile.ParquetOptions{}); err != nil {
			return beam.PCollection{}, fmt.Errorf("%w: %s: %v", ErrJob, job.Out, err)
		}
	case datafile.CSV:
		if err := job.OutCSV.Check(); err != nil {
			return beam.PCollection{}, fmt.Errorf("%w: %s: %v", ErrJob, job.Out, err)
		}
	}
	planJSON, err := plan.Marshal(job.View)
	if err != nil {
		return beam.PCollection{}, err
	}
	layout := bucket.Plan(job.View)
	buckets := bucketCount(job, layout)
	ts, err := splitColumn(job, layout, t)
	if err != nil {
		return beam.PCollection{}, err
	}
	wave := job.Wave
	if all := buckets + partCount(job.Splits); wave.Of > 1 && (wave.N < 0 || wave.N >= wave.Of || wave.Of > all || wave.Dir == "") {
		return beam.PCollection{}, fmt.Errorf("%w: wave %d of %d in %q: want 0 <= wave < waves <= %d buckets, and a directory", ErrJob, wave.N, wave.Of, wave.Dir, all)
	}
	routes := make([]route, len(t.names))
	for i, name := range t.names {
		if !layout.Split {
			routes[i] = route{Kind: bucket.Spread}
			continue
		}
		r := layout.Routes[name]
		routes[i] = route{Kind: r.Kind, Cols: r.Cols}
	}

	parts, whole := partPrefix(job.Out), ""
	if wave.Of > 1 {
		parts, whole = waveParts(wave.Dir), wave.Dir+"/"
	} else {
		wave = Wave{}
	}
	run := newRunID()
	tasks := beam.CreateList(s, t.tasks)
	keyed := beam.ParDo(s, &readFn{Zone: types.ZoneName(), Names: t.names, Schemas: t.schemas, Routes: routes, Buckets: buckets, BadRows: job.BadRows,
		Whole: cmp.Or(whole, parts), Wave: wave.N, Waves: wave.Of, Splits: job.Splits, Table: t.index[job.View.RequestTable], TS: ts, Run: run}, tasks)
	if layout.Always { // a whole-table aggregate has a row even of no rows (one bucket: never in waves)
		keyed = beam.Flatten(s, keyed, beam.ParDo(s, noRows, beam.Impulse(s)))
	}
	ev := &evalFn{Zone: types.ZoneName(), Plan: planJSON, Names: t.names, Schemas: t.schemas, ReqTable: t.index[job.View.RequestTable], Format: format, CSV: job.OutCSV, Parts: parts,
		Buckets: buckets, Splits: job.Splits, TS: ts, Run: run}
	runs := beam.ParDo(s, ev, beam.GroupByKey(s, keyed))
	if wave.Of > 1 { // the runs stay for RunWaves to merge; the files of tables read whole go
		ended := beam.ParDo(s, &waveEndFn{}, beam.GroupByKey(s, runs))
		return beam.ParDo(s, rowCount, beam.GroupByKey(s, ended)), nil
	}
	// One empty run, so that an input without rows still gets its header.
	runs = beam.Flatten(s, runs, beam.ParDo(s, noPart, beam.Impulse(s)))
	wf := newWriteFn(job, format, layout)
	wf.Run = run
	written := beam.ParDo(s, wf, beam.GroupByKey(s, runs))
	// The count goes through a GroupByKey of its own, so that the writer's
	// stage has an output: prism waits for a stage without one by polling
	// (a core busy for as long as the writer runs).
	return beam.ParDo(s, rowCount, beam.GroupByKey(s, written)), nil
}

// splitColumn checks job's splits against its view and returns the FROM
// table's column that orders them (the view's eval.Lookback TS), or -1
// without splits.
func splitColumn(job BackfillJob, layout *bucket.Layout, t *tables) (int, error) {
	if len(job.Splits) == 0 {
		return -1, nil
	}
	ev, err := eval.New(job.View)
	if err != nil {
		return -1, err
	}
	lb := ev.Lookback()
	from := job.View.RequestTable
	ts := t.schemas[t.index[from]].Index(lb.TS)
	if r := layout.Routes[from]; !layout.Split || r.Kind != bucket.Keyed || lb.Why != "" || ts < 0 {
		return -1, fmt.Errorf("%w: view %s cannot evaluate a key in parts: %s", ErrJob, viewName(job.View), cmp.Or(lb.Why, "its windows do not order by a column of "+from))
	}
	first := bucketCount(job, layout)
	for _, s := range job.Splits {
		if s.First != first || len(s.From) != s.parts() {
			return -1, fmt.Errorf("%w: the splits of key %s do not follow the buckets", ErrJob, s.Key)
		}
		first += s.parts()
	}
	return ts, nil
}

// bucketCount is the number of buckets of job: job.Buckets (0:
// DefaultBuckets), or 1 for a view that does not split.
func bucketCount(job BackfillJob, layout *bucket.Layout) int {
	if !layout.Split {
		return 1
	}
	if job.Buckets <= 0 {
		return DefaultBuckets
	}
	return job.Buckets
}

// newWriteFn returns the writer of job's output, of format.
func newWriteFn(job BackfillJob, format datafile.Format, layout *bucket.Layout) *writeFn {
	return &writeFn{Out: job.Out, Format: format, CSV: job.OutCSV, Schema: job.View.Output, Limit: layout.Limit}
}

// rowCount passes on the writer's count of rows.
func rowCount(_ int, counts func(*int) bool, emit func(int)) {
	var n int
	for counts(&n) {
		emit(n)
	}
}

// noPart emits an empty part name, so that the writer runs even when no
// bucket has rows.
func noPart(_ []byte, emit func(int, []byte)) {
	emit(0, nil)
}

// noRows emits an empty chunk for bucket 0, so that its evaluation runs
// even when no row reaches it.
func noRows(_ []byte, emit func(int, []byte)) {
	emit(0, nil)
}

// partPrefix is where the buckets of a backfill into out write their part
// files: hidden files beside out, named for this run.
func partPrefix(out string) string {
	i := strings.LastIndexByte(out, '/') + 1
	return out[:i] + "." + out[i:] + ".part-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-"
}

// tables are the tables of a job with their files.
type tables struct {
	names   []string
	schemas []types.Schema
	index   map[string]int
	tasks   []fileTask
}

// newTables indexes the view's tables and assigns each input its table
// and file number. Every table needs a file; a file of another table, or
// a CSV file whose dialect is not one, is an error.
func newTables(view *plan.Plan, inputs []Input) (*tables, error) {
	t := &tables{index: map[string]int{}}
	for i, tb := range view.Tables {
		t.names = append(t.names, tb.Name)
		t.schemas = append(t.schemas, tb.Schema)
		t.index[tb.Name] = i
	}
	files := make([]int, len(t.names))
	for _, in := range inputs {
		i, ok := t.index[in.Table]
		if !ok {
			return nil, fmt.Errorf("%w: view %s does not read table %s (file %s)", ErrJob, viewName(view), in.Table, in.Path)
		}
		format, err := datafile.FormatOf(in.Path)
		if err != nil {
			return nil, fmt.Errorf("%w: table %s: %v", ErrJob, in.Table, err)
		}
		if format == datafile.CSV {
			if err := in.CSV.Check(); err != nil {
				return nil, fmt.Errorf("%w: table %s: %s: %v", ErrJob, in.Table, in.Path, err)
			}
		}
		t.tasks = append(t.tasks, fileTask{Table: i, File: files[i], Path: in.Path, CSV: in.CSV})
		files[i]++
	}
	for i, n := range files {
		if n == 0 {
			return nil, fmt.Errorf("%w: view %s reads table %s, but no file of it is given", ErrJob, viewName(view), t.names[i])
		}
	}
	return t, nil
}

func viewName(p *plan.Plan) string {
	if p.Name == "" {
		return "(query)"
	}
	return p.Name
}
