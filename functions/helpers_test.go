package functions

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/emulators"
	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/storage"
	"github.com/fenestra-dev/fenestra/storage/bigtable"
)

// txSQL is the benchmark view over a transactions table: a key's
// sum over 10 days, count over 1 hour and max over 5 minutes.
const txSQL = `
CREATE TABLE tx (
  tx_id bigint, card string, amount double, ts timestamp,
  INDEX(KEY=card, TS=ts, TTL=30d, TTL_TYPE=absolute)
);
DEPLOY features
SELECT tx_id,
  sum(amount) OVER w10d AS spend_10d,
  count(amount) OVER w1h AS tx_1h,
  max(amount) OVER w5m AS max_5m
FROM tx
WINDOW
  w10d AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 10d PRECEDING AND CURRENT ROW),
  w1h  AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 1h PRECEDING AND CURRENT ROW),
  w5m  AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 5m PRECEDING AND CURRENT ROW);
`

// epoch is the clock of test stores: absolute TTLs keep every row after
// 1970, so stored rows of any date stay visible, as in batch mode.
func epoch() time.Time { return time.UnixMilli(0) }

// compile compiles a feature file.
func compile(t testing.TB, sql string) *featurelang.Module {
	t.Helper()
	mod, err := featurelang.Compile("test.sql", sql, featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return mod
}

// memService returns a service over an in-memory store holding the
// module's tables.
func memService(t testing.TB, mod *featurelang.Module, opts Options) (*Service, *storage.Mem) {
	t.Helper()
	mem := storage.NewMem(epoch)
	if err := mem.Init(context.Background(), mod.Tables); err != nil {
		t.Fatal(err)
	}
	svc, err := New(mod, mem, opts)
	if err != nil {
		t.Fatal(err)
	}
	return svc, mem
}

// startEmulator starts a Bigtable emulator for the test.
func startEmulator(t testing.TB) string {
	t.Helper()
	addr, stop, err := emulators.StartBigtable("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return addr
}

var prefixes atomic.Int64

// bigtableStore opens a store with a prefix of its own on the emulator
// at addr and creates the module's tables. timeout, if given, bounds each
// call to Bigtable.
func bigtableStore(t testing.TB, addr string, mod *featurelang.Module, timeout ...time.Duration) *bigtable.Store {
	t.Helper()
	cfg := bigtable.Config{Project: "p", Instance: "i", EmulatorHost: addr,
		Prefix: fmt.Sprintf("t%d_", prefixes.Add(1)), Clock: epoch, NoGC: true}
	if len(timeout) > 0 {
		cfg.Timeout = timeout[0]
	}
	s := openStore(t, cfg)
	if err := s.Init(context.Background(), mod.Tables); err != nil {
		t.Fatal(err)
	}
	return s
}

func openStore(t testing.TB, cfg bigtable.Config) *bigtable.Store {
	t.Helper()
	s, err := bigtable.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// proxiedStore starts an emulator holding mod's tables and returns a
// proxy to it, a store whose calls go through the proxy with the given
// per-call timeout, and a store of the same tables reaching the emulator
// directly. The tables are created through the direct one, whose calls
// have the default timeout: a loaded machine's first calls can outlast a
// short one.
func proxiedStore(t testing.TB, mod *featurelang.Module, timeout time.Duration) (p *proxy, proxied, direct *bigtable.Store) {
	t.Helper()
	emu := startEmulator(t)
	cfg := bigtable.Config{Project: "p", Instance: "i", EmulatorHost: emu,
		Prefix: fmt.Sprintf("t%d_", prefixes.Add(1)), Clock: epoch, NoGC: true}
	direct = openStore(t, cfg)
	if err := direct.Init(context.Background(), mod.Tables); err != nil {
		t.Fatal(err)
	}
	p = startProxy(t, emu)
	cfg.EmulatorHost, cfg.Timeout = p.addr(), timeout
	return p, openStore(t, cfg), direct
}

// response is an HTTP answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// serve sends one request to h through an httptest recorder.
func serve(h http.Handler, method, path, body string, header ...string) response {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return response{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
}

// send sends one request to a test server over HTTP.
func send(t testing.TB, client *http.Client, base, method, path string, body []byte, header ...string) response {
	t.Helper()
	r, err := http.NewRequest(method, base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	resp, err := client.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// jsonField returns a top-level member of a JSON object as text.
func jsonField(t testing.TB, body []byte, name string) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("response %s: %v", body, err)
	}
	return string(m[name])
}

// newLambda returns the Lambda adapter of srv.
func newLambda(t testing.TB, srv *Server, opts LambdaOptions) *Lambda {
	t.Helper()
	l, err := NewLambda(srv, opts)
	if err != nil {
		t.Fatal(err)
	}
	return l
}
