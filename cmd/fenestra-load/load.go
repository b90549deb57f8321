package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// loadConfig is what run was asked to do.
type loadConfig struct {
	target, view, token string
	rate                float64
	duration            time.Duration
	keys, concurrency   int
	timeout             time.Duration
	serverPID, storePID int // processes whose CPU time to report (0: none)
	// ingest rows a second are stored meanwhile (PUT /v1/tables/{table}/rows,
	// ten calls a second); 0: none.
	ingest      float64
	ingestTable string
	// every, when set, prints a line per period: the period's requests,
	// p99 and errors, and the server's RSS, goroutines and open files.
	every time.Duration
}

func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c loadConfig
	fs.StringVar(&c.target, "target", "http://127.0.0.1:8080", "the server's base URL")
	fs.StringVar(&c.view, "view", "features", "the view to compute")
	fs.StringVar(&c.token, "token", "", "a bearer token to send")
	fs.Float64Var(&c.rate, "rate", 500, "requests per second")
	fs.DurationVar(&c.duration, "duration", 60*time.Second, "how long to send requests")
	fs.IntVar(&c.keys, "keys", 10_000, "number of cards (as given to setup)")
	fs.IntVar(&c.concurrency, "concurrency", 512, "the most requests in flight")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Second, "client timeout of a request")
	fs.IntVar(&c.serverPID, "server-pid", 0, "the server's process id: report its CPU time per request, from /proc (Linux)")
	fs.IntVar(&c.storePID, "store-pid", 0, "the Bigtable emulator's process id: report its CPU time per request too")
	fs.Float64Var(&c.ingest, "ingest", 0, "rows a second to store meanwhile through PUT /v1/tables/{table}/rows (ten calls a second; 0: none)")
	fs.StringVar(&c.ingestTable, "ingest-table", "tx", "the table --ingest writes")
	fs.DurationVar(&c.every, "every", 0, "print a line per period: its requests, p99 and errors, and the server's RSS, goroutines and open files (a soak; 0: none)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if c.rate <= 0 || c.duration <= 0 || c.keys < 1 || c.concurrency < 1 || c.ingest < 0 || c.every < 0 || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	rep, err := load(ctx, c, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "fenestra-load run: %v\n", err)
		return 1
	}
	rep.print(stdout, c)
	if rep.errors() > 0 {
		return 1
	}
	return 0
}

// report is the outcome of a run.
type report struct {
	samples             []sample    // of the answered requests
	statuses            map[int]int // answers by status; 0 for transport errors
	elapsed             time.Duration
	rssBefore, rssAfter float64 // the server's resident memory, bytes (0: unknown)
	firstErr            string
	sent                int         // requests sent
	cpu                 []*cpuWatch // of --server-pid and --store-pid, when given
	ingested            int         // rows stored by --ingest (acknowledged)
	ingestErrs          int         // --ingest calls that failed
}

// sample is the timing of one answered request.
type sample struct {
	latency time.Duration // from sending it to its answer
	lag     time.Duration // from when it was due to when it was sent
	server  time.Duration // the server's own time (Server-Timing total; -1: none)
}

func (r *report) errors() int {
	n := 0
	for s, c := range r.statuses {
		if s != http.StatusOK {
			n += c
		}
	}
	return n
}

// quantiles returns a function giving the p-quantile of the durations f
// picks from the samples (0 when there are none).
func (r *report) quantiles(f func(sample) time.Duration) func(p float64) time.Duration {
	d := make([]time.Duration, 0, len(r.samples))
	for _, s := range r.samples {
		if v := f(s); v >= 0 {
			d = append(d, v)
		}
	}
	slices.Sort(d)
	return func(p float64) time.Duration {
		if len(d) == 0 {
			return 0
		}
		return d[min(len(d)-1, int(p*float64(len(d))))].Round(time.Microsecond)
	}
}

