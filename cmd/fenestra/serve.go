package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fenestra-dev/fenestra/console"
	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/functions"
	"github.com/fenestra-dev/fenestra/internal/records"
	"github.com/fenestra-dev/fenestra/storage/bigtable"
)

// Defaults of serve's draining: --drain-timeout bounds the wait for the
// requests in flight; drainSettle is how long connections already open
// may bring one more request (answered with Connection: close) before
// idle ones are closed.
const (
	defaultDrainTimeout = 10 * time.Second
	drainSettle         = time.Second
)

// runServe runs fenestra serve: the views of a feature file, or the
// deployments stored in Bigtable, over HTTP, with history in Bigtable,
// until ctx is done.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sql := fs.String("sql", "", "the feature file whose DEPLOY views to serve (none: serve the deployments stored in Bigtable)")
	addr := fs.String("addr", ":8080", "the address to listen on")
	instance := fs.String("bigtable", "", "the Bigtable PROJECT/INSTANCE (default local/local when BIGTABLE_EMULATOR_HOST is set)")
	prefix := fs.String("prefix", bigtable.DefaultPrefix, "prefix of the Bigtable table names")
	tokenFile := fs.String("auth-token-file", "", "a file holding the bearer token requests must carry (none: no authentication)")
	maxBody := fs.Int64("max-body", functions.DefaultMaxBody, "the largest request body, in bytes (larger: 413)")
	timeout := fs.Duration("timeout", functions.DefaultTimeout, "the deadline of each request (storage included)")
	maxRows := fs.Int("max-rows", functions.DefaultMaxRows, "the most rows of one compute request (more: 413, before any is evaluated); negative: no limit")
	database := fs.String("database", "", "the database name the OpenMLDB routes /dbs/{db}/... answer to (default: any)")
	initTables := fs.Bool("init", false, "create the feature file's tables first, as fenestra storage init does (with --sql)")
	poll := fs.Duration("poll", functions.DefaultPoll, "without --sql: how often to list the stored deployments, to serve new ones and stop dropped ones")
	debugAddr := fs.String("debug-addr", "", "an address to serve Go's profiles on, /debug/pprof/ (none: off); keep it private")
	withConsole := fs.Bool("console", true, "serve the web console at / (its data routes need the token too)")
	drainTimeout := fs.Duration("drain-timeout", defaultDrainTimeout, "on SIGTERM or SIGINT: how long to wait for the requests in flight before exiting (their connections are then cut)")
	var held holdConfig
	fs.Var(&held.topics, "follow", "hold a table in memory, kept current from the Kafka topic fenestra stream writes it from, TABLE=TOPIC (repeat for more tables; db.table for a stored deployment's): its reads make no call to Bigtable")
	fs.StringVar(&held.brokers, "brokers", os.Getenv("KAFKA_BROKERS"), "with --follow: the Kafka seed brokers, HOST:PORT[,HOST:PORT...] (default $KAFKA_BROKERS)")
	fs.StringVar(&held.group, "group", "fenestra-stream", "with --follow: the consumer group of fenestra stream, whose committed offsets following starts from")
	badRows := fs.String("bad-rows", "fail", "with --follow: what a record that is not a row does, as fenestra stream's --bad-rows: fail (stop following; not ready) or skip (count it; dead-letter=TOPIC skips too)")
	gcPercent := fs.Int("gc-percent", defaultGCPercent, "the Go garbage collector's target heap growth, as GOGC (which, when set, wins): higher spends less CPU collecting and more memory; 100 with --follow, whose held tables make the heap large")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: fenestra serve --sql FILE.sql [--addr :8080] [--bigtable PROJECT/INSTANCE] [flags]\n"+
			"       fenestra serve --bigtable PROJECT/INSTANCE [--poll 2s] [--addr :8080] [flags]\n\n"+
			"Serves the DEPLOY views of a feature file over HTTP: each request row is\n"+
			"evaluated against the rows stored in Bigtable, with the same evaluator as\n"+
			"batch mode. Without --sql, serves the deployments stored in Bigtable\n"+
			"(a script's DEPLOY statements, fenestra run), listing them every --poll:\n"+
			"new deployments are served and dropped ones stopped without a restart.\n"+
			"With BIGTABLE_EMULATOR_HOST set, it uses that emulator.\n\n"+
			"--follow TABLE=TOPIC holds a table in memory: loaded from Bigtable at start,\n"+
			"then kept current from the topic fenestra stream writes it from (from the\n"+
			"stream group's committed offsets), so its reads make no call to Bigtable;\n"+
			"/readyz fails until it has caught up with the topic.\n\n"+
			"routes:\n"+
			"  POST /v1/views/{view}:compute     {\"rows\": [...], \"store\": false}; {view}: name, or db.name\n"+
			"  GET  /v1/views, /v1/views/{view}\n"+
			"  GET  /v1/deployments              what is served, and why a deployment is not\n"+
			"  PUT  /v1/tables/{table}/rows      {\"rows\": [...]}\n"+
			"  POST /dbs/{db}/deployments/{name} (OpenMLDB APIServer), GET likewise\n"+
			"  PUT  /dbs/{db}/tables/{table}     (OpenMLDB APIServer)\n"+
			"  GET  /healthz                     liveness (no storage)\n"+
			"  GET  /readyz                      readiness: the store reachable, every table initialised; 503 when draining\n"+
			"  GET  /metrics\n"+
			"  GET  /                            the web console (--console)\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 || *drainTimeout <= 0 || *maxBody <= 0 || *maxRows == 0 || *sql == "" && *instance == "" && os.Getenv("BIGTABLE_EMULATOR_HOST") == "" {
		fs.Usage()
		return 2
	}
	if len(held.topics) > 0 && held.brokers == "" {
		fmt.Fprintln(stderr, "fenestra serve: --follow needs --brokers (or $KAFKA_BROKERS)")
		return 2
	}
	bad, err := records.ParsePolicy(*badRows)
	if err != nil {
		fmt.Fprintf(stderr, "fenestra serve: --bad-rows: %v\n", err)
		return 2
	}
	held.bad = bad
	if *sql == "" && *initTables {
		fmt.Fprintln(stderr, "fenestra serve: --init needs --sql: stored deployments' tables are created when they are deployed")
		return 2
	}
	project, inst, err := bigtable.ParseInstance(*instance)
	if err != nil {
		fmt.Fprintf(stderr, "fenestra serve: %v\n", err)
		return 2
	}
	if len(held.topics) > 0 && !flagSet(fs, "gc-percent") {
		*gcPercent = heldGCPercent
	}
	setGCPercent(*gcPercent)
	log := slog.New(slog.NewTextHandler(stderr, nil))
	tp, stopTracing, err := startTracing(ctx, "fenestra-serve", stdout)
	if err != nil {
		fmt.Fprintf(stderr, "fenestra serve: %v\n", err)
		return 1
	}
	defer stopTracing()
	cfg := serveConfig{hold: held, sql: *sql, addr: *addr, drainTimeout: *drainTimeout, debugAddr: *debugAddr, tokenFile: *tokenFile, init: *initTables, poll: *poll, console: *withConsole,
		store: bigtable.Config{Project: project, Instance: inst, Prefix: *prefix, Timeout: storeTimeout(*timeout), Logger: log},
		opts:  functions.Options{Timeout: *timeout, Logger: log, MaxRows: *maxRows, TracerProvider: tp},
		sopts: functions.ServerOptions{MaxBody: *maxBody, Database: *database, Logger: log}}
	if err := serve(ctx, cfg, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "fenestra serve: %v\n", err)
		return 1
	}
	return 0
}

