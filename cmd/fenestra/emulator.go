package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/fenestra-dev/fenestra/emulators"
)

// runEmulator runs a local emulator until interrupted.
func runEmulator(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "bigtable" {
		fmt.Fprintln(stderr, "usage: fenestra emulator bigtable [--addr HOST:PORT]\n\nRuns an emulator until interrupted. Emulators: bigtable.")
		return 2
	}
	fs := flag.NewFlagSet("emulator bigtable", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8086", "address to listen on (port 0: any free port)")
	debugAddr := fs.String("debug-addr", "", "an address to serve Go's profiles on, /debug/pprof/ (none: off)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: fenestra emulator bigtable [--addr HOST:PORT] [--debug-addr HOST:PORT]\n\nRuns the Bigtable emulator in memory until interrupted, and prints the\nBIGTABLE_EMULATOR_HOST setting that points the Bigtable clients (and\nfenestra storage init) at it.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() > 0 {
		if err == nil {
			fs.Usage()
		}
		return 2
	}
	hostport, stop, err := emulators.StartBigtable(*addr)
	if err != nil {
		fmt.Fprintf(stderr, "fenestra emulator: %v\n", err)
		return 1
	}
	defer stop()
	if *debugAddr != "" {
		stopDebug, err := serveDebug(*debugAddr, stdout)
		if err != nil {
			fmt.Fprintf(stderr, "fenestra emulator: %v\n", err)
			return 1
		}
		defer stopDebug()
	}
	fmt.Fprintf(stdout, "Bigtable emulator listening on %s (in memory; interrupt to stop)\nexport BIGTABLE_EMULATOR_HOST=%s\n", hostport, hostport)
	<-ctx.Done()
	fmt.Fprintln(stderr, "fenestra emulator: stopped")
	return 0
}
