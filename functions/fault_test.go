package functions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cbt "cloud.google.com/go/bigtable"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
	"github.com/fenestra-dev/fenestra/storage/bigtable"
)

// faultStore is a Bigtable store whose calls (reads, shared reads,
// writes) first call fault, when set: it may sleep (a slow store) or
// fail the call.
type faultStore struct {
	*bigtable.Store
	fault atomic.Pointer[func(ctx context.Context) error]
}

func (s *faultStore) inject(ctx context.Context) error {
	if f := s.fault.Load(); f != nil {
		return (*f)(ctx)
	}
	return nil
}

func (s *faultStore) Scan(ctx context.Context, q eval.Query) (*types.Block, error) {
	if err := s.inject(ctx); err != nil {
		return nil, err
	}
	return s.Store.Scan(ctx, q)
}

func (s *faultStore) ScanMany(ctx context.Context, qs []eval.Query) ([]*types.Block, error) {
	if err := s.inject(ctx); err != nil {
		return nil, err
	}
	return s.Store.ScanMany(ctx, qs)
}

func (s *faultStore) Write(ctx context.Context, table string, rows *types.Block, seqs []uint64) error {
	if err := s.inject(ctx); err != nil {
		return err
	}
	return s.Store.Write(ctx, table, rows, seqs)
}

func (s *faultStore) setFault(f func(ctx context.Context) error) {
	if f == nil {
		s.fault.Store(nil)
		return
	}
	s.fault.Store(&f)
}

// faultRig is a server of txSQL over the Bigtable emulator, reached
// through a proxy that can cut the connection, with a store whose calls
// can be slowed or failed; and a direct store to check what was written.
type faultRig struct {
	proxy  *proxy
	emu    string
	store  *faultStore
	direct *bigtable.Store // the same tables, not through the proxy
	srv    *Server
}

func newFaultRig(t *testing.T) *faultRig {
	t.Helper()
	mod := compile(t, txSQL)
	p, st, direct := proxiedStore(t, mod, 400*time.Millisecond) // the request's 1.5 s apart, as in TestBigtableOutage
	fs := &faultStore{Store: st}
	// New reads the tables' definitions: on a loaded machine the first
	// call of a new connection can take longer than the store's timeout.
	var svc *Service
	var err error
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		if svc, err = New(mod, fs, Options{Timeout: 1500 * time.Millisecond}); err == nil {
			break
		} else if time.Since(start) > 10*time.Second {
			t.Fatal(err)
		}
	}
	r := &faultRig{proxy: p, emu: p.backend, store: fs, direct: direct, srv: NewServer(svc, ServerOptions{})}
	// Served before any fault: the first calls of a new connection may
	// outlast the store's short timeout on a loaded machine.
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		resp := serve(r.srv, "POST", "/v1/views/features:compute", `{"rows": [`+txRow(0, "c0", 1, t0)+`]}`)
		if resp.status == http.StatusOK {
			return r
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("before any fault: %d %s", resp.status, resp.body)
		}
	}
}

// faultRun is what a load run through a fault saw.
type faultRun struct {
	statuses map[int]int    // answers by status
	messages map[string]int // 5xx error messages (their first 60 bytes)
	recovery time.Duration  // from the fault's end to the first 200 of a compute after it
	acked    map[int64]bool // ingested tx_ids answered 200
	after    map[int64]bool // those answered after the fault's end
	sent     int64
	lost     int // acknowledged rows not stored
	doubled  int // rows stored more than once
}