// defaultGCPercent is serve's GOGC. A server's live heap is small (tens
// of MB: the views, connections and the requests in flight) while every
// request allocates its stored rows, so at Go's default of 100 the
// collector runs several times a second at load, and each cycle also
// shrinks the stacks of the idle workers, which grow them again: a fifth
// of the CPU of a request at 2,000 requests/s. 400 collects a quarter as
// often for some 100 MB more heap.
const defaultGCPercent = 400

// heldGCPercent is serve's GOGC with --follow: the tables held make the
// live heap large (1,000,000 rows of 4 columns about 150 MB), so Go's
// default already collects rarely, and 400 would let the heap grow to five
// times the live one (800 MB against 380 MB at 100 for those rows, for
// the same CPU per request).
const heldGCPercent = 100

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// setGCPercent sets the collector's GOGC to percent, unless the
// environment's GOGC says otherwise.
func setGCPercent(percent int) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(percent)
	}
}

// verifyGCPercent is verify's GOGC. Its live heap is large (the
// emulator holds every stored row) and every replayed request allocates
// the rows it reads, so the collector's cost grows with both: at 200 the
// replay of the cards example's 1M transactions used 438 s of CPU (3m39s
// on 2 cores) where it used about 515 s (4m17s) at Go's default of 100,
// for a peak RSS of 7.8 GB instead of 4.5 GB. The soft memory limit
// beside it (limitMemory) makes the collector work harder rather than
// pass half the machine.
const verifyGCPercent = 200

