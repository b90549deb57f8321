package dataflow

import (
	"context"
	"sync"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
)

// Run runs p on the runner Beam's flags select (--runner; prism, in
// process, by default) and waits for it. When a DoFn that ran in this
// process failed (prism, LOOPBACK), the error is a *PipelineError whose
// message is that DoFn's error — "tx.csv:3: 2 fields, the header has 3"
// rather than the runner's report around it.
func Run(ctx context.Context, p *beam.Pipeline) (beam.PipelineResult, error) {
	failure.Lock()
	failure.err = nil
	failure.Unlock()
	r, err := beamx.RunWithMetrics(ctx, p)
	if err == nil {
		return r, nil
	}
	failure.Lock()
	defer failure.Unlock()
	if failure.err != nil {
		return r, &PipelineError{Cause: failure.err, Runner: err}
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

// failure is the first DoFn error of the pipeline Run is running.
var failure struct {
	sync.Mutex
	err error
}

// fail records err as the pipeline's failure (the first one wins) and
// returns it; DoFns return their errors through it.
func fail(err error) error {
	if err == nil {
		return nil
	}
	failure.Lock()
	if failure.err == nil {
		failure.err = err
	}
	failure.Unlock()
	return err
}
