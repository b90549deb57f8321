package functions

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
)

// txServer returns a server of txSQL over an in-memory store.
func txServer(t testing.TB, opts Options, sopts ServerOptions) (*Server, *Service) {
	t.Helper()
	svc, _ := memService(t, compile(t, txSQL), opts)
	return NewServer(svc, sopts), svc
}

// row is a request row of tx: tx_id, card, amount, ts (ms).
func txRow(id int, card string, amount float64, ts int64) string {
	return string(appendRow(nil, []types.Value{types.Int64Value(int64(id)), types.StringValue(card), types.DoubleValue(amount), types.TimestampValue(ts)}))
}

const t0 = 1714528800000 // 2024-05-01 10:00:00 +08:00

// routeCase is one request and what its answer must hold.
type routeCase struct {
	name         string
	method, path string
	body         string
	status       int
	contains     []string // substrings of the body
}

// TestRoutes sends one request to each route, in order (the later ones
// see the rows the earlier ones stored).
func TestRoutes(t *testing.T) {
	t.Parallel()
	srv, svc := txServer(t, Options{}, ServerOptions{})
	version := plan.Version(svc.View("features").Plan)
	for _, c := range []routeCase{
		{"compute", "POST", "/v1/views/features:compute", `{"rows": [` + txRow(1, "c1", 10, t0) + `]}`, 200,
			[]string{`{"view":"features","version":"` + version + `","columns":[{"name":"tx_id","type":"int64"},{"name":"spend_10d","type":"double"},{"name":"tx_1h","type":"int64"},{"name":"max_5m","type":"double"}],"rows":[[1,10,1,10]]}`}},
		{"compute objects", "POST", "/v1/views/features:compute", `{"rows": [{"tx_id": 1, "card": "c1", "amount": 10, "ts": "2024-05-01 10:00:00"}]}`, 200, []string{`"rows":[[1,10,1,10]]`}},
		{"ingest", "PUT", "/v1/tables/tx/rows", `{"rows": [` + txRow(1, "c1", 10, t0) + `,` + txRow(2, "c1", 5.5, t0+60_000) + `]}`, 200, []string{`{"table":"tx","rows":2}`}},
		{"compute sees stored rows", "POST", "/v1/views/features:compute", `{"rows": [` + txRow(3, "c1", 1, t0+120_000) + `]}`, 200, []string{`"rows":[[3,16.5,3,10]]`}},
		{"compute and store", "POST", "/v1/views/features:compute", `{"rows": [` + txRow(3, "c1", 1, t0+120_000) + `], "store": true}`, 200, []string{`"rows":[[3,16.5,3,10]]`}},
		{"later rows see stored requests", "POST", "/v1/views/features:compute", `{"rows": [` + txRow(4, "c1", 100, t0+10*60_000) + `]}`, 200, []string{`"rows":[[4,116.5,4,100]]`}},
		{"several rows, stored in turn", "POST", "/v1/views/features:compute", `{"store": true, "rows": [` + txRow(5, "c2", 1, t0) + `,` + txRow(6, "c2", 2, t0+1) + `]}`, 200, []string{`"rows":[[5,1,1,1],[6,3,2,2]]`}},
		{"several rows, not stored", "POST", "/v1/views/features:compute", `{"rows": [` + txRow(7, "c3", 1, t0) + `,` + txRow(8, "c3", 2, t0+1) + `]}`, 200, []string{`"rows":[[7,1,1,1],[8,2,1,2]]`}},
		{"list views", "GET", "/v1/views", "", 200, []string{`{"views":[{"name":"features","version":"` + version + `","request_table":"tx","input":[{"name":"tx_id","type":"int64"},`, `"tables":["tx"]}]}`}},
		{"describe a view", "GET", "/v1/views/features", "", 200, []string{`"name":"features"`, `"plan":"project: tx_id = tx_id, spend_10d = sum(amount) over w10d`}},
		{"health", "GET", "/healthz", "", 200, []string{`{"status":"ok"}`}},
		{"metrics", "GET", "/metrics", "", 200, []string{`fenestra_requests_total{code="200",route="compute",view="features"} 7`}},

		{"openmldb deployment", "POST", "/dbs/demo/deployments/features", `{"input": [` + txRow(9, "c4", 2, t0) + `], "need_schema": true}`, 200,
			[]string{`{"code":0,"msg":"ok","data":{"schema":[{"name":"tx_id","type":"int64"},{"name":"spend_10d","type":"double"},{"name":"tx_1h","type":"int64"},{"name":"max_5m","type":"double"}],"data":[[9,2,1,2]]}}`}},
		{"openmldb json style", "POST", "/dbs/demo/deployments/features", `{"input": [{"tx_id": 9, "card": "c4", "amount": 2, "ts": 1714528800000, "foo": "bar"}]}`, 200,
			[]string{`{"code":0,"msg":"ok","data":{"data":[{"tx_id":9,"spend_10d":2,"tx_1h":1,"max_5m":2}]}}`}},
		{"openmldb put", "PUT", "/dbs/demo/tables/tx", `{"value": [` + txRow(10, "c4", 3, t0) + `]}`, 200, []string{`{"code":0,"msg":"ok"}`}},
		{"openmldb sees put", "POST", "/dbs/demo/deployments/features", `{"input": [` + txRow(11, "c4", 4, t0+1) + `]}`, 200, []string{`"data":[[11,7,2,4]]`}},
		{"openmldb deployment info", "GET", "/dbs/demo/deployments/features", "", 200,
			[]string{`{"code":0,"msg":"ok","data":{"name":"features","procedure":"","input_schema":[{"name":"tx_id","type":"int64"},{"name":"card","type":"string"},{"name":"amount","type":"double"},{"name":"ts","type":"timestamp"}],"input_common_cols":[],"output_schema":[`, `"dbs":["demo"],"tables":["tx"]}}`}},
		{"openmldb unknown deployment", "POST", "/dbs/demo/deployments/nope", `{"input": []}`, 404, []string{`{"code":-1,"msg":"not found: deployment \"nope\""`}},
		{"openmldb bad row", "POST", "/dbs/demo/deployments/features", `{"input": [[1, "c", "x", 1]]}`, 400, []string{`{"code":-1,"msg":"input[0].amount: cannot read \"x\" as double"`}},

		{"compute with GET", "GET", "/v1/views/features:compute", "", 405, []string{`"error":"method not allowed: GET /v1/views/features:compute"`}},
		{"no such route", "GET", "/v2/nothing", "", 404, []string{`"error":"not found: no route GET /v2/nothing"`}},
		{"view name with a colon", "POST", "/v1/views/a:b:compute", `{"rows": []}`, 404, nil},
	} {
		resp := serve(srv, c.method, c.path, c.body)
		if resp.status != c.status {
			t.Errorf("%s: status %d, want %d: %s", c.name, resp.status, c.status, resp.body)
			continue
		}
		for _, s := range c.contains {
			if !strings.Contains(string(resp.body), s) {
				t.Errorf("%s: body\n%s\nwant it to contain\n%s", c.name, resp.body, s)
			}
		}
		if ct := resp.header.Get("Content-Type"); c.path != "/metrics" && ct != "application/json" {
			t.Errorf("%s: Content-Type %q", c.name, ct)
		}
	}
}

