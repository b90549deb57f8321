// Command fenestra is the command line of the fenestra feature platform.
//
//	fenestra up [--example NAME]      run the whole system on an example
//	fenestra gen --example NAME --rows N --out DIR
//	fenestra verify --sql FILE.sql --table NAME=PATH ... [--online URL]
//	fenestra check FILE.sql           print each view's output schema and version
//	fenestra explain FILE.sql         print each view's plan
//	fenestra conformance [flags] CASES.jsonl
//	fenestra backfill --sql FILE.sql [--view NAME] --table NAME=PATH ... --out PATH [beam flags]
//	fenestra materialize --sql FILE.sql --table NAME=PATH ... [--bigtable PROJECT/INSTANCE] [beam flags]
//	fenestra storage init --sql FILE.sql [--bigtable PROJECT/INSTANCE]
//	fenestra emulator bigtable [--addr HOST:PORT]
//	fenestra emulator kafka [--addr HOST:PORT] [--partitions N]
//	fenestra serve --sql FILE.sql [--addr :8080] [--bigtable PROJECT/INSTANCE]
//	fenestra serve --bigtable PROJECT/INSTANCE [--poll 2s] [--addr :8080]   the stored deployments
//	fenestra produce --sql FILE.sql --table NAME=PATH --topic TOPIC --brokers HOST:PORT [--rate N]
//	fenestra stream --sql FILE.sql --brokers HOST:PORT --topic TABLE=TOPIC ... [--group ID] [beam flags]
//
// main only parses flags and wires packages together.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	_ "time/tzdata" // IANA zones for --time-zone, on hosts without zoneinfo

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// command is one subcommand: it parses its own flags from args.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

var commands = map[string]command{
	"up":          {"run the whole system on an example: data, Bigtable emulator, materialize, backfill, HTTP function", runUp},
	"gen":         {"write an example's feature file and generated data (CSV)", runGen},
	"verify":      {"check that online features equal the training set, request by request", runVerify},
	"run":         {"run an OpenMLDB SQL script: databases, tables, LOAD DATA, SELECT INTO OUTFILE, DEPLOY", runScript},
	"check":       {"check feature files; print each view's output schema and version", runCheck},
	"explain":     {"print the plan of each view of feature files", runExplain},
	"conformance": {"run SQL conformance cases (JSON lines) in batch and/or request mode", runConformance},
	"backfill":    {"compute a feature view over data files into a training set (Beam)", runBackfill},
	"materialize": {"load data files into the online store, Bigtable (Beam)", runMaterialize},
	"storage":     {"init: create the Bigtable tables of a feature file", runStorage},
	"emulator":    {"bigtable, kafka: run a local Bigtable or Kafka emulator until interrupted", runEmulator},
	"serve":       {"serve feature views over HTTP, history in Bigtable", runServe},
	"produce":     {"produce a data file's rows to a Kafka topic as the records stream reads", runProduce},
	"stream":      {"stream rows from Kafka topics into the online store, Bigtable (Beam, until interrupted)", runStream},
}

func main() {
	if beamWorker(os.Args[1:]) {
		// A Beam runner started this binary as a worker (a Flink or
		// Spark job server's DOCKER or PROCESS environment): beam.Init
		// serves the pipeline's work and exits.
		flag.Parse()
		beam.Init()
		return
	}
	// SIGTERM (Kubernetes, Cloud Run, systemd) and SIGINT stop a command
	// the same way: serve and stream drain, then exit 0.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		return 2
	}
	args, zone, err := timeZoneFlag(args)
	if err == nil {
		err = types.SetZone(zone)
	}
	if err != nil {
		fmt.Fprintf(stderr, "fenestra: --time-zone: %v\n", err)
		return 2
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "fenestra: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	return cmd.run(ctx, args[1:], stdout, stderr)
}

// beamWorker reports whether args are those a Beam runner starts a worker
// with (--worker=true ...).
func beamWorker(args []string) bool {
	for _, a := range args {
		if a == "--worker" || a == "-worker" || a == "--worker=true" || a == "-worker=true" {
			return true
		}
	}
	return false
}

// timeZoneFlag takes --time-zone ZONE (or --time-zone=ZONE, one dash or
// two), which every command accepts, out of args: the zone of date and
// time functions and of timestamp text without an offset in data files
// (types.SetZone). Without it the zone is FENESTRA_TIME_ZONE, else
// types.DefaultZone.
func timeZoneFlag(args []string) (rest []string, zone string, err error) {
	zone = os.Getenv("FENESTRA_TIME_ZONE")
	for i := 0; i < len(args); i++ {
		name, value, hasValue := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		if !strings.HasPrefix(args[i], "-") || name != "time-zone" {
			rest = append(rest, args[i])
			continue
		}
		if !hasValue {
			if i+1 == len(args) {
				return nil, "", errors.New("needs a zone, such as Asia/Shanghai, UTC or +08:00")
			}
			i++
			value = args[i]
		}
		zone = value
	}
	if len(rest) == 0 {
		return nil, "", errors.New("needs a command")
	}
	return rest, zone, nil
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: fenestra <command> [flags] [args]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'fenestra <command> -h' for a command's flags. Every command takes --time-zone ZONE\n"+
		"(an IANA name or an offset such as +08:00; default FENESTRA_TIME_ZONE, else Asia/Shanghai,\n"+
		"OpenMLDB's UTC+8): the zone of date and time functions and of timestamp text in data files.")
}

// indent prefixes every line of s.
func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix)
}
