package functions

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
)

// gateStore is a batcher whose reads wait for the test: each call
// announces itself on calls and waits for a value on its gate (nil: go
// on). A query's answer is a one-row block of its first key value; the
// key "bad" fails, and so does every shared read when failMany is set.
type gateStore struct {
	calls    chan *gateCall
	failMany error
}

type gateCall struct {
	qs   []eval.Query
	ctx  context.Context
	gate chan error
}

func newGateStore() *gateStore { return &gateStore{calls: make(chan *gateCall, 100)} }

func (s *gateStore) Batched(q eval.Query) bool { return q.Table == "t" }

func (s *gateStore) Scan(ctx context.Context, q eval.Query) (*types.Block, error) {
	out, err := s.ScanMany(ctx, []eval.Query{q})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

func (s *gateStore) ScanMany(ctx context.Context, qs []eval.Query) ([]*types.Block, error) {
	c := &gateCall{qs: qs, ctx: ctx, gate: make(chan error, 1)}
	s.calls <- c
	if err := <-c.gate; err != nil {
		return nil, err
	}
	if len(qs) > 1 && s.failMany != nil {
		return nil, s.failMany
	}
	out := make([]*types.Block, len(qs))
	for i, q := range qs {
		if q.Values[0].S == "bad" {
			return nil, errors.New("a bad key")
		}
		out[i] = types.BlockOf(types.Schema{{Name: "k", Type: types.String}}, [][]types.Value{{q.Values[0]}})
	}
	return out, nil
}

// next returns the next call the store received.
func (s *gateStore) next(t *testing.T) *gateCall {
	t.Helper()
	select {
	case c := <-s.calls:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("no read reached the store")
		return nil
	}
}

// none checks that no call reached the store.
func (s *gateStore) none(t *testing.T) {
	t.Helper()
	select {
	case c := <-s.calls:
		t.Fatalf("a read of %d queries reached the store", len(c.qs))
	case <-time.After(20 * time.Millisecond):
	}
}

func (c *gateCall) keys() []string {
	var out []string
	for _, q := range c.qs {
		out = append(out, q.Values[0].S)
	}
	return out
}

func query(key string) eval.Query {
	return eval.Query{Table: "t", Keys: []string{"k"}, Values: []types.Value{types.StringValue(key)}}
}

// scanResult is what one Scan returned.
type scanResult struct {
	key string
	b   *types.Block
	err error
}

// scanAsync starts a Scan of key on c and returns where its result comes.
func scanAsync(ctx context.Context, c *coalescer, key string) chan scanResult {
	ch := make(chan scanResult, 1)
	go func() {
		b, err := c.Scan(ctx, query(key))
		ch <- scanResult{key, b, err}
	}()
	return ch
}

func testCoalescer(s batcher) *coalescer {
	return newCoalescer(s, time.Minute, func(f func()) { go f() }, prometheus.NewHistogram(prometheus.HistogramOpts{Name: "x"}))
}

// waitPending waits until n reads wait in c's pending batches.
func waitPending(t *testing.T, c *coalescer, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		c.mu.Lock()
		got := 0
		for _, b := range c.pending {
			got += b.live
		}
		c.mu.Unlock()
		if got == n {
			return
		}
	}
	t.Fatalf("%d reads never waited", n)
}

// check checks a Scan's answer: its own key's block.
func (r scanResult) check(t *testing.T) {
	t.Helper()
	if r.err != nil || r.b.Len != 1 || r.b.Cols[0].S[0] != r.key {
		t.Errorf("scan of %s: %v, %v", r.key, r.b, r.err)
	}
}

// TestCoalescerGathers: a read with nothing in flight goes at once,
// alone; the reads that come while it is in flight go together when it
// returns, each getting its own rows.
func TestCoalescerGathers(t *testing.T) {
	t.Parallel()
	s := newGateStore()
	c := testCoalescer(s)
	ctx := context.Background()
	first := scanAsync(ctx, c, "a")
	call := s.next(t)
	if got := call.keys(); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("first read %v", got)
	}
	var waiting []chan scanResult
	for _, k := range []string{"b", "c", "d"} {
		waiting = append(waiting, scanAsync(ctx, c, k))
	}
	waitPending(t, c, 3)
	s.none(t) // they wait for the read in flight
	call.gate <- nil
	(<-first).check(t)
	shared := s.next(t)
	if got := shared.keys(); len(got) != 3 || !slices.Contains(got, "b") || !slices.Contains(got, "c") || !slices.Contains(got, "d") {
		t.Fatalf("shared read %v, want b, c, d", got)
	}
	shared.gate <- nil
	for _, w := range waiting {
		(<-w).check(t)
	}
	// Nothing in flight again: the next read goes at once.
	last := scanAsync(ctx, c, "e")
	s.next(t).gate <- nil
	(<-last).check(t)
	// A read the store does not batch goes at once, whatever is in flight.
	busy := scanAsync(ctx, c, "f")
	call = s.next(t)
	go c.Scan(ctx, eval.Query{Table: "other", Values: []types.Value{types.StringValue("g")}})
	if got := s.next(t).keys(); !slices.Equal(got, []string{"g"}) {
		t.Errorf("unbatched read %v", got)
	}
	call.gate <- nil
	(<-busy).check(t)
}