// TestComputePathOverHTTP sends the ':compute' path through a real HTTP
// client and server, escaped and not.
func TestComputePathOverHTTP(t *testing.T) {
	t.Parallel()
	srv, _ := txServer(t, Options{}, ServerOptions{})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	body := []byte(`{"rows": [` + txRow(1, "c1", 10, t0) + `]}`)
	for _, path := range []string{"/v1/views/features:compute", "/v1/views/features%3Acompute", "/v1/views/features%3acompute"} {
		if resp := send(t, ts.Client(), ts.URL, "POST", path, body); resp.status != 200 || !strings.Contains(string(resp.body), `"rows":[[1,10,1,10]]`) {
			t.Errorf("POST %s: %d %s", path, resp.status, resp.body)
		}
	}
}

// badInputCase is a request that must be refused.
type badInputCase struct {
	name, path, body string
	status           int
	field, msg       string // the error body's field and a part of its message
}

// TestBadInput sends each class of bad input: the status, and an error
// that names the field at fault.
func TestBadInput(t *testing.T) {
	t.Parallel()
	srv, _ := txServer(t, Options{}, ServerOptions{MaxBody: 1024})
	compute := "/v1/views/features:compute"
	for _, c := range []badInputCase{
		{"malformed JSON", compute, `{"rows": [[1, "c1", 10, 1714528800000]`, 400, "rows", "malformed JSON"},
		{"not JSON", compute, `rows=1`, 400, "", "malformed JSON at byte 1"},
		{"trailing data", compute, `{"rows": []} {}`, 400, "", "text after the object"},
		{"duplicate key", compute, `{"rows": [{"tx_id": 1, "tx_id": 2}]}`, 400, "rows[0].tx_id", "twice"},
		{"unknown view", "/v1/views/nope:compute", `{"rows": []}`, 404, "", `no view named "nope"`},
		{"missing column", compute, `{"rows": [{"tx_id": 1, "card": "c1", "ts": 1714528800000}]}`, 400, "rows[0].amount", "missing"},
		{"unknown column", compute, `{"rows": [{"tx_id": 1, "card": "c1", "amount": 1, "ts": 1, "amout": 2}]}`, 400, "rows[0].amout", "not a column of tx"},
		{"mistyped column", compute, `{"rows": [{"tx_id": 1, "card": "c1", "amount": "abc", "ts": 1714528800000}]}`, 400, "rows[0].amount", `cannot read "abc" as double`},
		{"mistyped timestamp", compute, `{"rows": [[1, "c1", 1, true]]}`, 400, "rows[0].ts", "cannot read true as timestamp"},
		{"wrong width", compute, `{"rows": [[1, "c1", 10]]}`, 400, "rows[0]", "3 values; a tx row has 4 columns"},
		{"too wide", compute, `{"rows": [[1, "c1", 10, 1, 2]]}`, 400, "rows[0]", "more than 4 values"},
		{"body too large", compute, `{"rows": [` + strings.Repeat(txRow(1, "c1", 10, t0)+",", 40) + txRow(1, "c1", 10, t0) + `]}`, 413, "", "request body too large"},
		{"ingest unknown table", "/v1/tables/nope/rows", `{"rows": []}`, 404, "", `no table named "nope"`},
		{"ingest bad row", "/v1/tables/tx/rows", `{"rows": [[1, "c1", null, "2024-02-30"]]}`, 400, "rows[0].ts", "cannot read"},
	} {
		method := "POST"
		if strings.HasPrefix(c.path, "/v1/tables/") {
			method = "PUT"
		}
		resp := serve(srv, method, c.path, c.body)
		if resp.status != c.status {
			t.Errorf("%s: status %d, want %d: %s", c.name, resp.status, c.status, resp.body)
			continue
		}
		var e struct{ Error, Field, RequestID string }
		if err := json.Unmarshal(resp.body, &e); err != nil {
			t.Errorf("%s: body %s: %v", c.name, resp.body, err)
			continue
		}
		if e.Field != c.field || !strings.Contains(e.Error, c.msg) {
			t.Errorf("%s: field %q error %q, want field %q and an error with %q", c.name, e.Field, e.Error, c.field, c.msg)
		}
	}
}

