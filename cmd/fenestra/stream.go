package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/fenestra-dev/fenestra/dataflow"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/functions"
	"github.com/fenestra-dev/fenestra/internal/records"
	"github.com/fenestra-dev/fenestra/storage/bigtable"
)

const streamUsage = `usage: fenestra stream --sql FILE.sql --brokers HOST:PORT --topic TABLE=TOPIC ... [--group ID]
         [--bigtable PROJECT/INSTANCE] [--metrics-addr HOST:PORT] [--bad-rows fail|skip|dead-letter=TOPIC] [beam flags]

Streams rows from Kafka into the online store (Bigtable) as they arrive, so
that requests see them at once: a Beam streaming pipeline (prism in process
by default). Each record's value is one row of its table, a JSON object of
every column (null for NULL), as a request carries it. A record's row is
numbered from its partition and offset, so a record read twice is stored
once; the group's offsets are committed only after the rows before them
are stored, and a restart resumes from them. Producers must key records by
the view's partition key: rows of one key at one time keep the order of
their offsets only within a partition. It runs until interrupted (SIGINT
or SIGTERM); it then stops reading, writes the rows it has read, commits
their offsets and exits 0 (within 30 s). With --metrics-addr, /readyz
answers 200 while Bigtable is reachable and the tables initialised, 503
from the signal on.`

// topicFlags collects repeated --topic TABLE=TOPIC flags, in order.
type topicFlags [][2]string

func (t *topicFlags) String() string { return "" }

func (t *topicFlags) Set(v string) error {
	table, topic, ok := strings.Cut(v, "=")
	if !ok || table == "" || topic == "" {
		return fmt.Errorf("want TABLE=TOPIC, got %q", v)
	}
	*t = append(*t, [2]string{table, topic})
	return nil
}

// runStream runs fenestra stream.
func runStream(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("stream", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sql := fs.String("sql", "", "the feature file (CREATE TABLE statements)")
	var topics topicFlags
	fs.Var(&topics, "topic", "a table's topic, TABLE=TOPIC (repeat for more tables)")
	brokers := fs.String("brokers", os.Getenv("KAFKA_BROKERS"), "the Kafka seed brokers, HOST:PORT[,HOST:PORT...] (default $KAFKA_BROKERS)")
	group := fs.String("group", "fenestra-stream", "the consumer group whose committed offsets are the stream's progress")
	instance := fs.String("bigtable", "", "the Bigtable PROJECT/INSTANCE (default local/local when BIGTABLE_EMULATOR_HOST is set)")
	prefix := fs.String("prefix", bigtable.DefaultPrefix, "prefix of the Bigtable table names")
	metricsAddr := fs.String("metrics-addr", "", "an address to serve Prometheus metrics on, /metrics (none: off)")
	badRows := fs.String("bad-rows", "fail", "what a record that is not a row does: fail (stop, naming topic, partition and offset), skip (count it) or dead-letter=TOPIC (forward it, the reason in its fenestra-error header)")
	every := fs.Duration("progress", 10*time.Second, "how often to print a progress line (0: never)")
	linger := fs.Duration("linger", dataflow.DefaultLinger, "how long a partition's read that found records keeps reading before writing them: larger writes, less CPU, a little less fresh (0: write each poll's records at once)")
	verbose := fs.Bool("v", false, "log the runner's progress messages")
	addBeamFlags(fs, streamUsage, stderr)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *sql == "" || len(topics) == 0 || *brokers == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	policy, err := records.ParsePolicy(*badRows)
	if err != nil {
		fmt.Fprintf(stderr, "fenestra stream: --bad-rows: %v\n", err)
		return 2
	}
	initBeam(stderr, *verbose)
	mods, ok := compileFiles([]string{*sql}, stderr)
	if !ok {
		return 1
	}
	job := dataflow.StreamJob{Brokers: *brokers, Group: *group, BadRecords: policy, Linger: *linger}
	if *linger == 0 {
		job.Linger = -1 // StreamJob's zero is the default
	}
	for _, tt := range topics {
		i := slices.IndexFunc(mods[0].Tables, func(t *plan.Table) bool { return strings.EqualFold(t.Name, tt[0]) })
		if i < 0 {
			fmt.Fprintf(stderr, "fenestra stream: --topic %s=%s: %s has no table %s\n", tt[0], tt[1], *sql, tt[0])
			return 2
		}
		t := mods[0].Tables[i]
		for i, other := range job.Tables {
			if other == t {
				fmt.Fprintf(stderr, "fenestra stream: --topic: table %s takes records from %s and %s; a table takes one topic\n", t.Name, job.Topics[i], tt[1])
				return 2
			}
		}
		job.Tables, job.Topics = append(job.Tables, t), append(job.Topics, tt[1])
	}
	job.Views = tiledViews(mods[0], job.Tables)
	project, inst, err := bigtable.ParseInstance(*instance)
	if err != nil {
		fmt.Fprintf(stderr, "fenestra stream: %v\n", err)
		return 2
	}
	job.Target = dataflow.BigtableTarget{Project: project, Instance: inst, Prefix: *prefix, EmulatorHost: os.Getenv("BIGTABLE_EMULATOR_HOST")}
	_, stopTracing, err := startTracing(ctx, "fenestra-stream", stdout) // the Bigtable client's spans
	if err != nil {
		fmt.Fprintf(stderr, "fenestra stream: %v\n", err)
		return 1
	}
	defer stopTracing()
	if err := initTables(ctx, job.Target, job.Tables); err != nil {
		fmt.Fprintf(stderr, "fenestra stream: %v\n", err)
		return 1
	}
	if *metricsAddr != "" {
		ready, closeStore, err := streamReadiness(ctx, job)
		if err != nil {
			fmt.Fprintf(stderr, "fenestra stream: %v\n", err)
			return 1
		}
		defer closeStore()
		stop, err := serveStreamMetrics(*metricsAddr, ready, stdout)
		if err != nil {
			fmt.Fprintf(stderr, "fenestra stream: %v\n", err)
			return 1
		}
		defer stop()
	}
	if err := stream(ctx, job, *every, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "fenestra stream: %v\n", err)
		return 1
	}
	return 0
}

