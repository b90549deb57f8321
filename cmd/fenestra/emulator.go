package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/fenestra-dev/fenestra/emulators"
)

const emulatorUsage = `usage: fenestra emulator bigtable [--addr HOST:PORT] [--debug-addr HOST:PORT]
       fenestra emulator kafka [--addr HOST:PORT] [--partitions N] [--topic NAME ...] [--debug-addr HOST:PORT]

Runs an emulator until interrupted. Emulators: bigtable, kafka.`

// runEmulator runs a local emulator until interrupted.
func runEmulator(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "bigtable":
			return runBigtableEmulator(ctx, args[1:], stdout, stderr)
		case "kafka":
			return runKafkaEmulator(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintln(stderr, emulatorUsage)
	return 2
}

// runBigtableEmulator runs the Bigtable emulator until interrupted.
func runBigtableEmulator(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("emulator bigtable", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8086", "address to listen on (port 0: any free port)")
	debugAddr := fs.String("debug-addr", "", "an address to serve Go's profiles on, /debug/pprof/ (none: off)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: fenestra emulator bigtable [--addr HOST:PORT] [--debug-addr HOST:PORT]\n\nRuns the Bigtable emulator in memory until interrupted, and prints the\nBIGTABLE_EMULATOR_HOST setting that points the Bigtable clients (and\nfenestra storage init) at it.\n\nflags:")
		fs.PrintDefaults()
	}
	if !parseEmulatorFlags(fs, args) {
		return 2
	}
	hostport, stop, err := emulators.StartBigtable(*addr)
	if err != nil {
		fmt.Fprintf(stderr, "fenestra emulator: %v\n", err)
		return 1
	}
	defer stop()
	banner := fmt.Sprintf("Bigtable emulator listening on %s (in memory; interrupt to stop)\nexport BIGTABLE_EMULATOR_HOST=%s\n", hostport, hostport)
	return untilInterrupted(ctx, *debugAddr, banner, stdout, stderr)
}

// runKafkaEmulator runs the Kafka emulator until interrupted.
func runKafkaEmulator(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("emulator kafka", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:9092", "address to listen on (port 0: any free port)")
	partitions := fs.Int("partitions", 1, "partitions of a topic created on first use")
	debugAddr := fs.String("debug-addr", "", "an address to serve Go's profiles on, /debug/pprof/ (none: off)")
	var topics stringList
	fs.Var(&topics, "topic", "a topic to create at start, with --partitions partitions (repeat for more)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: fenestra emulator kafka [--addr HOST:PORT] [--partitions N] [--topic NAME ...] [--debug-addr HOST:PORT]\n\nRuns a Kafka broker in memory until interrupted, and prints the\nKAFKA_BROKERS setting that points Kafka clients at it. A topic is\ncreated, with --partitions partitions, at start (--topic) or when a\nclient first asks for it.\n\nflags:")
		fs.PrintDefaults()
	}
	if !parseEmulatorFlags(fs, args) {
		return 2
	}
	if *partitions < 1 {
		fmt.Fprintln(stderr, "fenestra emulator: --partitions must be at least 1")
		return 2
	}
	hostport, stop, err := emulators.StartKafka(*addr, *partitions)
	if err != nil {
		fmt.Fprintf(stderr, "fenestra emulator: %v\n", err)
		return 1
	}
	defer stop()
	for _, topic := range topics {
		if err := emulators.CreateTopic(ctx, hostport, topic, *partitions); err != nil {
			fmt.Fprintf(stderr, "fenestra emulator: %v\n", err)
			return 1
		}
	}
	per := "1 partition"
	if *partitions > 1 {
		per = fmt.Sprintf("%d partitions", *partitions)
	}
	banner := fmt.Sprintf("Kafka emulator listening on %s (in memory, %s per new topic; interrupt to stop)\nexport KAFKA_BROKERS=%s\n", hostport, per, hostport)
	return untilInterrupted(ctx, *debugAddr, banner, stdout, stderr)
}

// parseEmulatorFlags parses an emulator's flags, which take no arguments,
// and reports whether they were good.
func parseEmulatorFlags(fs *flag.FlagSet, args []string) bool {
	if err := fs.Parse(args); err != nil {
		return false
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return false
	}
	return true
}

// untilInterrupted serves Go's profiles on debugAddr (if not empty),
// prints banner, and waits for ctx to end: the running emulator's
// interrupt.
func untilInterrupted(ctx context.Context, debugAddr, banner string, stdout, stderr io.Writer) int {
	if debugAddr != "" {
		stopDebug, err := serveDebug(debugAddr, stdout)
		if err != nil {
			fmt.Fprintf(stderr, "fenestra emulator: %v\n", err)
			return 1
		}
		defer stopDebug()
	}
	fmt.Fprint(stdout, banner)
	<-ctx.Done()
	fmt.Fprintln(stderr, "fenestra emulator: stopped")
	return 0
}

// stringList collects a repeated flag's values.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }
