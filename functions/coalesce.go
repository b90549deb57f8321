package functions

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
)

// batcher is a store that reads many queries in one call (ScanMany) and
// says which ones it reads together rather than one by one; the Bigtable
// store is one (bigtable.Store.Batched).
type batcher interface {
	eval.MultiSource
	Batched(q eval.Query) bool
}

// Bounds of the coalescer: the reads in flight at once, and the queries
// of one shared read (a batch past it leaves the rest for the next).
const (
	maxReadsInFlight = 1
	maxBatchQueries  = 256
)

// coalescer gathers the reads of the requests in flight into shared calls
// of the store's ScanMany, as a database's group commit gathers
// transactions: a read that finds nothing in flight goes at once, alone,
// so a lone request waits for nothing; reads that come while one is in
// flight wait, and go together when it returns, as one ScanMany (for the
// Bigtable store, one ReadRows per table and index). Under load, requests
// share round trips instead of each paying its own, and a request of many
// rows reads them in a few calls.
//
// A shared read runs on a context of its own, carrying the values of its
// first waiter's context but not its cancellation, bounded by the
// service's timeout: a waiter whose context ends returns at once with its
// context's error and the read goes on for the others; it is cancelled
// only when every waiter has left. A shared read that fails is retried by
// each of its waiters alone, so a query that fails (a row that does not
// decode) fails only the requests that made it; an unavailable store, or
// a waiter's own deadline, is not retried. A read that outlives its
// context (a store that ignores it) stops counting as in flight then, so
// it cannot hold up the others. Reads the store does not batch go to it
// at once. A coalescer is safe for concurrent use.
type coalescer struct {
	src     batcher
	timeout time.Duration       // of a shared read (none when <= 0)
	run     func(func())        // runs a shared read in the background
	sizes   prometheus.Observer // queries per read
	mu      sync.Mutex          // guards what follows
	flying  int                 // reads in flight
	pending []*readBatch        // waiting for a read to return; the last one gathers
}

// readBatch is one shared read: the queries of its waiters, one after the
// other.
type readBatch struct {
	waiters []*readWaiter
	n       int // queries
	live    int // waiters still waiting
	qs      []eval.Query
	ctx     context.Context    // of the read, once started
	cancel  context.CancelFunc // of the read, once started
	done    chan struct{}      // closed when out and err are set
	out     []*types.Block
	err     error
}

// readWaiter is one caller's queries in a batch: out[at : at+len(qs)].
type readWaiter struct {
	ctx  context.Context
	qs   []eval.Query
	at   int
	gone bool // its caller left before the read started
}

func newCoalescer(src batcher, timeout time.Duration, run func(func()), sizes prometheus.Observer) *coalescer {
	return &coalescer{src: src, timeout: timeout, run: run, sizes: sizes}
}