// stream runs job until ctx ends (nil) or the pipeline fails, printing
// progress lines every so often (never when every is 0).
func stream(ctx context.Context, job dataflow.StreamJob, every time.Duration, stdout, stderr io.Writer) error {
	p, s := beam.NewPipelineWithRoot()
	if err := dataflow.Stream(ctx, s, job); err != nil {
		return err
	}
	names := make([]string, len(job.Tables))
	for i, t := range job.Tables {
		names[i] = t.Name + "=" + job.Topics[i]
	}
	fmt.Fprintf(stdout, "streaming %s from %s (group %s) into Bigtable %s/%s; interrupt to stop\n",
		strings.Join(names, ", "), job.Brokers, job.Group, job.Target.Project, job.Target.Instance)
	start := time.Now()
	if every > 0 {
		stop := streamProgress(stderr, every)
		defer stop()
	}
	if err := dataflow.RunStream(ctx, p, streamDrain); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "stream: stopped after %v: %s\n", time.Since(start).Round(time.Millisecond), streamCounts())
	return nil
}

// streamDrain bounds the drain after an interrupt: the rows read are
// written and their offsets committed, then the stream ends.
const streamDrain = 30 * time.Second

// streamCounts words the stream's counters.
func streamCounts() string {
	sp := &dataflow.StreamProgress
	return fmt.Sprintf("%d records read, %d rows written, %d bad records, lag %d records",
		sp.Read.Load(), sp.Written.Load(), sp.Bad.Load(), sp.Lag.Load())
}

// streamProgress prints a progress line every so often until stopped.
func streamProgress(w io.Writer, every time.Duration) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		last, lastTime := dataflow.StreamProgress.Read.Load(), time.Now()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				n := dataflow.StreamProgress.Read.Load()
				rate := float64(n-last) / now.Sub(lastTime).Seconds()
				last, lastTime = n, now
				fmt.Fprintf(w, "stream: %s records/s; %s\n", humanCount(rate), streamCounts())
			}
		}
	}()
	return func() { close(done) }
}

// streamReadiness returns the readiness check of the stream's /readyz:
// Bigtable reachable and every streamed table initialised, probed at most
// once a second (functions.Readiness), failing from the moment ctx ends
// (the stream drains). closeStore releases the probe's connection.
func streamReadiness(ctx context.Context, job dataflow.StreamJob) (ready *functions.Readiness, closeStore func(), err error) {
	t := job.Target
	store, err := bigtable.Open(ctx, bigtable.Config{Project: t.Project, Instance: t.Instance, Prefix: t.Prefix, EmulatorHost: t.EmulatorHost, Timeout: time.Second})
	if err != nil {
		return nil, nil, err
	}
	names := make([]string, len(job.Tables))
	for i, t := range job.Tables {
		names[i] = t.Name
	}
	ready = functions.NewReadiness(func(ctx context.Context) error { return store.Probe(ctx, names) }, nil)
	stop := context.AfterFunc(ctx, ready.Drain)
	return ready, func() { stop(); store.Close() }, nil
}

// serveStreamMetrics serves the stream's Prometheus metrics at /metrics,
// liveness at /healthz and readiness (ready) at /readyz.
func serveStreamMetrics(addr string, ready http.Handler, stdout io.Writer) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(dataflow.StreamMetrics, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, `{"status":"ok"}`+"\n") })
	mux.Handle("GET /readyz", ready)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	fmt.Fprintf(stdout, "metrics on http://%s/metrics\n", ln.Addr())
	return func() { hs.Close() }, nil
}