// TestBodyTooLargeStreamed sends a body without a Content-Length (chunked)
// over HTTP: the limit still holds.
func TestBodyTooLargeStreamed(t *testing.T) {
	t.Parallel()
	srv, _ := txServer(t, Options{}, ServerOptions{MaxBody: 100})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte(`{"rows": [`))
		for range 100 {
			pw.Write([]byte(txRow(1, "c1", 10, t0) + ","))
		}
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", ts.URL+"/v1/views/features:compute", pr)
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", resp.StatusCode)
	}
}

// faultyStore wraps a store, replacing its Scan and Write when set.
type faultyStore struct {
	storage.Store
	scan  func(ctx context.Context, q eval.Query) (*types.Block, error)
	write func(ctx context.Context) error
}

func (s *faultyStore) Scan(ctx context.Context, q eval.Query) (*types.Block, error) {
	if s.scan != nil {
		return s.scan(ctx, q)
	}
	return s.Store.Scan(ctx, q)
}

func (s *faultyStore) Write(ctx context.Context, table string, rows *types.Block, seqs []uint64) error {
	if s.write != nil {
		if err := s.write(ctx); err != nil {
			return err
		}
	}
	return s.Store.Write(ctx, table, rows, seqs)
}

// faultyServer returns a server of txSQL over a faulty in-memory store.
func faultyServer(t testing.TB, fs *faultyStore, opts Options, sopts ServerOptions) *Server {
	t.Helper()
	mod := compile(t, txSQL)
	mem := storage.NewMem(epoch)
	if err := mem.Init(context.Background(), mod.Tables); err != nil {
		t.Fatal(err)
	}
	fs.Store = mem
	svc, err := New(mod, fs, opts)
	if err != nil {
		t.Fatal(err)
	}
	return NewServer(svc, sopts)
}

