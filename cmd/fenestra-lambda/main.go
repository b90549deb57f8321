// Command fenestra-lambda serves feature views as an AWS Lambda function:
// the functions package's Lambda adapter over a Bigtable store. It takes
// API Gateway REST API and HTTP API proxy events, Lambda function URL
// requests, direct invocations ({"view": ..., "rows": [...]}) and the
// Kafka events of an Amazon MSK or self-managed Kafka event source
// mapping, whose records it stores as rows of the tables FENESTRA_TOPICS
// names, numbered by partition and offset as the streaming pipeline
// numbers them, so a record delivered again is stored once; see
// functions.Lambda.
//
// It is configured by environment variables:
//
//	FENESTRA_SQL              the feature file whose DEPLOY views to serve (package it with
//	                          the function, e.g. in the zip or a layer); when not set, the
//	                          deployments stored in Bigtable (a script's DEPLOY statements)
//	                          as listed when the instance starts: a deployment stored later
//	                          is served by instances started after it (publish a version or
//	                          change the configuration to restart them all)
//	BIGTABLE_PROJECT          the Bigtable project and instance (required unless
//	BIGTABLE_INSTANCE         BIGTABLE_EMULATOR_HOST is set: then local/local)
//	BIGTABLE_EMULATOR_HOST    host:port of a Bigtable emulator
//	FENESTRA_PREFIX           prefix of the Bigtable table names (default fenestra_)
//	FENESTRA_TIMEOUT          the deadline of a request, a Go duration (default 2s)
//	FENESTRA_MAX_BODY         the largest request body, in bytes (default 1 MiB)
//	FENESTRA_AUTH_TOKEN_FILE  a file holding the bearer token proxy events must carry
//	                          (none by default: API Gateway or IAM authorizes)
//	FENESTRA_DATABASE         the database name the OpenMLDB routes answer to (default any)
//	FENESTRA_LOG_LEVEL        debug, info, warn or error (default info); logs are JSON on stderr
//	FENESTRA_TIME_ZONE        the time zone of date and time functions (default Asia/Shanghai,
//	                          OpenMLDB's UTC+8); the views must have been compiled in it
//	FENESTRA_TOPICS           the Kafka topic of each table that takes records, TABLE=TOPIC pairs
//	                          separated by commas (tx=transactions,users=users); a table takes
//	                          one topic, a topic feeds one table
//	FENESTRA_BAD_RECORDS      what a Kafka event's bad record does: fail (the default: the
//	                          invocation fails, stores nothing, and Lambda retries the batch;
//	                          give the event source mapping an on-failure destination) or skip
//	                          (counted in fenestra_records_bad_total, logged, the rest stored);
//	                          not dead-letter, which needs a producer the function lacks
//
// The tables must exist (fenestra storage init). Unlike fenestra serve, the
// function does not poll the stored deployments: Lambda freezes its process
// between invocations, so a poller would not run on its schedule. A configuration error
// ends the process before the runtime loop starts, which Lambda reports
// as an initialization failure.
package main

import (
	"context"
	"fmt"
	"os"
	_ "time/tzdata" // IANA zones for FENESTRA_TIME_ZONE: Lambda images have no zoneinfo

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	h, err := handler(context.Background(), os.Getenv, os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "fenestra-lambda: %v\n", err)
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}
