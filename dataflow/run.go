package dataflow

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
)

// Run runs p on the runner Beam's flags select (--runner; prism, in
// process, by default) and waits for it. When a DoFn that ran in this
// process failed (prism, LOOPBACK), the error is a *PipelineError whose
// message is that DoFn's error — "tx.csv:3: 2 fields, the header has 3"
// rather than the runner's report around it. Pipelines may run at once
// (a stream beside a backfill): each gets the failure its runner reports.
func Run(ctx context.Context, p *beam.Pipeline) (beam.PipelineResult, error) {
	startPrism(ctx)
	r, err := beamx.RunWithMetrics(ctx, p)
	if err == nil {
		return r, nil
	}
	if cause := reported(err); cause != nil {
		return r, &PipelineError{Cause: cause, Runner: err}
	}
	return r, err
}

// PipelineError is a pipeline failure caused by a DoFn error.
type PipelineError struct {
	Cause  error // the DoFn's error
	Runner error // the runner's report
}

func (e *PipelineError) Error() string { return e.Cause.Error() }
func (e *PipelineError) Unwrap() []error {
	return []error{e.Cause, e.Runner}
}

// failures are the latest DoFn errors of this process's pipelines, oldest
// first; Run takes out the one its runner reports.
var failures struct {
	sync.Mutex
	errs []error
}

// maxFailures bounds failures: errors no Run takes (a pipeline on a
// runner that reports them otherwise) are dropped oldest first.
const maxFailures = 64

// fail records err as a pipeline's failure and returns it; DoFns return
// their errors through it.
// failedRuns holds the runs (a backfill's runID) a DoFn of which failed
// in this process. A writer does not publish the output of such a run:
// prism, once a DoFn fails, may still run later stages, on what reached
// them, before it ends the job.
var failedRuns sync.Map

// failRun records err, if not nil, as a failure of the run run (see
// failedRuns) and of its pipeline (see fail).
func failRun(run string, err error) error {
	if err != nil && run != "" {
		failedRuns.Store(run, true)
	}
	return fail(err)
}

// runFailed reports whether a DoFn of the run run failed in this process.
func runFailed(run string) bool {
	_, failed := failedRuns.Load(run)
	return run != "" && failed
}

// newRunID returns an identifier for a new run, unique in this process
// (and, with the time, across processes).
func newRunID() string {
	return strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + strconv.FormatInt(runIDs.Add(1), 36)
}

var runIDs atomic.Int64

func fail(err error) error {
	if err == nil {
		return nil
	}
	failures.Lock()
	if len(failures.errs) == maxFailures {
		failures.errs = slices.Delete(failures.errs, 0, 1)
	}
	failures.errs = append(failures.errs, err)
	failures.Unlock()
	return err
}

// reported takes out of failures the DoFn error the runner's error
// reports (its message is in the report), the earliest if several are.
func reported(runErr error) error {
	msg := runErr.Error()
	failures.Lock()
	defer failures.Unlock()
	for i, e := range failures.errs {
		if strings.Contains(msg, e.Error()) {
			failures.errs = slices.Delete(failures.errs, i, i+1)
			return e
		}
	}
	return nil
}

// prismStarted runs startPrism's first pipeline once per process.
var prismStarted sync.Once

// startPrism makes sure prism's in-process job server runs before
// pipelines start at once. Prism starts it on its first run and records
// its address in Beam's global flags without a lock, so two first runs
// at once (a stream and a backfill in one process) race on those flags.
// An empty pipeline run once, before any other, starts it; every later
// Run happens after it (sync.Once), so each reads the address it wrote.
// Other runners (--runner, --endpoint given) need nothing.
func startPrism(ctx context.Context) {
	prismStarted.Do(func() {
		switch *runners.Runner {
		case "", "prism", "PrismRunner":
		default:
			return
		}
		if *jobopts.Endpoint != "" {
			return
		}
		p := beam.NewPipeline()
		beam.ParDo0(p.Root(), discardImpulse, beam.Impulse(p.Root()))
		// A failure here is the runner's, and the first real pipeline
		// meets it again and reports it.
		_, _ = beamx.RunWithMetrics(ctx, p)
	})
}

func discardImpulse([]byte) {}

func init() { register.Function1x0(discardImpulse) }
