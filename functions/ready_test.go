package functions

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
	"github.com/fenestra-dev/fenestra/storage/bigtable"
)

// describeStore wraps a store, counting its Describe calls (the probe of
// a store that is no storage.Prober) and failing them when fail is set.
type describeStore struct {
	storage.Store
	calls atomic.Int64
	fail  atomic.Pointer[error]
}

func (s *describeStore) Describe(ctx context.Context, table string) (*plan.Table, error) {
	s.calls.Add(1)
	if err := s.fail.Load(); err != nil {
		return nil, *err
	}
	return s.Store.Describe(ctx, table)
}

// TestReadyRate probes /readyz from 16 goroutines as fast as they can for
// over a second: every answer is 200, and the store is probed at most
// once per ReadyInterval.
func TestReadyRate(t *testing.T) {
	t.Parallel()
	mod := compile(t, txSQL)
	mem := storage.NewMem(epoch)
	if err := mem.Init(context.Background(), mod.Tables); err != nil {
		t.Fatal(err)
	}
	ds := &describeStore{Store: mem}
	svc, err := New(mod, ds, Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(svc, ServerOptions{})
	start := time.Now()
	var probes, failed atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for time.Since(start) < 1200*time.Millisecond {
				probes.Add(1)
				if resp := serve(srv, "GET", "/readyz", ""); resp.status != http.StatusOK || string(resp.body) != `{"status":"ready"}` {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	most := int64(elapsed/ReadyInterval) + 1
	t.Logf("%d probes in %v: %d store calls", probes.Load(), elapsed.Round(time.Millisecond), ds.calls.Load())
	if failed.Load() > 0 || ds.calls.Load() < 1 || ds.calls.Load() > most {
		t.Errorf("%d probes, %d not 200; %d store calls in %v, want 1 to %d", probes.Load(), failed.Load(), ds.calls.Load(), elapsed, most)
	}
}

// TestReadyStates: /readyz follows the store (down, tables missing,
// recovered) and fails at once when draining; /healthz stays 200 without
// touching the store.
func TestReadyStates(t *testing.T) {
	t.Parallel()
	mod := compile(t, txSQL)
	mem := storage.NewMem(epoch)
	ds := &describeStore{Store: mem}
	svc, err := New(mod, ds, Options{})
	if err != nil {
		t.Fatal(err)
	}
	svc.ready.interval = 0 // every probe reaches the store
	srv := NewServer(svc, ServerOptions{AuthToken: "s3cret"})
	unavailable := fmt.Errorf("%w: bigtable at 127.0.0.1:1: reading the definition of tx: connection refused", storage.ErrUnavailable)
	for _, c := range []struct {
		name   string
		before func()
		status int
		body   string
	}{
		{"tables missing", func() {}, 503, `{"status":"not ready","error":"storage not initialised: table tx (run fenestra storage init)"}`},
		{"store down", func() { ds.fail.Store(&unavailable) }, 503,
			`{"status":"not ready","error":"storage unavailable: bigtable at 127.0.0.1:1: reading the definition of tx: connection refused; retry later"}`},
		{"recovered", func() {
			ds.fail.Store(nil)
			if err := mem.Init(context.Background(), mod.Tables); err != nil {
				t.Fatal(err)
			}
		}, 200, `{"status":"ready"}`},
		{"draining", svc.Drain, 503, `{"status":"not ready","error":"draining: the server is shutting down"}`},
	} {
		c.before()
		calls := ds.calls.Load()
		if resp := serve(srv, "GET", "/readyz", ""); resp.status != c.status || string(resp.body) != c.body {
			t.Errorf("%s: %d %s, want %d %s", c.name, resp.status, resp.body, c.status, c.body)
		}
		if resp := serve(srv, "GET", "/healthz", ""); resp.status != http.StatusOK {
			t.Errorf("%s: /healthz %d %s", c.name, resp.status, resp.body)
		}
		if got := ds.calls.Load() - calls; c.name != "draining" && got != 1 || c.name == "draining" && got != 0 {
			t.Errorf("%s: %d store calls for /readyz and /healthz", c.name, got)
		}
	}
	// Draining: requests are still served, each asking the client to close.
	resp := serve(srv, "POST", "/v1/views/features:compute", `{"rows": [`+txRow(1, "c1", 10, t0)+`]}`, "Authorization", "Bearer s3cret")
	if resp.status != http.StatusOK || resp.header.Get("Connection") != "close" {
		t.Errorf("a compute while draining: %d, Connection %q: %s", resp.status, resp.header.Get("Connection"), resp.body)
	}
}

// TestStorageErrors maps each known storage failure, from a store
// returning it, to its status and an answer an operator can act on,
// never "internal error", with the request id of the log line.
func TestStorageErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		err    error
		status int
		msg    string
	}{
		{"unavailable", fmt.Errorf("bigtable: %w: bigtable at 10.0.0.1:8086: reading tx (table fenestra_tx): rpc error: code = Unavailable", storage.ErrUnavailable), 503,
			"storage unavailable: bigtable at 10.0.0.1:8086: reading tx (table fenestra_tx): rpc error: code = Unavailable; retry later"},
		{"no table", &storage.NoTableError{Table: "tx", Where: "Bigtable table fenestra_tx at 10.0.0.1:8086"}, 503,
			"storage not initialised: table tx (run fenestra storage init)"},
		{"no index", fmt.Errorf("%w: table tx has no index on KEY=(card) TS=ts", storage.ErrNoIndex), 503,
			"storage not initialised: table tx has no index on KEY=(card) TS=ts (run fenestra storage init)"},
		{"schema", fmt.Errorf("%w: row written with schema 1a2b (tx_id int64), read with schema 3c4d (tx_id string)", storage.ErrSchema), 500,
			"storage schema mismatch: row written with schema 1a2b (tx_id int64), read with schema 3c4d (tx_id string)"},
		{"permission", fmt.Errorf("%w: bigtable at bigtable.googleapis.com:443: reading tx: rpc error: code = PermissionDenied; check the credentials", storage.ErrPermission), 503,
			"storage permission denied: bigtable at bigtable.googleapis.com:443: reading tx: rpc error: code = PermissionDenied; check the credentials"},
		{"unknown", errors.New("something else"), 500, "internal error"},
	} {
		var logs bytes.Buffer
		log := slog.New(slog.NewTextHandler(&logs, nil))
		fs := &faultyStore{scan: func(context.Context, eval.Query) (*types.Block, error) { return nil, c.err }}
		srv := faultyServer(t, fs, Options{}, ServerOptions{Logger: log})
		for _, path := range []string{"/v1/views/features:compute", "/dbs/db/deployments/features"} {
			body := `{"rows": [` + txRow(1, "c1", 10, t0) + `]}`
			if strings.HasPrefix(path, "/dbs/") {
				body = `{"input": [[1, "c1", 10, ` + fmt.Sprint(t0) + `]]}`
			}
			resp := serve(srv, "POST", path, body)
			id := resp.header.Get("X-Request-Id")
			if resp.status != c.status || !strings.Contains(string(resp.body), c.msg) {
				t.Errorf("%s, %s: %d %s, want %d with %q", c.name, path, resp.status, resp.body, c.status, c.msg)
			}
			if id == "" || !strings.Contains(string(resp.body), id) || !strings.Contains(logs.String(), "request_id="+id) {
				t.Errorf("%s, %s: request id %q not in the answer %s and the log:\n%s", c.name, path, id, resp.body, logs.String())
			}
		}
	}
}

// TestBigtablePermission: a Bigtable answering PermissionDenied (here a
// gRPC server refusing every call) is storage.ErrPermission: a 503
// naming the credentials, on compute and /readyz.
func TestBigtablePermission(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(grpc.UnknownServiceHandler(func(any, grpc.ServerStream) error {
		return status.Error(codes.PermissionDenied, "the caller does not have permission")
	}))
	go gs.Serve(ln)
	t.Cleanup(gs.Stop)
	mod := compile(t, txSQL)
	store, err := bigtable.Open(context.Background(), bigtable.Config{Project: "p", Instance: "i", EmulatorHost: ln.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	svc, err := New(mod, store, Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(svc, ServerOptions{})
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/v1/views/features:compute", `{"rows": [` + txRow(1, "c1", 10, t0) + `]}`},
		{"PUT", "/v1/tables/tx/rows", `{"rows": [` + txRow(1, "c1", 10, t0) + `]}`},
		{"GET", "/readyz", ""},
	} {
		resp := serve(srv, c.method, c.path, c.body)
		if resp.status != http.StatusServiceUnavailable || !strings.Contains(string(resp.body), "storage permission denied: bigtable at "+ln.Addr().String()) ||
			!strings.Contains(string(resp.body), "check the credentials") {
			t.Errorf("%s %s: %d %s", c.method, c.path, resp.status, resp.body)
		}
	}
}