// limitMemory sets the runtime's soft memory limit to bytes (when it is
// positive), unless the environment's GOMEMLIMIT says otherwise.
func limitMemory(bytes int64) {
	if bytes > 0 && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(bytes)
	}
}

// serveConfig is what fenestra serve was asked to do.
type serveConfig struct {
	hold                 holdConfig // --follow: tables held in memory
	sql, addr, tokenFile string     // sql empty: the stored deployments
	debugAddr            string
	init, console        bool
	poll, drainTimeout   time.Duration
	store                bigtable.Config
	opts                 functions.Options
	sopts                functions.ServerOptions
}

// storeTimeout bounds each call to Bigtable at three quarters of the
// request deadline, so an unreachable Bigtable fails the call as
// unavailable (503) before the request's deadline passes (504).
func storeTimeout(request time.Duration) time.Duration {
	if request <= 0 {
		return bigtable.DefaultTimeout
	}
	return min(bigtable.DefaultTimeout, request*3/4)
}

// serve wires the service and serves HTTP until ctx is done, then shuts
// down gracefully.
func serve(ctx context.Context, cfg serveConfig, stdout, stderr io.Writer) error {
	var mod *featurelang.Module
	if cfg.sql != "" {
		mods, ok := compileFiles([]string{cfg.sql}, stderr)
		if !ok {
			return fmt.Errorf("%s does not compile", cfg.sql)
		}
		mod = mods[0]
	}
	if cfg.tokenFile != "" {
		b, err := os.ReadFile(cfg.tokenFile)
		if err != nil {
			return err
		}
		if cfg.sopts.AuthToken = strings.TrimSpace(string(b)); cfg.sopts.AuthToken == "" {
			return fmt.Errorf("the token file %s is empty", cfg.tokenFile)
		}
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	defer ln.Close() // if serving never starts
	store, err := bigtable.Open(ctx, cfg.store)
	if err != nil {
		return err
	}
	defer store.Close()
	if cfg.console {
		copts := console.Options{Store: store, SQL: console.StoredSQL(store), Logger: cfg.sopts.Logger}
		if mod != nil {
			text, err := os.ReadFile(cfg.sql)
			if err != nil {
				return err
			}
			copts.SQL = console.FileSQL(cfg.sql, string(text))
		}
		cfg.sopts.Routes = console.New(copts).Routes()
	}
	var handler http.Handler
	var what string
	var svc *functions.Service // the one Drain marks; a Catalog's services share it
	if mod != nil && cfg.init {
		if err := store.Init(ctx, mod.Tables); err != nil {
			return err
		}
	}
	var src functions.CatalogStore = store
	var held *heldStore
	if len(cfg.hold.topics) > 0 {
		if held, err = hold(ctx, store, cfg.hold, cfg.sopts.Logger, stdout); err != nil {
			return err
		}
		defer held.Close()
		src = held
	}
	if mod != nil {
		if svc, err = functions.New(mod, src, cfg.opts); err != nil {
			return err
		}
		handler, what = functions.NewServer(svc, cfg.sopts), fmt.Sprintf("%d views of %s", len(svc.Views()), cfg.sql)
	} else {
		cat, err := functions.NewCatalog(ctx, src, functions.CatalogOptions{Service: cfg.opts, Server: cfg.sopts, Poll: cfg.poll})
		if err != nil {
			return err
		}
		defer cat.Close()
		svc, handler, what = cat.Service(), cat, fmt.Sprintf("%d stored deployments (listed every %v)", len(cat.Service().Views()), cfg.poll)
	}
	if held != nil {
		svc.Registry().MustRegister(heldMetrics{held}) // a Catalog's services share one registry
	}
	hs := &http.Server{Handler: handler,
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(cfg.sopts.Logger.Handler(), slog.LevelWarn)}
	fmt.Fprintf(stdout, "serving %s on http://%s (Bigtable %s/%s at %s)\n",
		what, ln.Addr(), cfg.store.Project, cfg.store.Instance, store.Addr())
	if cfg.debugAddr != "" {
		stop, err := serveDebug(cfg.debugAddr, stdout)
		if err != nil {
			return err
		}
		defer stop()
	}
	return startHTTP(hs, ln).drain(ctx, svc, cfg.drainTimeout, stdout)
}

// serving is an HTTP server serving in the background.
type serving struct {
	hs   *http.Server
	ln   *onceCloser
	open atomic.Int64 // connections open
	done chan error
}

// startHTTP starts hs serving ln in the background.
func startHTTP(hs *http.Server, ln net.Listener) *serving {
	s := &serving{hs: hs, ln: &onceCloser{Listener: ln}, done: make(chan error, 1)}
	connState := hs.ConnState
	hs.ConnState = func(c net.Conn, state http.ConnState) {
		switch state {
		case http.StateNew:
			s.open.Add(1)
		case http.StateClosed, http.StateHijacked:
			s.open.Add(-1)
		}
		if connState != nil {
			connState(c, state)
		}
	}
	go func() { s.done <- hs.Serve(s.ln) }()
	return s
}

// wait serves until ctx is done, then shuts down gracefully (requests in
// flight get defaultDrainTimeout) and prints "stopped"; or returns the
// error that stopped serving first. It is fenestra up's: serve drains
// (drain).
func (s *serving) wait(ctx context.Context, stdout io.Writer) error {
	select {
	case err := <-s.done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), defaultDrainTimeout)
	defer cancel()
	err := s.hs.Shutdown(sctx)
	if serr := <-s.done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	fmt.Fprintln(stdout, "stopped")
	return err
}

