package dataflow

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"

	"github.com/fenestra-dev/fenestra/dataflow/bucket"
	"github.com/fenestra-dev/fenestra/internal/datafile"
)

// A backfill in waves bounds the memory of a runner that holds all a
// GroupByKey's elements in memory (prism): each wave is the backfill's
// pipeline evaluating a share of the buckets (BackfillJob.Wave), which
// leaves its runs in a temporary directory, and the runs of all the waves
// are merged into the output by the writer's merge.

// The memory model of a backfill on prism, measured with the cards
// example (fenestra gen): peak RSS is at most about memoryBase plus
// memoryPerByte bytes per byte of input evaluated in one pipeline. One
// pipeline: 1,000,000 rows, 43 MB of CSV, 0.43-0.50 GB; 5,000,000 rows,
// 217 MB, 1.8-2.15 GB (8-10 bytes a byte). Waves vary more (3 waves of
// the 5,000,000 rows, 73 MB each: 0.84-1.10 GB), hence 12. Most of it is
// the GroupByKey's elements as prism holds them, and the garbage the Go
// collector lets grow as large as the live heap (GOMEMLIMIT at the budget
// did not lower the peak, and cost 10-30% more time).
const (
	memoryPerByte = 12
	memoryBase    = 256 << 20
)

// WavesFor returns the number of waves that keep a backfill of job, over
// size bytes of input (counted as BucketsFor counts them), within memory
// bytes on prism by the memory model above: 1 when it fits in one, as
// when memory is 0 or less; at most the job's bucket count (1 for a view
// that does not split: bucket.Plan's Split).
func WavesFor(job BackfillJob, size, memory int64) int {
	return wavesFor(memoryPerByte*size, memory, bucketCount(job, bucket.Plan(job.View)))
}

// MaxKeyRows returns the most rows of one key a backfill on prism may
// evaluate at once within memory bytes (SplitKeys' limit), for an input
// of size bytes with rows rows of its FROM table: by the memory model
// above, half a wave's room (so that a wave holds a key's part beside its
// share of the buckets), in rows of the input's mean size. 0 when memory
// is 0 or less: no limit.
func MaxKeyRows(size, rows, memory int64) int64 {
	if memory <= 0 {
		return 0
	}
	perRow := max(size/max(rows, 1), 1)
	return max((memory-memoryBase)/(2*memoryPerByte*perRow), 1000)
}

// WavesWithSplits returns the number of waves that keep a backfill of
// job, whose large keys job.Splits cuts into parts, within memory bytes on
// prism by the memory model above, for size bytes of input with rows rows
// of its FROM table: at least WavesFor's, and enough that the wave holding
// the most parts' rows (parts go to waves by bucket, as the hashed
// buckets do) still fits beside its share of the hashed buckets.
func WavesWithSplits(job BackfillJob, size, rows, memory int64) int {
	waves := WavesFor(job, size, memory)
	if len(job.Splits) == 0 || memory <= memoryBase {
		return waves
	}
	perRow := max(size/max(rows, 1), 1)
	rest := size
	for _, s := range job.Splits {
		rest -= s.Rows * perRow
	}
	rest = max(rest, 0)
	most := bucketCount(job, bucket.Plan(job.View)) + partCount(job.Splits)
	for ; waves < most; waves++ {
		load := make([]int64, waves)
		for _, s := range job.Splits {
			for j, r := range s.Parts {
				load[(s.First+j)%waves] += r * perRow
			}
		}
		if memoryPerByte*(rest/int64(waves)+slices.Max(load)) <= memory-memoryBase {
			break
		}
	}
	return waves
}

// WaveStats is what one wave of RunWaves or RunMaterializeWaves did.
type WaveStats struct {
	N, Of   int           // the wave (from 0) and the number of waves
	Read    int64         // rows read into the wave's buckets (or keys)
	Bad     int64         // bad rows skipped (wave 0 counts them all)
	Written int64         // rows stored (a materialize; a backfill's waves write runs)
	Runs    int64         // a backfill's: bytes of runs in Dir after the wave, the temporary space in use
	Dir     string        // a backfill's: the temporary directory of the runs
	Elapsed time.Duration // the wave's time
}

// ErrTmpFull is the error of a backfill in waves whose runs do not fit in
// its temporary directory.
var ErrTmpFull = errors.New("dataflow: no space left in the temporary directory")