// TestCoalescerWaiterLeaves: a waiter whose context ends returns at once
// with its context's error; the shared read goes on for the others, and
// is cancelled when the last one leaves.
func TestCoalescerWaiterLeaves(t *testing.T) {
	t.Parallel()
	s := newGateStore()
	c := testCoalescer(s)
	bg := context.Background()
	first := scanAsync(bg, c, "a")
	call := s.next(t)
	leaving, leave := context.WithCancel(bg)
	gone := scanAsync(leaving, c, "b")
	staying := scanAsync(bg, c, "c")
	waitPending(t, c, 2)
	call.gate <- nil
	(<-first).check(t)
	shared := s.next(t)
	start := time.Now()
	leave()
	if r := <-gone; !errors.Is(r.err, context.Canceled) || time.Since(start) > time.Second {
		t.Errorf("the leaving waiter: %v after %v", r.err, time.Since(start))
	}
	if shared.ctx.Err() != nil {
		t.Fatal("one waiter leaving cancelled the shared read")
	}
	shared.gate <- nil
	(<-staying).check(t)

	// Every waiter leaves: the read is cancelled.
	first = scanAsync(bg, c, "a")
	call = s.next(t)
	ctx1, leave1 := context.WithCancel(bg)
	ctx2, leave2 := context.WithCancel(bg)
	w1, w2 := scanAsync(ctx1, c, "b"), scanAsync(ctx2, c, "c")
	waitPending(t, c, 2)
	call.gate <- nil
	(<-first).check(t)
	shared = s.next(t)
	leave1()
	<-w1
	if shared.ctx.Err() != nil {
		t.Fatal("the shared read was cancelled with a waiter left")
	}
	leave2()
	<-w2
	select {
	case <-shared.ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the shared read went on with no waiter left")
	}
	shared.gate <- nil

	// A waiter that leaves before its batch starts: the batch reads only
	// the others' queries.
	first = scanAsync(bg, c, "a")
	call = s.next(t)
	ctx3, leave3 := context.WithCancel(bg)
	w3, w4 := scanAsync(ctx3, c, "x"), scanAsync(bg, c, "y")
	waitPending(t, c, 2)
	leave3()
	<-w3
	call.gate <- nil
	(<-first).check(t)
	shared = s.next(t)
	if got := shared.keys(); !slices.Equal(got, []string{"y"}) {
		t.Errorf("batch after a waiter left: %v, want y", got)
	}
	shared.gate <- nil
	(<-w4).check(t)
}

// TestCoalescerErrors: a failed shared read is retried by each waiter
// alone, so a bad query fails only its own caller; an unavailable store
// fails them all, without retries.
func TestCoalescerErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		failMany error
		retries  bool
	}{
		{"a bad key", nil, true},
		{"unavailable", fmt.Errorf("%w: down", storage.ErrUnavailable), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := newGateStore()
			s.failMany = c.failMany
			co := testCoalescer(s)
			bg := context.Background()
			first := scanAsync(bg, co, "a")
			call := s.next(t)
			bad, good := scanAsync(bg, co, "bad"), scanAsync(bg, co, "b")
			waitPending(t, co, 2)
			call.gate <- nil
			(<-first).check(t)
			s.next(t).gate <- nil // the shared read fails
			if !c.retries {
				for _, w := range []chan scanResult{bad, good} {
					if r := <-w; !errors.Is(r.err, storage.ErrUnavailable) {
						t.Errorf("%s: %v, want unavailable", r.key, r.err)
					}
				}
				s.none(t)
				return
			}
			for range 2 { // the retries, alone
				r := s.next(t)
				if len(r.qs) != 1 {
					t.Fatalf("a retry of %v", r.keys())
				}
				r.gate <- nil
			}
			if r := <-bad; r.err == nil {
				t.Error("the bad key read without error")
			}
			(<-good).check(t)
		})
	}
}

// TestCoalescerStuckStore: a read that ignores its context stops counting
// as in flight when the context ends, so later reads go on.
func TestCoalescerStuckStore(t *testing.T) {
	t.Parallel()
	s := newGateStore()
	c := testCoalescer(s)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	go c.Scan(ctx, query("stuck")) // the store never answers it in time
	stuck := s.next(t)
	defer func() { stuck.gate <- nil }()
	<-ctx.Done()
	later := scanAsync(context.Background(), c, "b")
	s.next(t).gate <- nil
	(<-later).check(t)
}

// TestCoalescerConcurrent: many concurrent readers each get their own
// rows (run with -race).
func TestCoalescerConcurrent(t *testing.T) {
	t.Parallel()
	s := newGateStore()
	c := testCoalescer(s)
	stop := make(chan struct{})
	go func() { // the store answers every call at once
		for {
			select {
			case call := <-s.calls:
				call.gate <- nil
			case <-stop:
				return
			}
		}
	}()
	defer close(stop)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 200 {
				key := fmt.Sprintf("k%d-%d", g, i)
				ctx, cancel := context.WithCancel(context.Background())
				if i%7 == 0 {
					cancel() // some leave at once
				}
				b, err := c.Scan(ctx, query(key))
				cancel()
				if err == nil && (b.Len != 1 || b.Cols[0].S[0] != key) {
					t.Errorf("%s read %v", key, b.Cols[0].S)
				}
			}
		})
	}
	wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.flying != 0 || len(c.pending) != 0 {
		t.Errorf("%d reads in flight and %d batches pending at the end", c.flying, len(c.pending))
	}
}