// drain serves until ctx is done (SIGTERM, SIGINT), then drains and
// prints "stopped"; or returns the error that stopped serving first.
// Draining: svc (when not nil) is marked draining, so /readyz fails and
// every answer closes its connection (Connection: close); the listener
// closes at once, so no connection is accepted; connections already open
// may bring one more request for drainSettle (or until none is open);
// then idle connections are closed and the requests in flight get the
// rest of timeout to finish. Requests still in flight then are cut: an
// error.
func (s *serving) drain(ctx context.Context, svc *functions.Service, timeout time.Duration, stdout io.Writer) error {
	select {
	case err := <-s.done:
		return err
	case <-ctx.Done():
	}
	start := time.Now()
	if svc != nil {
		svc.Drain()
	}
	s.ln.Close()
	for deadline := start.Add(min(drainSettle, timeout)); s.open.Load() > 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	sctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), start.Add(timeout))
	defer cancel()
	err := s.hs.Shutdown(sctx)
	if err != nil {
		s.hs.Close()
		err = fmt.Errorf("requests still in flight after --drain-timeout %v were cut: %w", timeout, err)
	}
	if serr := <-s.done; !errors.Is(serr, http.ErrServerClosed) && !errors.Is(serr, net.ErrClosed) {
		err = errors.Join(err, serr)
	}
	fmt.Fprintf(stdout, "stopped (drained in %v)\n", time.Since(start).Round(time.Millisecond))
	return err
}

// onceCloser is a listener whose Close closes it once: drain closes it
// first, then http.Server.Shutdown closes it again.
type onceCloser struct {
	net.Listener
	once sync.Once
	err  error
}

func (l *onceCloser) Close() error {
	l.once.Do(func() { l.err = l.Listener.Close() })
	return l.err
}

// serveDebug serves Go's profiles (net/http/pprof) on addr, apart from
// the service's routes, until stop is called.
func serveDebug(addr string, stdout io.Writer) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--debug-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	fmt.Fprintf(stdout, "profiles on http://%s/debug/pprof/\n", ln.Addr())
	return func() { hs.Close() }, nil
}