// Scan implements eval.Source.
func (c *coalescer) Scan(ctx context.Context, q eval.Query) (*types.Block, error) {
	if !c.src.Batched(q) {
		return c.src.Scan(ctx, q)
	}
	out, err := c.read(ctx, []eval.Query{q})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// ScanMany implements eval.MultiSource: the queries go together, and with
// those of other requests when every one of them batches.
func (c *coalescer) ScanMany(ctx context.Context, qs []eval.Query) ([]*types.Block, error) {
	for _, q := range qs {
		if !c.src.Batched(q) {
			return c.src.ScanMany(ctx, qs)
		}
	}
	if len(qs) == 0 {
		return nil, nil
	}
	return c.read(ctx, qs)
}

// read reads qs, at once when nothing is in flight, else with the other
// reads that come before the one in flight returns.
func (c *coalescer) read(ctx context.Context, qs []eval.Query) ([]*types.Block, error) {
	c.mu.Lock()
	if c.flying < maxReadsInFlight && len(c.pending) == 0 {
		c.flying++
		c.mu.Unlock()
		return c.alone(ctx, qs)
	}
	b := c.gather(len(qs))
	w := &readWaiter{ctx: ctx, qs: qs, at: b.n}
	b.waiters = append(b.waiters, w)
	b.n += len(qs)
	b.live++
	c.mu.Unlock()
	select {
	case <-b.done:
	case <-ctx.Done():
		c.leave(b, w)
		return nil, fmt.Errorf("functions: waiting for a shared read: %w", ctx.Err())
	}
	switch {
	case b.err == nil:
		return b.out[w.at : w.at+len(qs) : w.at+len(qs)], nil
	case len(b.waiters) > 1 && retryAlone(b.err):
		return c.src.ScanMany(ctx, qs)
	}
	return nil, b.err
}

// gather returns the batch that gathers reads, with room for n queries
// (a batch is never empty, so one too large still takes a read), adding
// one to pending if need be. c.mu is held.
func (c *coalescer) gather(n int) *readBatch {
	if k := len(c.pending); k > 0 {
		if b := c.pending[k-1]; b.n+n <= maxBatchQueries || b.n == 0 {
			return b
		}
	}
	b := &readBatch{done: make(chan struct{})}
	c.pending = append(c.pending, b)
	return b
}

// alone reads qs on the caller's context, counted in flight.
func (c *coalescer) alone(ctx context.Context, qs []eval.Query) ([]*types.Block, error) {
	release := c.releaser()
	stop := context.AfterFunc(ctx, release)
	defer func() {
		stop()
		release()
	}()
	c.sizes.Observe(float64(len(qs)))
	if len(qs) == 1 {
		b, err := c.src.Scan(ctx, qs[0])
		if err != nil {
			return nil, err
		}
		return []*types.Block{b}, nil
	}
	return c.src.ScanMany(ctx, qs)
}

// releaser returns the function that ends a read's time in flight, once
// however often it is called: when the read returns, or its context ends.
func (c *coalescer) releaser() func() {
	var once sync.Once
	return func() { once.Do(c.landed) }
}

// landed ends a read's time in flight and starts the pending batch, if
// any.
func (c *coalescer) landed() {
	c.mu.Lock()
	c.flying--
	var start []*readBatch
	for len(c.pending) > 0 && c.flying < maxReadsInFlight {
		b := c.pending[0]
		c.pending = c.pending[1:]
		if b.live == 0 { // every waiter left
			continue
		}
		c.flying++
		b.begin(c.timeout)
		start = append(start, b)
	}
	c.mu.Unlock()
	for _, b := range start {
		c.run(func() { c.exec(b) })
	}
}

// begin readies b to be read: the queries of the waiters still there, and
// its context. c.mu is held.
func (b *readBatch) begin(timeout time.Duration) {
	live := b.waiters[:0]
	b.qs = make([]eval.Query, 0, b.n)
	for _, w := range b.waiters {
		if w.gone {
			continue
		}
		w.at = len(b.qs)
		b.qs = append(b.qs, w.qs...)
		live = append(live, w)
	}
	b.waiters, b.n = live, len(b.qs)
	ctx := context.WithoutCancel(live[0].ctx)
	if timeout > 0 {
		b.ctx, b.cancel = context.WithTimeout(ctx, timeout)
	} else {
		b.ctx, b.cancel = context.WithCancel(ctx)
	}
}

// exec reads the batch b and wakes its waiters.
func (c *coalescer) exec(b *readBatch) {
	release := c.releaser()
	stop := context.AfterFunc(b.ctx, release)
	defer func() {
		if v := recover(); v != nil {
			b.out, b.err = nil, &PanicError{Value: v, Stack: debug.Stack()}
		}
		stop()
		close(b.done) // the waiters go on
		b.cancel()
		release() // the next batch starts
	}()
	c.sizes.Observe(float64(len(b.qs)))
	if len(b.qs) == 1 {
		var blk *types.Block
		if blk, b.err = c.src.Scan(b.ctx, b.qs[0]); b.err == nil {
			b.out = []*types.Block{blk}
		}
		return
	}
	b.out, b.err = c.src.ScanMany(b.ctx, b.qs)
}

// leave takes waiter w out of batch b: its caller's context ended. The
// last waiter to leave cancels the read.
func (c *coalescer) leave(b *readBatch, w *readWaiter) {
	c.mu.Lock()
	defer c.mu.Unlock()
	w.gone = true
	b.live--
	if b.live == 0 && b.cancel != nil {
		b.cancel()
	}
}

// retryAlone reports whether a shared read's error may be a query's own,
// which its waiters then retry alone: not an unavailable store (the
// retries would fail the same way, after the request's deadline) nor the
// end of the shared read's context (no waiter is left, or the timeout
// passed).
func retryAlone(err error) bool {
	return !errors.Is(err, storage.ErrUnavailable) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}