// TestSlowStorage: a store slower than the deadline gets 504 at the
// deadline — whether it honours its context or ignores it.
func TestSlowStorage(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	defer close(release)
	for _, c := range []struct {
		name string
		scan func(ctx context.Context, q eval.Query) (*types.Block, error)
	}{
		{"honours its context", func(ctx context.Context, q eval.Query) (*types.Block, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}},
		{"ignores its context", func(ctx context.Context, q eval.Query) (*types.Block, error) {
			<-release
			return nil, context.Canceled
		}},
	} {
		srv := faultyServer(t, &faultyStore{scan: c.scan}, Options{Timeout: 100 * time.Millisecond}, ServerOptions{})
		start := time.Now()
		resp := serve(srv, "POST", "/v1/views/features:compute", `{"rows": [`+txRow(1, "c1", 10, t0)+`]}`)
		elapsed := time.Since(start)
		if resp.status != http.StatusGatewayTimeout || elapsed > time.Second {
			t.Errorf("%s: status %d after %v, want 504 after 100ms: %s", c.name, resp.status, elapsed, resp.body)
		}
		if !strings.Contains(string(resp.body), `"request_id"`) {
			t.Errorf("%s: body %s has no request id", c.name, resp.body)
		}
	}
}

// TestUnavailableStorage: 503 while the store is unavailable, 200 once it
// is back, with nothing to restart.
func TestUnavailableStorage(t *testing.T) {
	t.Parallel()
	var down atomic.Bool
	down.Store(true)
	fs := &faultyStore{}
	fs.scan = func(ctx context.Context, q eval.Query) (*types.Block, error) {
		if down.Load() {
			return nil, storage.ErrUnavailable
		}
		return fs.Store.Scan(ctx, q)
	}
	srv := faultyServer(t, fs, Options{}, ServerOptions{})
	body := `{"rows": [` + txRow(1, "c1", 10, t0) + `]}`
	resp := serve(srv, "POST", "/v1/views/features:compute", body)
	if resp.status != http.StatusServiceUnavailable || !strings.Contains(string(resp.body), "storage unavailable") {
		t.Errorf("while down: %d %s, want 503", resp.status, resp.body)
	}
	down.Store(false)
	if resp := serve(srv, "POST", "/v1/views/features:compute", body); resp.status != http.StatusOK {
		t.Errorf("once back: %d %s, want 200", resp.status, resp.body)
	}
}

// TestAuth: with a token, every route but /healthz wants it.
func TestAuth(t *testing.T) {
	t.Parallel()
	srv, _ := txServer(t, Options{}, ServerOptions{AuthToken: "s3cret"})
	body := `{"rows": [` + txRow(1, "c1", 10, t0) + `]}`
	for _, c := range []struct {
		name         string
		method, path string
		header       []string
		status       int
	}{
		{"no token", "POST", "/v1/views/features:compute", nil, 401},
		{"wrong token", "POST", "/v1/views/features:compute", []string{"Authorization", "Bearer s3cre"}, 401},
		{"longer token", "POST", "/v1/views/features:compute", []string{"Authorization", "Bearer s3cret2"}, 401},
		{"not bearer", "POST", "/v1/views/features:compute", []string{"Authorization", "Basic s3cret"}, 401},
		{"right token", "POST", "/v1/views/features:compute", []string{"Authorization", "Bearer s3cret"}, 200},
		{"scheme in lower case", "POST", "/v1/views/features:compute", []string{"Authorization", "bearer s3cret"}, 200},
		{"metrics", "GET", "/metrics", nil, 401},
		{"unknown route", "GET", "/x", nil, 401},
		{"openmldb", "POST", "/dbs/d/deployments/features", nil, 401},
		{"health is open", "GET", "/healthz", nil, 200},
	} {
		resp := serve(srv, c.method, c.path, body, c.header...)
		if resp.status != c.status {
			t.Errorf("%s: status %d, want %d", c.name, resp.status, c.status)
		}
		if c.status == 401 {
			if b := strings.TrimSpace(string(resp.body)); b != `{"error":"unauthorized"}` && b != `{"code":-1,"msg":"unauthorized"}` {
				t.Errorf("%s: body %s says more than unauthorized", c.name, resp.body)
			}
			if resp.header.Get("WWW-Authenticate") != "Bearer" {
				t.Errorf("%s: no WWW-Authenticate header", c.name)
			}
		}
	}
}