// RunWaves runs the backfill job in waves waves on the runner of Run
// (prism), each a pipeline of Backfill with BackfillJob.Wave set, whose
// runs go to a new directory under tmpDir (os.TempDir() when empty); then
// it merges all the runs into job.Out by sequence number, as the one
// pipeline's writer does, so the output is byte for byte that of
// Backfill. Waves are at most the job's bucket count; with one, it runs
// Backfill's pipeline as it is. It calls report, if not nil, after each
// wave, and returns the number of rows written.
//
// The directory and its runs are removed when RunWaves returns, after an
// error (such as ctx's cancellation) too. A full disk is an error wrapping
// ErrTmpFull that names the directory. The runs of all the waves take
// about the output's size until the merge ends. Every wave reads all the
// input, keeping the rows of its buckets: only wave 0 counts the rows of
// tables read whole and the bad rows it skips.
func RunWaves(ctx context.Context, job BackfillJob, waves int, tmpDir string, report func(WaveStats)) (int, error) {
	waves = min(waves, bucketCount(job, bucket.Plan(job.View))+partCount(job.Splits))
	if waves <= 1 {
		return runOnce(ctx, job)
	}
	dir, err := os.MkdirTemp(tmpDir, "fenestra-backfill-")
	if err != nil {
		return 0, fmt.Errorf("the temporary directory: %w", err)
	}
	defer func() {
		active.wait(stragglerWait) // a failed pipeline's DoFns may still write there
		os.RemoveAll(dir)
	}()
	for w := range waves {
		wj := job
		wj.Wave = Wave{N: w, Of: waves, Dir: dir}
		st, err := runWave(ctx, wj)
		if err != nil {
			return 0, tmpErr(err, dir)
		}
		if report != nil {
			report(st)
		}
	}
	n, err := mergeRuns(ctx, job, dir)
	return n, tmpErr(err, dir)
}

// A materialize in waves bounds its memory on prism the same way: each
// wave is Materialize's pipeline storing the rows of a share of the keys
// (MaterializeJob.Wave). Stored rows are idempotent and independent of
// the order of writes (a row's sequence number is its file and line), so
// the waves need no merge and no temporary files: each stores its keys.

// The memory model of a materialize on prism, measured with the cards
// example into a Bigtable emulator in another process: peak RSS is at
// most about memoryBase plus materializePerByte bytes per byte of input
// one pipeline (or wave) loads. One pipeline: 1,000,000 rows, 43 MB of
// CSV, 0.63-0.83 GB; 2,000,000 rows, 87 MB, 1.38-1.56 GB (9-15 bytes a
// byte above memoryBase). Waves of the 2,000,000 rows: 2 (43 MB each),
// 0.70-0.86 GB; 3, 0.49-0.52 GB; 4, 0.44 GB; 6, 0.28-0.31 GB. More than a
// backfill's (a heap profile of 1,000,000 rows): prism holds the
// GroupByKey's chunks and copies them into the writers' bundle, which
// the SDK's data channel receives as a copy of its own, and a writer
// decodes up to storeBatchRows rows of a table before it stores them.
const (
	materializePerByte = 16
	// MaxMaterializeWaves bounds MaterializeWavesFor: every wave reads
	// all the input again.
	MaxMaterializeWaves = 64
)

// MaterializeWavesFor returns the number of waves that keep a
// materialize of size bytes of input (counted as BucketsFor counts them)
// within memory bytes on prism by the memory model above: 1 when it fits
// in one, as when memory is 0 or less; at most MaxMaterializeWaves.
func MaterializeWavesFor(size, memory int64) int {
	return wavesFor(materializePerByte*size, memory, MaxMaterializeWaves)
}

// wavesFor returns the number of waves, at most most, that split need
// bytes of memory (beyond memoryBase) so that a wave's share fits in
// memory: 1 when memory is 0 or less, most when not even memoryBase fits.
func wavesFor(need, memory int64, most int) int {
	if memory <= 0 {
		return 1
	}
	room := memory - memoryBase
	if room <= 0 {
		return most
	}
	return int(min(max(1, (need+room-1)/room), int64(most)))
}

// RunMaterializeWaves runs the materialize job in waves waves, one after
// the other, on the runner of Run (prism), each a pipeline of Materialize
// with MaterializeJob.Wave set; with one (or fewer), Materialize's
// pipeline as it is. A key's rows are all in one wave and one writer of
// it, so the waves store the rows, and build the tiles, that the one
// pipeline does, each key's tiles once. It calls report, if not nil,
// after each wave, and returns the number of rows written (with an
// error, by the waves before it).
//
// Every wave reads all the input, keeping the rows of its keys: a bad row
// that fails the load fails wave 0 with the error of the one pipeline,
// and only wave 0 counts the bad rows it skips. An error (such as ctx's
// cancellation) ends the load at the wave it happens in, the rows stored
// so far staying stored, as after a failed pipeline: loading the same
// files again completes it.
func RunMaterializeWaves(ctx context.Context, job MaterializeJob, waves int, report func(WaveStats)) (int, error) {
	waves = max(waves, 1)
	written := 0
	for w := range waves {
		job.Wave = Wave{N: w, Of: waves}
		st, err := runWaveOf(ctx, job.Wave, func(s beam.Scope) error {
			_, err := Materialize(s, job)
			return err
		}, false)
		if err != nil {
			return written, err
		}
		written += int(st.Written)
		if report != nil && waves > 1 {
			report(st)
		}
	}
	return written, nil
}

// runOnce runs job's pipeline and returns the number of rows written.
func runOnce(ctx context.Context, job BackfillJob) (int, error) {
	p, s := beam.NewPipelineWithRoot()
	if _, err := Backfill(s, job); err != nil {
		return 0, err
	}
	before := Progress.Written.Load()
	r, err := Run(ctx, p)
	if err != nil {
		return 0, err
	}
	return int(resultCount(r, "rows_written", Progress.Written.Load()-before)), nil
}

