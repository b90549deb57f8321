package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/datafile"
	"github.com/fenestra-dev/fenestra/internal/producer"
)

// streamConfig is what stream was asked to do.
type streamConfig struct {
	brokers, topic, sql   string
	target, view, metrics string
	rate, probes          float64
	duration, every       time.Duration
	keys                  int
}

func runStream(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("stream", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c streamConfig
	fs.StringVar(&c.brokers, "brokers", os.Getenv("KAFKA_BROKERS"), "the Kafka seed brokers (default $KAFKA_BROKERS)")
	fs.StringVar(&c.topic, "topic", "tx", "the topic fenestra stream reads the first table from")
	fs.StringVar(&c.sql, "sql", "", "the feature file (its first table is produced)")
	fs.StringVar(&c.target, "target", "http://127.0.0.1:8080", "the feature function's base URL, for the freshness probes")
	fs.StringVar(&c.view, "view", "features", "the view the probes compute")
	fs.StringVar(&c.metrics, "stream-metrics", "", "the stream's metrics URL (fenestra stream --metrics-addr), to report its CPU and memory")
	fs.Float64Var(&c.rate, "rate", 5000, "events per second")
	fs.Float64Var(&c.probes, "probes", 5, "freshness probes per second")
	fs.DurationVar(&c.duration, "duration", 60*time.Second, "how long to produce")
	fs.DurationVar(&c.every, "every", 0, "print a report line this often (0: only at the end)")
	fs.IntVar(&c.keys, "keys", 10_000, "number of cards the events are spread over")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if c.brokers == "" || c.sql == "" || c.rate <= 0 || c.probes <= 0 || c.duration <= 0 || c.keys < 1 || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	if err := streamLoad(ctx, c, stdout); err != nil {
		fmt.Fprintf(stderr, "fenestra-load stream: %v\n", err)
		return 1
	}
	return 0
}

// streamLoad produces events at c.rate for c.duration and, meanwhile,
// probes freshness: a probe produces one event of a new card, stamped with
// its send time, and polls a request for that card every 10 ms until the
// answer changes. Its freshness is the time from the stamp to the answer
// that shows it: Kafka, the stream, Bigtable and a request, measured from
// outside. A probe that fails (an error answer, say) is counted and
// reported, not fatal.
func streamLoad(ctx context.Context, c streamConfig, stdout io.Writer) error {
	text, err := os.ReadFile(c.sql)
	if err != nil {
		return err
	}
	mod, err := featurelang.Compile(c.sql, string(text), featurelang.Options{})
	if err != nil {
		return err
	}
	table := mod.Tables[0]
	gen, err := newRowGen(table, time.Now())
	if err != nil {
		return err
	}
	p, err := producer.New(c.brokers, c.topic, table)
	if err != nil {
		return err
	}
	defer p.Close()
	before, err := streamProcess(ctx, c.metrics)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, c.duration)
	defer cancel()
	var (
		mu        sync.Mutex
		fresh     []time.Duration // the probes' freshness since the last report
		all       []time.Duration
		probeErrs int   // probes that failed (an error answer, say)
		firstErr  error // the first of them
		wg        sync.WaitGroup
	)
	wg.Go(func() {
		client := &http.Client{Timeout: 10 * time.Second}
		t := time.NewTicker(time.Duration(float64(time.Second) / c.probes))
		defer t.Stop()
		for n := 0; ; n++ {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			wg.Go(func() {
				d, err := probe(ctx, client, c, p, gen, n)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					fresh, all = append(fresh, d), append(all, d)
				case ctx.Err() == nil:
					probeErrs++
					if firstErr == nil {
						firstErr = err
					}
				}
			})
		}
	})
	start := time.Now()
	produced := 0
	lastReport, lastProduced := start, 0
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	blk := types.NewBlock(table.Schema, 0)
	for ctx.Err() == nil {
		due := int(c.rate * time.Since(start).Seconds())
		blk.Reset()
		for ; produced < due; produced++ {
			blk.AppendRow(gen.row(int64(produced), gen.rnd.IntN(c.keys), time.Now()))
		}
		if blk.Len > 0 {
			if err := p.Send(ctx, p.Records(blk, 0, blk.Len)); err != nil && ctx.Err() == nil {
				return err
			}
		}
		if now := time.Now(); c.every > 0 && now.Sub(lastReport) >= c.every {
			mu.Lock()
			window := fresh
			fresh = nil
			mu.Unlock()
			proc, _ := streamProcess(context.Background(), c.metrics)
			fmt.Fprintf(stdout, "%s  %.0f events/s  freshness %s  %s\n", now.Format(time.TimeOnly),
				float64(produced-lastProduced)/now.Sub(lastReport).Seconds(), quantilesText(window), proc.memory())
			lastReport, lastProduced = now, produced
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
	elapsed := time.Since(start)
	wg.Wait()
	after, _ := streamProcess(context.Background(), c.metrics)
	fmt.Fprintf(stdout, "produced %d events in %v (%.0f events/s) over %d cards to %s\n", produced, elapsed.Round(time.Millisecond),
		float64(produced)/elapsed.Seconds(), c.keys, c.topic)
	fmt.Fprintf(stdout, "freshness (event sent -> a request sees it), %s\n", quantilesText(all))
	if probeErrs > 0 {
		fmt.Fprintf(stdout, "%d probes failed, the first: %v\n", probeErrs, firstErr)
	}
	if c.metrics != "" {
		cpu := after.cpu - before.cpu
		fmt.Fprintf(stdout, "stream process: %.1f s of CPU (%.1f µs per event, %.0f%% of a core); %s\n",
			cpu, cpu/float64(max(produced, 1))*1e6, 100*cpu/elapsed.Seconds(), after.memory())
	}
	return nil
}

// probe produces one event of card probeN and returns how long it took a
// request for that card to see it.
func probe(ctx context.Context, client *http.Client, c streamConfig, p *producer.Producer, gen *rowGen, n int) (time.Duration, error) {
	at := time.Now()
	row := gen.row(int64(-1-n), 0, at)
	card := fmt.Sprintf("probe%d-%d", at.UnixNano(), n)
	row[gen.card] = types.StringValue(card)
	body := probeBody(gen, row)
	url := strings.TrimRight(c.target, "/") + "/v1/views/" + c.view + ":compute"
	baseline, err := answer(ctx, client, url, body)
	if err != nil {
		return 0, err
	}
	blk := types.NewBlock(gen.schema, 1)
	blk.AppendRow(row)
	recs := p.Records(blk, 0, 1)
	recs[0].Timestamp = at
	sent := time.Now()
	if err := p.Send(ctx, recs); err != nil {
		return 0, err
	}
	for {
		got, err := answer(ctx, client, url, body)
		if err != nil {
			return 0, err
		}
		if !bytes.Equal(got, baseline) {
			return time.Since(sent), nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// probeBody is a request of one row like row, a second later (so the
// request sorts after the probe event), with another id.
func probeBody(gen *rowGen, row []types.Value) []byte {
	req := slices.Clone(row)
	req[gen.ts] = types.TimestampValue(row[gen.ts].I + 1000)
	if gen.id >= 0 {
		req[gen.id] = types.Int64Value(1 << 40)
	}
	blk := types.NewBlock(gen.schema, 1)
	blk.AppendRow(req)
	b := []byte(`{"rows":[`)
	b = datafile.AppendRow(b, datafile.JSONL, blk, 0)
	return append(b[:len(b)-1], "]}"...)
}

// answer posts a compute request and returns the answer's body.
func answer(ctx context.Context, client *http.Client, url string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s: %s", url, resp.Status, bytes.TrimSpace(b))
	}
	return b, nil
}

// quantilesText words the freshness quantiles of ds.
func quantilesText(ds []time.Duration) string {
	if len(ds) == 0 {
		return "no probes"
	}
	slices.Sort(ds)
	q := func(p float64) time.Duration { return ds[min(len(ds)-1, int(p*float64(len(ds))))] }
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64) }
	return fmt.Sprintf("p50 %s ms, p99 %s ms, max %s ms (%d probes)", ms(q(0.5)), ms(q(0.99)), ms(ds[len(ds)-1]), len(ds))
}

// process is what a process's metrics say of its resources.
type process struct {
	cpu, rss float64 // CPU seconds, resident bytes (0: unknown)
}

func (p process) memory() string {
	if p.rss == 0 {
		return ""
	}
	return fmt.Sprintf("RSS %.0f MiB", p.rss/(1<<20))
}

// streamProcess reads process_cpu_seconds_total and
// process_resident_memory_bytes from a metrics URL ("" reads nothing).
func streamProcess(ctx context.Context, url string) (process, error) {
	var p process
	if url == "" {
		return p, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return p, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return p, fmt.Errorf("reading the stream's metrics: %w", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "process_cpu_seconds_total "); ok {
			p.cpu, _ = strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
		if v, ok := strings.CutPrefix(sc.Text(), "process_resident_memory_bytes "); ok {
			p.rss, _ = strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return p, sc.Err()
}
