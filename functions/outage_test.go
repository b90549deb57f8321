package functions

import (
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// proxy forwards TCP connections to a backend until it is cut: then it
// drops every connection and refuses new ones, until it is restored.
type proxy struct {
	ln      net.Listener
	backend string
	mu      sync.Mutex
	down    bool
	conns   map[net.Conn]bool
}

func startProxy(t testing.TB, backend string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, backend: backend, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go p.serve()
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.Close()
			continue
		}
		b, err := net.Dial("tcp", p.backend)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c], p.conns[b] = true, true
		p.mu.Unlock()
		go pipe(c, b)
		go pipe(b, c)
	}
}

func pipe(dst, src net.Conn) {
	io.Copy(dst, src)
	dst.Close()
	src.Close()
}

// cut drops every connection and refuses new ones.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

func (p *proxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

// TestBigtableOutage cuts the connection to the Bigtable emulator: every
// request is answered 503 within the deadline, never hung; once the
// connection is back, serving resumes by itself. The Bigtable client
// retries unavailable servers until its call's deadline, so the store's
// per-call timeout (shorter than the request's, as fenestra serve sets
// it) is what tells an unreachable store (503) from a slow request (504).
// The two are far enough apart (0.4 s and 1.5 s) that a loaded machine's
// scheduling delays do not blur them.
func TestBigtableOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for gRPC to reconnect")
	}
	t.Parallel()
	mod := compile(t, txSQL)
	p, store, _ := proxiedStore(t, mod, 400*time.Millisecond)
	var svc *Service
	// New reads the tables' definitions: on a loaded machine the first
	// call of a new connection can take longer than the store's timeout.
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		var err error
		if svc, err = New(mod, store, Options{Timeout: 1500 * time.Millisecond}); err == nil {
			break
		} else if time.Since(start) > 10*time.Second {
			t.Fatal(err)
		}
	}
	srv := NewServer(svc, ServerOptions{})
	body := `{"rows": [` + txRow(1, "c1", 10, t0) + `]}`
	// Before the outage: served (the first calls of a new connection may
	// outlast the store's short timeout on a loaded machine).
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		resp := serve(srv, "POST", "/v1/views/features:compute", body)
		if resp.status == http.StatusOK {
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("before the outage: %d %s", resp.status, resp.body)
		}
	}
	p.cut()
	for i := range 3 {
		start := time.Now()
		resp := serve(srv, "POST", "/v1/views/features:compute", body)
		elapsed := time.Since(start)
		if resp.status != http.StatusServiceUnavailable || elapsed > 2*time.Second {
			t.Errorf("during the outage, request %d: %d after %v: %s", i, resp.status, elapsed, resp.body)
		}
		t.Logf("during the outage: %d after %v", resp.status, elapsed.Round(time.Millisecond))
	}
	p.restore()
	start := time.Now()
	for {
		resp := serve(srv, "POST", "/v1/views/features:compute", body)
		if resp.status == http.StatusOK {
			t.Logf("serving again %v after the connection came back", time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("still %d %s 30s after the connection came back", resp.status, resp.body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
