package functions

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/fenestra-dev/fenestra/storage"
)

// TestTrace checks the span tree of one compute with store set, sent with
// a caller's traceparent, and of one ingest, recorded in memory.
func TestTrace(t *testing.T) {
	t.Parallel()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	mod := compile(t, txSQL)
	mem := storage.NewMem(epoch)
	if err := mem.Init(context.Background(), mod.Tables); err != nil {
		t.Fatal(err)
	}
	svc, err := New(mod, mem, Options{TracerProvider: tp})
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(svc, ServerOptions{})
	const parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	resp := serve(srv, "POST", "/v1/views/features:compute", `{"rows": [`+txRow(1, "c1", 10, t0)+`], "store": true}`, "traceparent", parent)
	if resp.status != http.StatusOK {
		t.Fatalf("compute: %d %s", resp.status, resp.body)
	}
	if resp := serve(srv, "PUT", "/v1/tables/tx/rows", `{"rows": [`+txRow(2, "c1", 10, t0+1)+`]}`); resp.status != http.StatusOK {
		t.Fatalf("ingest: %d %s", resp.status, resp.body)
	}
	want := `POST /v1/views/{view}:compute (parent b7ad6b7169203331, trace 0af7651916cd43dd8448eb211c80319c)
  evaluate features
    storage.scan tx
    storage.write tx
PUT /v1/tables/{table}/rows
  storage.write tx
`
	if got := spanTree(rec.Ended()); got != want {
		t.Errorf("spans:\n%s\nwant\n%s", got, want)
	}
}

// spanTree draws spans as a tree, children in start order, roots with
// their remote parent.
func spanTree(spans []sdktrace.ReadOnlySpan) string {
	slices.SortFunc(spans, func(a, b sdktrace.ReadOnlySpan) int { return a.StartTime().Compare(b.StartTime()) })
	var b strings.Builder
	var draw func(parent string, depth int)
	draw = func(parent string, depth int) {
		for _, s := range spans {
			p := s.Parent()
			isRoot := !p.IsValid() || p.IsRemote()
			if depth == 0 && !isRoot || depth > 0 && (isRoot || p.SpanID().String() != parent) {
				continue
			}
			b.WriteString(strings.Repeat("  ", depth) + s.Name())
			if p.IsRemote() {
				b.WriteString(" (parent " + p.SpanID().String() + ", trace " + s.SpanContext().TraceID().String() + ")")
			}
			b.WriteString("\n")
			draw(s.SpanContext().SpanID().String(), depth+1)
		}
	}
	draw("", 0)
	return b.String()
}
