package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// noopAnswer is the compute answer of the no-op server: one row of the
// load view's shape.
const noopAnswer = `{"view":"features","version":"noop","columns":[{"name":"tx_id","type":"bigint"},{"name":"spend_10d","type":"double"},{"name":"tx_1h","type":"bigint"},{"name":"max_5m","type":"double"}],"rows":[[1,1.5,1,1.5]]}`

// runNoop serves the no-op server until ctx is done.
func runNoop(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("noop", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8090", "the address to listen on")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "fenestra-load noop: %v\n", err)
		return 1
	}
	hs := &http.Server{Handler: noopHandler(), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	fmt.Fprintf(stdout, "no-op server on http://%s\n", ln.Addr())
	select {
	case err = <-done:
	case <-ctx.Done():
		err = hs.Close()
		<-done
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "fenestra-load noop: %v\n", err)
		return 1
	}
	return 0
}

// noopHandler answers every compute request at once with noopAnswer, the
// body read and discarded, and serves its process's metrics (for the
// resident memory run reports) at /metrics.
func noopHandler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/metrics":
			metrics.ServeHTTP(w, r)
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, ":compute"):
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, noopAnswer)
		default:
			http.NotFound(w, r)
		}
	})
}
