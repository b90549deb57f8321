package main

import (
	"context"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
)

// TestStartTracing: off without OTEL_EXPORTER_OTLP_ENDPOINT; with it, a
// provider that is also the global one (the Bigtable client's spans join).
// (Not parallel: it sets the environment and the global provider.)
func TestStartTracing(t *testing.T) {
	global := otel.GetTracerProvider()
	t.Cleanup(func() { otel.SetTracerProvider(global) })
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	var out strings.Builder
	tp, stop, err := startTracing(context.Background(), "fenestra-test", &out)
	if err != nil || tp != nil || out.Len() > 0 {
		t.Fatalf("without an endpoint: %v, %v, %q; want tracing off", tp, err, out.String())
	}
	stop()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")
	tp, stop, err = startTracing(context.Background(), "fenestra-test", &out)
	if err != nil || tp == nil || otel.GetTracerProvider() != tp || !strings.Contains(out.String(), "tracing to http://127.0.0.1:1 (OTLP over gRPC)") {
		t.Fatalf("with an endpoint: %v, %v, %q", tp, err, out.String())
	}
	stop()
}
