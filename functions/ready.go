package functions

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fenestra-dev/fenestra/storage"
)

// ReadyInterval is the shortest time between two probes of the store by
// Service.Ready: probes asked for sooner get the last one's answer, so
// the store sees one probe a second at most, whatever the probe rate.
const ReadyInterval = time.Second

// readyTimeout bounds a probe of the store.
const readyTimeout = time.Second

// Readiness is a readiness check of a process: a probe of what it
// depends on, called at most once per ReadyInterval whatever the rate of
// checks (checks in between get the last probe's answer), and a draining
// flag that fails every check once set. The Service's (Service.Ready) is
// shared by the services a Catalog builds one after another, so the
// probe's rate and the flag hold across rebuilds; fenestra stream makes
// its own (NewReadiness). A Readiness is safe for concurrent use.
type Readiness struct {
	probe    func(context.Context) error
	log      *slog.Logger
	interval time.Duration // ReadyInterval; shorter in tests
	draining atomic.Bool

	mu  sync.Mutex // held while probing: concurrent checks wait for the probe in flight
	at  time.Time  // when the last probe started; zero before the first
	err error      // its outcome
}

// NewReadiness returns the readiness check of probe, which says why the
// process cannot serve (nil: it can); a change of its answer is logged to
// log (nil: silent). probe gets a context of readyTimeout.
func NewReadiness(probe func(context.Context) error, log *slog.Logger) *Readiness {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Readiness{probe: probe, log: log, interval: ReadyInterval}
}

// Check returns ErrDraining once Drain was called, else the answer of the
// last probe, probing again when it is ReadyInterval old or more.
func (r *Readiness) Check(ctx context.Context) error { return r.check(ctx, r.probe) }

// Drain makes every later Check fail with ErrDraining.
func (r *Readiness) Drain() { r.draining.Store(true) }

// ServeHTTP answers a readiness probe (GET /readyz): 200
// {"status":"ready"}, or 503 {"status":"not ready","error":...} with the
// reason in the words of an error's answer.
func (r *Readiness) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	status, body := readyAnswer(nil, r.Check(req.Context()))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

// readyAnswer appends to b the body answering a readiness check whose
// outcome is err, and returns its status.
func readyAnswer(b []byte, err error) (int, []byte) {
	if err == nil {
		return http.StatusOK, append(b, `{"status":"ready"}`...)
	}
	b = append(b, `{"status":"not ready","error":`...)
	b = appendJSONString(b, publicMessage(err, http.StatusServiceUnavailable))
	return http.StatusServiceUnavailable, append(b, '}')
}

// check is Check with the probe given (a Service's tables change with a
// Catalog's rebuilds). A change of outcome is logged: warn when it
// becomes an error, info when it recovers.
func (r *Readiness) check(ctx context.Context, probe func(context.Context) error) error {
	if r.draining.Load() {
		return ErrDraining
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.at.IsZero() && time.Since(r.at) < r.interval {
		return r.err
	}
	r.at = time.Now()
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), readyTimeout)
	defer cancel()
	err := probe(pctx)
	switch {
	case err != nil && (r.err == nil || r.err.Error() != err.Error()):
		r.log.Warn("not ready", "err", err)
	case err == nil && r.err != nil:
		r.log.Info("ready again")
	}
	r.err = err
	return err
}

// Ready reports whether the service can serve: nil when the store is
// reachable and holds every table of the served views; else why not
// (storage.ErrUnavailable, ErrNoTable, ErrSchema, ErrPermission, joined
// per table; Status and the /readyz route turn it into a 503 and a
// message), or ErrDraining once Drain was called. The store is probed at
// most once per ReadyInterval (through storage.Prober when it is one,
// else a Describe per table), whatever the rate of calls; calls in
// between return the last probe's answer. Ready is safe for concurrent
// use.
func (s *Service) Ready(ctx context.Context) error {
	return s.ready.check(ctx, s.probe)
}

// Drain marks the service as shutting down: Ready fails with ErrDraining
// from now on (for a Catalog, on every service it builds), and the HTTP
// adapter asks clients to close their connections after each answer.
// Requests keep being served: stopping them is the HTTP server's
// (http.Server.Shutdown).
func (s *Service) Drain() { s.ready.draining.Store(true) }

// draining reports whether Drain was called.
func (s *Service) draining() bool { return s.ready.draining.Load() }

// probe checks the store and the service's tables.
func (s *Service) probe(ctx context.Context) error {
	names := make([]string, len(s.tables))
	for i, t := range s.tables {
		names[i] = t.Def.Name
	}
	if p, ok := s.store.(storage.Prober); ok {
		return p.Probe(ctx, names)
	}
	var errs []error
	for _, name := range names {
		if _, err := s.store.Describe(ctx, name); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