func (r *report) print(w io.Writer, c loadConfig) {
	n := len(r.samples)
	fmt.Fprintf(w, "%s: %d requests in %v (%.0f/s, target %.0f/s)\n", c.target, n, r.elapsed.Round(time.Millisecond), float64(n)/r.elapsed.Seconds(), c.rate)
	q := r.quantiles(func(s sample) time.Duration { return s.latency })
	fmt.Fprintf(w, "latency p50 %v  p90 %v  p99 %v  p99.9 %v  max %v\n", q(0.50), q(0.90), q(0.99), q(0.999), q(1))
	q = r.quantiles(func(s sample) time.Duration { return s.lag + s.latency })
	lag := r.quantiles(func(s sample) time.Duration { return s.lag })
	fmt.Fprintf(w, "from schedule p50 %v  p99 %v  (the sender's lag behind it: p50 %v  p99 %v  max %v)\n", q(0.50), q(0.99), lag(0.50), lag(0.99), lag(1))
	if q = r.quantiles(func(s sample) time.Duration { return s.server }); q(1) > 0 {
		fmt.Fprintf(w, "server time p50 %v  p90 %v  p99 %v  p99.9 %v  (its Server-Timing total)\n", q(0.50), q(0.90), q(0.99), q(0.999))
	}
	fmt.Fprintf(w, "errors %d", r.errors())
	for _, s := range slices.Sorted(maps.Keys(r.statuses)) {
		if s != http.StatusOK {
			fmt.Fprintf(w, "  [status %d: %d]", s, r.statuses[s])
		}
	}
	if r.firstErr != "" {
		fmt.Fprintf(w, "  first: %s", r.firstErr)
	}
	fmt.Fprintln(w)
	if r.rssBefore > 0 {
		fmt.Fprintf(w, "server RSS before %.1f MiB, after %.1f MiB\n", r.rssBefore/(1<<20), r.rssAfter/(1<<20))
	}
	for _, c := range r.cpu {
		c.print(w, r.sent, r.elapsed)
	}
	if c.ingest > 0 {
		fmt.Fprintf(w, "ingested %d rows into %s (%d calls failed)\n", r.ingested, c.ingestTable, r.ingestErrs)
	}
}

// load sends the requests, open loop: request i is due at start +
// i/rate. The sender sleeps until a request is due, or sends at once when
// it is late, so the server sees the rate asked for however late the
// sender wakes. A request's latency runs from when it is sent, the wait
// for a free slot (--concurrency) included, so a server that falls behind
// cannot hide its queue; the sender's own lateness (Go's timers wake up
// to a millisecond late on Linux) is reported apart, as its lag.
func load(ctx context.Context, c loadConfig, stdout io.Writer) (*report, error) {
	client := &http.Client{Timeout: c.timeout, Transport: &http.Transport{
		MaxIdleConns: c.concurrency, MaxIdleConnsPerHost: c.concurrency, IdleConnTimeout: time.Minute}}
	rep := &report{statuses: map[int]int{}}
	var err error
	if rep.rssBefore, err = rss(ctx, client, c); err != nil {
		return nil, err
	}
	url := strings.TrimRight(c.target, "/") + "/v1/views/" + c.view + ":compute"
	total := int(c.rate * c.duration.Seconds())
	interval := time.Duration(float64(time.Second) / c.rate)
	slots := make(chan struct{}, c.concurrency)
	var mu sync.Mutex
	var wg sync.WaitGroup
	rnd := rand.New(rand.NewPCG(3, 4))
	for _, p := range []struct {
		name string
		pid  int
	}{{"server", c.serverPID}, {"store", c.storePID}} {
		w, err := startCPU(p.name, p.pid)
		if err != nil {
			return nil, err
		}
		if w != nil {
			rep.cpu = append(rep.cpu, w)
		}
	}
	start := time.Now()
	bg, stopBG := context.WithCancel(ctx)
	var bgs sync.WaitGroup
	if c.ingest > 0 {
		bgs.Go(func() { ingest(bg, client, c, rep, &mu) })
	}
	if c.every > 0 {
		bgs.Go(func() { soak(bg, client, c, rep, &mu, start, stdout) })
	}
	for i := 0; i < total && ctx.Err() == nil; i++ {
		due := start.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		sent := time.Now()
		rep.sent++
		body := requestBody(i, rnd.IntN(c.keys), rnd.IntN(50_000))
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			status, server, msg := send(ctx, client, url, c.token, body)
			lat := time.Since(sent)
			mu.Lock()
			defer mu.Unlock()
			rep.statuses[status]++
			if status == http.StatusOK {
				rep.samples = append(rep.samples, sample{latency: lat, lag: max(0, sent.Sub(due)), server: server})
			} else if rep.firstErr == "" {
				rep.firstErr = msg
			}
		}()
	}
	wg.Wait()
	rep.elapsed = time.Since(start)
	stopBG()
	bgs.Wait()
	for _, w := range rep.cpu {
		if err := w.stop(); err != nil {
			return nil, err
		}
	}
	rep.rssAfter, _ = rss(ctx, client, c)
	return rep, nil
}

