// Command fenestra-load loads a feature function (fenestra serve, or any
// server of the functions routes) the way the functions issue measures
// it: history of many keys in Bigtable, then requests at a fixed rate.
//
//	fenestra-load setup --sql features.sql [--keys 10000] [--history 100] [--bigtable PROJECT/INSTANCE]
//	fenestra-load run --target http://127.0.0.1:8080 [--view features] [--rate 500] [--duration 60s] [--keys 10000] [--server-pid PID] [--store-pid PID]
//	fenestra-load noop [--addr 127.0.0.1:8090]
//	fenestra-load consume --brokers HOST:PORT --topic TOPIC
//	fenestra-load stream --sql features.sql --brokers HOST:PORT [--topic tx] [--target URL] [--rate 5000] [--duration 60s] [--stream-metrics URL]
//
// setup creates the feature file's tables (as fenestra storage init does)
// and writes --history rows for each of --keys cards of the first table,
// spread over the 10 days before now. run sends POST
// /v1/views/{view}:compute requests, one row each for a random card at
// the current time, open loop: request i is due at start + i/rate whether
// or not earlier ones have been answered (a late sender catches up at
// once), and its latency counts from when it is sent, the wait for one of
// --concurrency slots included, so a slow server cannot hide its queue (no
// coordinated omission). It prints the latency percentiles; the same
// counted from when each request was due, with the sender's own lag (Go's
// timers wake up to a millisecond late on Linux); the server's own time,
// from the Server-Timing header of its answers; the errors by status; the
// server's resident memory before and after (from its /metrics); and,
// given --server-pid, the CPU time the server process used over the run
// per request sent: its utime+stime from /proc/PID/stat before the first
// request and after the last answer, the kernel's accounting of all its
// threads, not a sample (--store-pid likewise for the Bigtable emulator,
// whose work the server's reads cause; both Linux only).
//
// noop serves a fixed answer to every compute request, at once: a run
// against it measures what the machine, its loopback and HTTP cost at
// that rate, the floor under any server's figures. On a shared machine,
// whose noise comes and goes, compare runs of the two made one after the
// other.
//
// A full run on one machine:
//
//	fenestra emulator bigtable --addr 127.0.0.1:8086 &
//	export BIGTABLE_EMULATOR_HOST=127.0.0.1:8086
//	fenestra-load setup --sql cmd/fenestra-load/features.sql
//	fenestra serve --sql cmd/fenestra-load/features.sql --addr 127.0.0.1:8080 &
//	fenestra-load run --target http://127.0.0.1:8080 --rate 500 --duration 60s
//	fenestra-load run --target http://127.0.0.1:8080 --rate 2000 --duration 60s --server-pid $(pgrep -f 'fenestra serve')
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "setup":
			return runSetup(ctx, args[1:], stdout, stderr)
		case "run":
			return runLoad(ctx, args[1:], stdout, stderr)
		case "noop":
			return runNoop(ctx, args[1:], stdout, stderr)
		case "stream":
			return runStream(ctx, args[1:], stdout, stderr)
		case "consume":
			return runConsume(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintln(stderr, "usage: fenestra-load setup|run|noop|stream|consume [flags]\n\n  setup  create the tables and write the history of --keys cards\n  run    send requests at --rate for --duration and report latencies\n  noop   serve a fixed answer to every compute request: what the\n         machine and HTTP cost, to compare a run of the server with\n  stream produce events to Kafka at --rate for --duration and probe\n         their freshness: the time until a request sees an event\n  consume read a topic to its end with a bare Kafka consumer: the\n         baseline of the stream's catch-up rate\n\nRun 'fenestra-load <command> -h' for a command's flags.")
	return 2
}
