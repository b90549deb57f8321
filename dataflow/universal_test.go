package dataflow_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	jobpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/jobmanagement_v1"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"

	"github.com/fenestra-dev/fenestra/dataflow"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
)

// TestBackfillUniversalLoopback submits a backfill the way it goes to a
// Flink or Spark job server: --runner=universal to a JobService endpoint,
// here prism started as a standalone job server, with the SDK harness in
// this process (--environment_type=LOOPBACK).
func TestBackfillUniversalLoopback(t *testing.T) {
	ctx := context.Background()
	port := freePort(t)
	jobs, err := prism.CreateJobServer(ctx, prism.Options{Port: port})
	if err != nil {
		t.Fatal(err)
	}
	defer setFlag(jobopts.Endpoint, fmt.Sprintf("localhost:%d", port))()
	defer setFlag(jobopts.EnvironmentType, "LOOPBACK")()

	v := scriptViews(t)[0]
	j := job(t, t.TempDir(), 0, v, 4)
	p, s := beam.NewPipelineWithRoot()
	if _, err := dataflow.Backfill(s, j); err != nil {
		t.Fatal(err)
	}
	r, err := beam.Run(ctx, "universal", p)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := eval.New(v.p)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ev.Batch(ctx, v.tables)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(j.Out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, encode(t, j.Out, want)) {
		t.Errorf("%s through the universal runner:\n%s\nwant\n%s", v.name, got, encode(t, j.Out, want))
	}
	if n := counter(r, "rows_written"); n != int64(want.Len) {
		t.Errorf("rows_written %d, want %d", n, want.Len)
	}
	list, err := jobs.GetJobs(ctx, &jobpb.GetJobsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(list.GetJobInfo()); n != 1 {
		t.Errorf("the job server ran %d jobs, want 1", n)
	}
}

// setFlag sets a Beam flag and returns a function restoring it.
func setFlag(f *string, v string) func() {
	old := *f
	*f = v
	return func() { *f = old }
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestStreamUniversalLoopback submits the streaming pipeline through the
// universal runner to a prism job server, with the SDK harness in this
// process, streams rows into Bigtable, and drains it.
func TestStreamUniversalLoopback(t *testing.T) {
	ctx := context.Background()
	port := freePort(t)
	jobs, err := prism.CreateJobServer(ctx, prism.Options{Port: port})
	if err != nil {
		t.Fatal(err)
	}
	defer setFlag(jobopts.Endpoint, fmt.Sprintf("localhost:%d", port))()
	defer setFlag(jobopts.EnvironmentType, "LOOPBACK")()
	defer setFlag(runners.Runner, "universal")()

	resetStreamProgress()
	e := newStreamEnv(t, map[string]int{"tx": 2})
	blk := randomRows(rand.New(rand.NewPCG(5, 5)), e.mod.Tables[0].Schema, 500)
	e.produce(t, "tx", e.mod.Tables[0], blk)
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	p, s := beam.NewPipelineWithRoot()
	job := dataflow.StreamJob{Tables: e.mod.Tables[:1], Topics: []string{"tx"}, Brokers: e.brokers, Group: "u", Target: e.target}
	if err := dataflow.Stream(sctx, s, job); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- dataflow.RunStream(sctx, p, 30*time.Second) }()
	waitWritten(t, 500, 0, nil)
	stop()
	if err := <-done; err != nil {
		t.Fatalf("the stream through the universal runner: %v", err)
	}
	if lag, err := dataflow.StreamLag(ctx, e.brokers, "u", []string{"tx"}); err != nil || lag != 0 {
		t.Errorf("lag %d (%v) after the drain, want 0", lag, err)
	}
	list, err := jobs.GetJobs(ctx, &jobpb.GetJobsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(list.GetJobInfo()); n != 1 {
		t.Errorf("the job server ran %d jobs, want 1", n)
	}
}