// TestPanic: a panic during a request is answered 500 with a request id
// and no detail, and logged with its stack.
func TestPanic(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	fs := &faultyStore{
		scan:  func(ctx context.Context, q eval.Query) (*types.Block, error) { panic("boom in scan") },
		write: func(ctx context.Context) error { panic("boom in write") },
	}
	srv := faultyServer(t, fs, Options{}, ServerOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/v1/views/features:compute", `{"rows": [` + txRow(1, "c1", 10, t0) + `]}`},
		{"PUT", "/v1/tables/tx/rows", `{"rows": [` + txRow(1, "c1", 10, t0) + `]}`},
		{"POST", "/dbs/d/deployments/features", `{"input": [` + txRow(1, "c1", 10, t0) + `]}`},
	} {
		resp := serve(srv, c.method, c.path, c.body, "X-Request-Id", "req-42")
		if resp.status != 500 {
			t.Fatalf("%s: status %d, want 500", c.path, resp.status)
		}
		if strings.Contains(string(resp.body), "boom") || !strings.Contains(string(resp.body), `"request_id":"req-42"`) {
			t.Errorf("%s: body %s: want a request id and no panic text", c.path, resp.body)
		}
		if resp.header.Get("X-Request-Id") != "req-42" {
			t.Errorf("%s: X-Request-Id %q", c.path, resp.header.Get("X-Request-Id"))
		}
	}
	log := logs.String()
	for _, want := range []string{"boom in scan", "boom in write", "request_id=req-42", "stack=", "goroutine"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}
}

// TestMetrics checks the series a few requests leave.
func TestMetrics(t *testing.T) {
	t.Parallel()
	srv, _ := txServer(t, Options{}, ServerOptions{})
	serve(srv, "PUT", "/v1/tables/tx/rows", `{"rows": [`+txRow(1, "c1", 10, t0)+`,`+txRow(2, "c1", 10, t0+1)+`]}`)
	serve(srv, "POST", "/v1/views/features:compute", `{"rows": [`+txRow(3, "c1", 1, t0+2)+`]}`)
	serve(srv, "POST", "/v1/views/features:compute", `{"rows": [[1]]}`)
	serve(srv, "POST", "/v1/views/nope:compute", `{"rows": []}`)
	resp := serve(srv, "GET", "/metrics", "")
	for _, want := range []string{
		`fenestra_requests_total{code="200",route="compute",view="features"} 1`,
		`fenestra_requests_total{code="400",route="compute",view="features"} 1`,
		`fenestra_requests_total{code="404",route="compute",view=""} 1`,
		`fenestra_requests_total{code="200",route="ingest",view="tx"} 1`,
		`fenestra_request_duration_seconds_count{code="200",route="compute",view="features"} 1`,
		`fenestra_storage_read_duration_seconds_count{table="tx"} 1`,
		`fenestra_storage_write_duration_seconds_count{table="tx"} 1`,
		`fenestra_storage_rows_read_sum{view="features"} 2`,
		`go_goroutines`,
		`process_resident_memory_bytes`,
	} {
		if !strings.Contains(string(resp.body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServerTiming: compute answers, native and OpenMLDB, carry a
// Server-Timing header whose storage part is the time the store took and
// whose total is at least that.
func TestServerTiming(t *testing.T) {
	t.Parallel()
	const delay = 20 * time.Millisecond
	fs := &faultyStore{}
	fs.scan = func(ctx context.Context, q eval.Query) (*types.Block, error) {
		time.Sleep(delay)
		return fs.Store.Scan(ctx, q)
	}
	srv := faultyServer(t, fs, Options{}, ServerOptions{})
	format := regexp.MustCompile(`^storage;dur=([0-9]+\.[0-9]{3}), total;dur=([0-9]+\.[0-9]{3})$`)
	for _, c := range []struct{ path, body string }{
		{"/v1/views/features:compute", `{"rows": [` + txRow(1, "c1", 10, t0) + `]}`},
		{"/dbs/demo/deployments/features", `{"input": [` + txRow(1, "c1", 10, t0) + `]}`},
	} {
		start := time.Now()
		resp := serve(srv, "POST", c.path, c.body)
		elapsed := time.Since(start)
		h := resp.header.Get("Server-Timing")
		m := format.FindStringSubmatch(h)
		if resp.status != http.StatusOK || m == nil {
			t.Errorf("%s: status %d, Server-Timing %q", c.path, resp.status, h)
			continue
		}
		storage, _ := strconv.ParseFloat(m[1], 64)
		total, _ := strconv.ParseFloat(m[2], 64)
		// One read of the key's window: the store's delay, at least.
		if storage < delay.Seconds()*1e3 || total < storage || total > elapsed.Seconds()*1e3 {
			t.Errorf("%s: Server-Timing %q, want storage ≥ %v ≤ total ≤ the %v the request took", c.path, h, delay, elapsed)
		}
	}
	if resp := serve(srv, "GET", "/v1/views/features", ""); resp.header.Get("Server-Timing") != "" {
		t.Errorf("a describe answer has Server-Timing %q", resp.header.Get("Server-Timing"))
	}
}
