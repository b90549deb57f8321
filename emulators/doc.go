// Package emulators starts local emulators of the services fenestra runs
// on, so development and tests use the real client libraries over their
// real protocols without a cloud account.
//
// StartBigtable runs the Bigtable emulator (cloud.google.com/go/bigtable's
// bttest) in process, listening on a loopback address over gRPC. Point the
// Bigtable clients at it the way the gcloud tools do:
//
//	export BIGTABLE_EMULATOR_HOST=127.0.0.1:8086
//
// (fenestra emulator bigtable prints that line), or pass the address to
// storage/bigtable's Config.EmulatorHost in tests.
//
// The emulator keeps everything in memory: its tables vanish when it stops.
// It runs writes one at a time, apart from reads: bttest alone lets a read
// of a row miss cells while a write adds a column to that row.
//
// StartLambda runs a local AWS Lambda Runtime API (version 2018-06-01):
// the HTTP API on which a Lambda runtime asks for the next event and posts
// the function's response or error. A function binary built with
// github.com/aws/aws-lambda-go runs its real lambda.Start loop against it
// when started with the environment from Lambda.Env (AWS_LAMBDA_RUNTIME_API
// and the variables Lambda sets); Lambda.Invoke then plays the Lambda
// service. RunLambda starts both, the binary as a child process:
//
//	l, err := emulators.RunLambda(ctx, "./bootstrap")
//	if err != nil { ... }
//	defer l.Close()
//	out, err := l.Invoke(ctx, []byte(`{"key":"value"}`))
//	var fnErr *emulators.LambdaError
//	if errors.As(err, &fnErr) { ... } // the function returned an error or panicked
//
// To run a runtime by hand instead, start the emulator and export its
// environment:
//
//	l, err := emulators.StartLambda("127.0.0.1:9001", "my-function")
//	// AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001 ... ./bootstrap
package emulators
