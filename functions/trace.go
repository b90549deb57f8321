package functions

import (
	"context"
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// tracerName names the instrumentation scope of the spans of this
// package.
const tracerName = "github.com/fenestra-dev/fenestra/functions"

// Tracing. With Options.TracerProvider set, a compute is traced as
//
//	POST /v1/views/{view}:compute   (server; the caller's traceparent, when it sends one, is its parent)
//	  evaluate {view}               the evaluator, over the request's rows
//	    storage.scan {table}        each read of stored rows (one per shared read), or of tiles
//	      (the Bigtable client's own spans: ReadRows, ...)
//	    storage.write {table}       with store set
//
// and an ingest as PUT /v1/tables/{table}/rows > storage.write {table}.
// Without it (the default) no span is started and nothing is allocated
// for tracing: every call site checks the service's tracer first.

// newTracer returns the tracer of tp, or nil when tp is nil (tracing off).
func newTracer(tp trace.TracerProvider) trace.Tracer {
	if tp == nil {
		return nil
	}
	return tp.Tracer(tracerName)
}

// startServerSpan starts the span of an HTTP request, a child of the
// caller's span when the request carries a W3C traceparent.
func startServerSpan(tr trace.Tracer, r *http.Request, name string) (context.Context, trace.Span) {
	ctx := propagation.TraceContext{}.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	return tr.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("http.request.method", r.Method), attribute.String("url.path", r.URL.Path)))
}

// endSpan ends span (nil: tracing off), recording err when not nil.
func endSpan(span trace.Span, err error) {
	if span == nil {
		return
	}
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// startStorageSpan starts the span of a storage call on table, when
// tracing is on (tr not nil); else it returns ctx and a nil span.
func startStorageSpan(tr trace.Tracer, ctx context.Context, op, table string, n int) (context.Context, trace.Span) {
	if tr == nil {
		return ctx, nil
	}
	return tr.Start(ctx, "storage."+op+" "+table, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("fenestra.table", table), attribute.Int("fenestra.queries", n)))
}