// runWave runs the pipeline of the wave job.Wave.
func runWave(ctx context.Context, job BackfillJob) (WaveStats, error) {
	st, err := runWaveOf(ctx, job.Wave, func(s beam.Scope) error {
		_, err := Backfill(s, job)
		return err
	}, true)
	if err != nil {
		return WaveStats{}, err
	}
	st.Runs, err = dirSize(job.Wave.Dir)
	return st, err
}

// runWaveOf runs, as wave w, the pipeline build adds to a root scope and
// returns what it did. With settle it waits, after the pipeline, for
// this process's DoFn calls still running (see stragglerWait).
func runWaveOf(ctx context.Context, w Wave, build func(s beam.Scope) error, settle bool) (WaveStats, error) {
	start := time.Now()
	read, bad, written := Progress.Read.Load(), Progress.Bad.Load(), Progress.Written.Load()
	p, s := beam.NewPipelineWithRoot()
	if err := build(s); err != nil {
		return WaveStats{}, err
	}
	r, err := Run(ctx, p)
	if settle {
		active.wait(stragglerWait)
	}
	if err != nil {
		return WaveStats{}, err
	}
	return WaveStats{N: w.N, Of: w.Of, Dir: w.Dir, Elapsed: time.Since(start),
		Read:    resultCount(r, "rows_read", Progress.Read.Load()-read),
		Bad:     resultCount(r, "bad_rows", Progress.Bad.Load()-bad),
		Written: resultCount(r, "rows_written", Progress.Written.Load()-written)}, nil
}

// resultCount returns the fenestra counter name of a pipeline's result,
// or local when the runner reports none.
func resultCount(r beam.PipelineResult, name string, local int64) int64 {
	if r == nil {
		return local
	}
	for _, c := range r.Metrics().AllMetrics().Counters() {
		if c.Namespace() == "fenestra" && c.Name() == name {
			return c.Result()
		}
	}
	return local
}

// waveParts is the prefix of the part files of the waves in dir.
func waveParts(dir string) string { return dir + "/part-" }

// mergeRuns merges the runs the waves left in dir into job's output, with
// the writer of Backfill's pipeline.
func mergeRuns(ctx context.Context, job BackfillJob, dir string) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var names []string
	prefix := waveParts(dir)
	for _, e := range entries {
		name := dir + "/" + e.Name()
		if b, ok := strings.CutPrefix(name, prefix); ok {
			if _, err := strconv.Atoi(b); err == nil {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	format, err := datafile.FormatOf(job.Out)
	if err != nil {
		return 0, err
	}
	return newWriteFn(job, format, bucket.Plan(job.View)).write(ctx, names, nil)
}

// dirSize returns the bytes of the files in dir.
func dirSize(dir string) (int64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
			n += info.Size()
		}
	}
	return n, nil
}

// tmpErr makes a full disk's error, err, one that names the temporary
// directory dir.
func tmpErr(err error, dir string) error {
	if err != nil && errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("%w %s, which holds the runs of a backfill in waves (about the output's size): %w", ErrTmpFull, dir, err)
	}
	return err
}

// waveEndFn ends a wave: it removes the files of the tables read whole,
// whose names come with the parts' names, and emits the number of parts,
// keyed by 0. (The parts stay for the merge.)
type waveEndFn struct{}

// ProcessElement records its error as the pipeline's failure (see Run).
func (f *waveEndFn) ProcessElement(ctx context.Context, _ int, names func(*[]byte) bool, emit func(int, int)) error {
	active.add()
	defer active.done()
	parts := 0
	var whole []string
	var name []byte
	for names(&name) {
		if w, ok := isWholeRef(name); !ok {
			parts++
		} else if !slices.Contains(whole, w) {
			whole = append(whole, w)
		}
	}
	if len(whole) > 0 {
		fs, err := filesystem.New(ctx, whole[0])
		if err != nil {
			return fail(err)
		}
		defer fs.Close()
		removeAll(ctx, fs, whole)
	}
	emit(0, parts)
	return nil
}

// stragglerWait is how long RunWaves waits, after a pipeline, for DoFn
// calls of this process that are still running (on a failure prism
// returns at once) before it goes on or removes their directory.
const stragglerWait = 30 * time.Second

// active counts the DoFn calls and evaluations of backfills running in
// this process.
var active activity

// activity is a count of work running, which can be waited for.
type activity struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed when n drops to 0
}

func (a *activity) add() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.n == 0 {
		a.idle = make(chan struct{})
	}
	a.n++
}

func (a *activity) done() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.n--; a.n == 0 {
		close(a.idle)
	}
}

// wait waits until no work runs, or for at most d.
func (a *activity) wait(d time.Duration) {
	a.mu.Lock()
	idle, n := a.idle, a.n
	a.mu.Unlock()
	if n == 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-idle:
	case <-t.C:
	}
}