// load sends computes and ingests (one row each, a fresh tx_id) from 4
// goroutines: before the fault for 300 ms, during it (start, then stop
// after 600 ms), and after it until a compute is answered 200 and 300 ms
// more. It returns what it saw.
func (r *faultRig) load(t *testing.T, start, stop func()) *faultRun {
	t.Helper()
	run := &faultRun{statuses: map[int]int{}, messages: map[string]int{}, acked: map[int64]bool{}, after: map[int64]bool{}}
	var mu sync.Mutex
	var nextID atomic.Int64
	var phase atomic.Int32 // 0 before, 1 during, 2 after
	var ended, recovered atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 9))
			for {
				select {
				case <-done:
					return
				default:
				}
				card := fmt.Sprintf("c%d", rng.IntN(20))
				id := nextID.Add(1)
				row := txRow(int(id), card, float64(id%100), t0+id)
				var resp response
				ingest := id%2 == 0
				if ingest {
					resp = serve(r.srv, "PUT", "/v1/tables/tx/rows", `{"rows": [`+row+`]}`)
				} else {
					resp = serve(r.srv, "POST", "/v1/views/features:compute", `{"rows": [`+row+`]}`)
				}
				mu.Lock()
				run.sent++
				run.statuses[resp.status]++
				if resp.status >= 500 {
					var e struct{ Error string }
					json.Unmarshal(resp.body, &e)
					run.messages[e.Error[:min(len(e.Error), 60)]]++
				}
				after := phase.Load() == 2
				if ingest && resp.status == http.StatusOK {
					run.acked[id] = true
					if after {
						run.after[id] = true
					}
				}
				mu.Unlock()
				if !ingest && resp.status == http.StatusOK && after {
					recovered.CompareAndSwap(0, time.Now().UnixNano())
				}
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	phase.Store(1)
	start()
	time.Sleep(600 * time.Millisecond)
	stop()
	ended.Store(time.Now().UnixNano())
	phase.Store(2)
	for deadline := time.Now().Add(30 * time.Second); recovered.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	close(done)
	wg.Wait()
	if recovered.Load() == 0 {
		t.Fatalf("no compute answered 200 within 30 s of the fault's end: %v %v", run.statuses, run.messages)
	}
	run.recovery = time.Duration(recovered.Load() - ended.Load())
	return run
}

// stored returns how many times each tx_id is stored, over every card.
func (r *faultRig) stored(t *testing.T) map[int64]int {
	t.Helper()
	n := map[int64]int{}
	for c := range 20 {
		b, err := r.direct.Read(context.Background(), storage.Range{Table: "tx", Keys: []string{"card"},
			Values: []types.Value{types.StringValue(fmt.Sprintf("c%d", c))}, From: -1 << 62, To: 1 << 62})
		if err != nil {
			t.Fatal(err)
		}
		for i := range b.Len {
			n[b.Cols[0].I[i]]++
		}
	}
	return n
}

