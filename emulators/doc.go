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
// StartKafka runs a Kafka emulator (github.com/twmb/franz-go/pkg/kfake)
// in process: one broker, speaking Kafka's protocol over TCP, that any
// Kafka client reaches with the address StartKafka returns as its seed
// broker:
//
//	export KAFKA_BROKERS=127.0.0.1:9092
//
// (fenestra emulator kafka prints that line). It creates a topic the first
// time a client asks for it with auto-creation allowed (franz-go's
// kgo.AllowAutoTopicCreation), with the emulator's default partition
// count; CreateTopic creates one with a given count, on the emulator or
// on any Kafka cluster. Consumer groups work, and so do offsets committed
// for a group with no members (kadm's CommitOffsets), as a consumer that
// assigns itself partitions keeps its progress. Unlike Kafka, which
// answers no offsets, the emulator answers kerr.GroupIDNotFound when asked
// for the offsets of a group that has committed none. Like the Bigtable
// emulator, it keeps everything in memory: its topics, records and
// offsets vanish when it stops.
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