// ingest stores c.ingest rows a second into c.ingestTable, in ten calls
// a second, until ctx ends: new transactions of random cards, as
// requestBody makes them.
func ingest(ctx context.Context, client *http.Client, c loadConfig, rep *report, mu *sync.Mutex) {
	url := strings.TrimRight(c.target, "/") + "/v1/tables/" + c.ingestTable + "/rows"
	rnd := rand.New(rand.NewPCG(5, 6))
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	owed, id := 0.0, 2_000_000_000
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		owed += c.ingest / 10
		n := int(owed)
		if n == 0 {
			continue
		}
		owed -= float64(n)
		b := []byte(`{"rows":[`)
		for k := range n {
			if k > 0 {
				b = append(b, ',')
			}
			b = appendRow(b, id, rnd.IntN(c.keys), rnd.IntN(50_000))
			id++
		}
		b = append(b, "]}"...)
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, bytes.NewReader(b))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", "application/json")
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err := client.Do(req)
		ok := err == nil && resp.StatusCode == http.StatusOK
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		if ctx.Err() != nil {
			return
		}
		mu.Lock()
		if ok {
			rep.ingested += n
		} else {
			rep.ingestErrs++
		}
		mu.Unlock()
	}
}

// soak prints a line every c.every until ctx ends: the period's requests,
// their p99 and the errors, and the server's RSS, goroutines and open
// files (its sockets among them) from its /metrics.
func soak(ctx context.Context, client *http.Client, c loadConfig, rep *report, mu *sync.Mutex, start time.Time, w io.Writer) {
	fmt.Fprintf(w, "%8s %8s %10s %7s %9s %10s %10s %8s\n", "elapsed", "answers", "p99", "errors", "ingested", "RSS MiB", "goroutines", "open fds")
	tick := time.NewTicker(c.every)
	defer tick.Stop()
	seen, errs := 0, 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		mu.Lock()
		period := &report{samples: slices.Clone(rep.samples[seen:])}
		seen = len(rep.samples)
		e := rep.errors() - errs
		errs += e
		ingested := rep.ingested
		mu.Unlock()
		m, err := metrics(ctx, client, c, "process_resident_memory_bytes", "go_goroutines", "process_open_fds")
		if err != nil && ctx.Err() != nil {
			return
		}
		p99 := period.quantiles(func(s sample) time.Duration { return s.latency })(0.99)
		fmt.Fprintf(w, "%8s %8d %10v %7d %9d %10.1f %10.0f %8.0f\n", time.Since(start).Round(min(time.Second, c.every)), len(period.samples), p99, e, ingested,
			m["process_resident_memory_bytes"]/(1<<20), m["go_goroutines"], m["process_open_fds"])
	}
}

// requestBody is a one-row request for card k now.
func requestBody(i, k, cents int) []byte {
	b := appendRow([]byte(`{"rows":[`), 1_000_000_000+i, k, cents)
	return append(b, "]}"...)
}

// appendRow appends the row of transaction id, card k, now, as a JSON array.
func appendRow(b []byte, id, k, cents int) []byte {
	b = append(b, '[')
	b = strconv.AppendInt(b, int64(id), 10)
	b = append(b, `,"`...)
	b = append(b, cardName(k)...)
	b = append(b, `",`...)
	b = strconv.AppendFloat(b, float64(cents)/100, 'g', -1, 64)
	b = append(b, ',')
	b = strconv.AppendInt(b, time.Now().UnixMilli(), 10)
	return append(b, ']')
}

// send posts one request and returns its status (0 when it failed to
// complete), the server's own time (from its Server-Timing header; -1
// when it gives none) and, for a failure, a description.
func send(ctx context.Context, client *http.Client, url, token string, body []byte) (int, time.Duration, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, -1, err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, -1, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, -1, fmt.Sprintf("%d %s", resp.StatusCode, bytes.TrimSpace(b))
	}
	return resp.StatusCode, serverTotal(resp.Header.Get("Server-Timing")), ""
}

// serverTotal reads the total;dur=MS metric of a Server-Timing header
// (-1 when it has none).
func serverTotal(h string) time.Duration {
	for m := range strings.SplitSeq(h, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(m), ";")
		if name != "total" {
			continue
		}
		for p := range strings.SplitSeq(params, ";") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(p), "dur="); ok {
				if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 {
					return time.Duration(ms * float64(time.Millisecond))
				}
			}
		}
	}
	return -1
}

// rss reads the server's process_resident_memory_bytes from its /metrics
// (0 when it does not report it).
func rss(ctx context.Context, client *http.Client, c loadConfig) (float64, error) {
	m, err := metrics(ctx, client, c, "process_resident_memory_bytes")
	return m["process_resident_memory_bytes"], err
}

// metrics reads the values of the unlabelled metrics names from the
// server's /metrics (a name it does not report is missing).
func metrics(ctx context.Context, client *http.Client, c loadConfig, names ...string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(c.target, "/")+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reaching %s: %w", c.target, err)
	}
	defer resp.Body.Close()
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), " ")
		if ok && slices.Contains(names, name) {
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				m[name] = f
			}
		}
	}
	return m, sc.Err()
}