// TestFaults runs load through storage faults and requires, for each:
// only the statuses the fault explains (never a bare 500; each 5xx
// message the fault's), recovery within 5 s of the fault's end, and every
// row acknowledged by PUT /v1/tables/tx/rows stored exactly once, none
// twice (when the table is dropped, the rows acknowledged before are gone
// with it: "lost" counts them; those acknowledged after it is created
// again must all be stored). With -v it prints the table of what each
// saw. "storage stopped" allows 504: a request that waited for a shared
// read and then read alone can pass its own deadline (1.5 s) before the
// store's (0.4 s) has passed for each of its reads.
func TestFaults(t *testing.T) {
	t.Parallel()
	type result struct {
		name string
		run  *faultRun
	}
	var mu sync.Mutex
	var results []result
	t.Cleanup(func() {
		slices.SortFunc(results, func(a, b result) int { return strings.Compare(a.name, b.name) })
		var b strings.Builder
		fmt.Fprintf(&b, "\n%-22s %6s  %-32s %9s %7s %6s %7s\n", "fault", "sent", "statuses", "recovery", "acked", "lost", "doubled")
		for _, r := range results {
			codes := slices.Sorted(maps.Keys(r.run.statuses))
			var parts []string
			for _, c := range codes {
				parts = append(parts, fmt.Sprintf("%d:%d", c, r.run.statuses[c]))
			}
			fmt.Fprintf(&b, "%-22s %6d  %-32s %9s %7d %6d %7d\n", r.name, r.run.sent, strings.Join(parts, " "),
				r.run.recovery.Round(time.Millisecond), len(r.run.acked), r.run.lost, r.run.doubled)
		}
		t.Log(b.String())
	})
	unavailable := func(ctx context.Context) error {
		return fmt.Errorf("%w: injected fault", storage.ErrUnavailable)
	}
	for _, c := range []struct {
		name    string
		fault   func(t *testing.T, r *faultRig) (start, stop func())
		allowed []int
		message string // in every 503's message
		dropped bool   // acknowledged rows may be gone: the table was dropped
	}{
		{"storage stopped", func(t *testing.T, r *faultRig) (func(), func()) { return r.proxy.cut, r.proxy.restore },
			[]int{200, 503, 504}, "storage unavailable: bigtable at", false},
		{"storage slow (+40ms)", func(t *testing.T, r *faultRig) (func(), func()) {
			slow := func(ctx context.Context) error {
				select {
				case <-time.After(40 * time.Millisecond):
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return func() { r.store.setFault(slow) }, func() { r.store.setFault(nil) }
		}, []int{200}, "", false},
		{"20% of calls failing", func(t *testing.T, r *faultRig) (func(), func()) {
			some := func(ctx context.Context) error {
				if rand.IntN(5) == 0 {
					return unavailable(ctx)
				}
				return nil
			}
			return func() { r.store.setFault(some) }, func() { r.store.setFault(nil) }
		}, []int{200, 503}, "storage unavailable: injected fault", false},
		{"table dropped, created", func(t *testing.T, r *faultRig) (func(), func()) {
			admin := adminClient(t, r.emu)
			mod := compile(t, txSQL)
			return func() {
					if err := admin.DeleteTable(context.Background(), r.store.TableName("tx")); err != nil {
						t.Error(err)
					}
				}, func() {
					if err := r.store.Init(context.Background(), mod.Tables); err != nil {
						t.Error(err)
					}
				}
		}, []int{200, 503}, "storage not initialised: table tx (run fenestra storage init)", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := newFaultRig(t)
			start, stop := c.fault(t, r)
			run := r.load(t, start, stop)
			for status, n := range run.statuses {
				if !slices.Contains(c.allowed, status) {
					t.Errorf("%d answers %d; want only %v (messages %v)", n, status, c.allowed, run.messages)
				}
			}
			for msg := range run.messages {
				if msg == "the request did not complete within its deadline" && slices.Contains(c.allowed, 504) {
					continue
				}
				if !strings.HasPrefix(c.message, msg) && !strings.HasPrefix(msg, c.message) {
					t.Errorf("a 5xx answer says %q; want %q", msg, c.message)
				}
			}
			if run.recovery > 5*time.Second {
				t.Errorf("recovered %v after the fault's end; want under 5 s", run.recovery)
			}
			stored := r.stored(t)
			for id, n := range stored {
				if n > 1 {
					run.doubled++
					t.Errorf("tx_id %d stored %d times", id, n)
				}
			}
			lostAfter := 0
			for id := range run.acked {
				if stored[id] == 0 {
					run.lost++
					if run.after[id] {
						lostAfter++
					}
				}
			}
			if run.lost > 0 && !c.dropped || lostAfter > 0 {
				t.Errorf("%d of %d acknowledged rows lost, %d of the %d acknowledged after the fault", run.lost, len(run.acked), lostAfter, len(run.after))
			}
			mu.Lock()
			results = append(results, result{c.name, run})
			mu.Unlock()
		})
	}
	t.Run("lambda past its deadline", func(t *testing.T) {
		t.Parallel()
		r := newFaultRig(t)
		l := newLambda(t, r.srv, LambdaOptions{})
		invoke := func() (int, time.Duration) {
			ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
			defer cancel()
			ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
			start := time.Now()
			_, err := l.Handle(ctx, json.RawMessage(`{"view": "features", "rows": [`+txRow(1, "c1", 10, t0)+`]}`))
			took := time.Since(start)
			var ie *InvokeError
			if errors.As(err, &ie) {
				return ie.Status, took
			}
			return Status(err), took
		}
		stuck := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
		r.store.setFault(stuck)
		status, took := invoke()
		r.store.setFault(nil)
		after, _ := invoke()
		run := &faultRun{statuses: map[int]int{status: 1}, messages: map[string]int{}}
		run.statuses[after]++
		run.sent = 2
		mu.Lock()
		results = append(results, result{"lambda past deadline", run})
		mu.Unlock()
		if status != http.StatusGatewayTimeout || took > time.Second || after != http.StatusOK {
			t.Errorf("an invocation whose store hangs: %d after %v, want 504 at its deadline (150 ms); the next: %d, want 200", status, took, after)
		}
	})
}

// adminClient returns a Bigtable admin client of the emulator at addr.
func adminClient(t *testing.T, addr string) *cbt.AdminClient {
	t.Helper()
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	admin, err := cbt.NewAdminClient(context.Background(), "p", "i", option.WithGRPCConn(conn))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close(); conn.Close() })
	return admin
}
