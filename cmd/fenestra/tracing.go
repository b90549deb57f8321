package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// startTracing turns OpenTelemetry tracing on when
// OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is
// set: spans go to that OTLP collector over gRPC (the exporter reads the
// other standard OTEL_EXPORTER_OTLP_* variables: headers, TLS, timeout;
// OTEL_SERVICE_NAME overrides service), batched. The provider is also the
// global one, so the Bigtable client's own spans (ReadRows, MutateRows...)
// join the requests'. It returns the provider, nil when tracing is off,
// and stop, which flushes the spans not yet sent.
func startTracing(ctx context.Context, service string, stdout io.Writer) (tp trace.TracerProvider, stop func(), err error) {
	endpoint := os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	if endpoint == "" {
		endpoint = os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT")
	}
	if endpoint == "" {
		return nil, func() {}, nil
	}
	exp, err := otlptracegrpc.New(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("tracing to %s: %w", endpoint, err)
	}
	res := resource.Default() // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES included
	if os.Getenv("OTEL_SERVICE_NAME") == "" {
		if res, err = resource.Merge(res, resource.NewSchemaless(semconv.ServiceName(service))); err != nil {
			return nil, nil, fmt.Errorf("tracing: %w", err)
		}
	}
	sdk := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(sdk)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	fmt.Fprintf(stdout, "tracing to %s (OTLP over gRPC)\n", endpoint)
	return sdk, func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		sdk.Shutdown(sctx)
	}, nil
}
