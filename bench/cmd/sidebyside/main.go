// Command sidebyside benchmarks fenestra backfill against DuckDB on the
// cards example's generated data, both as child processes run alternately,
// and checks that they compute the same values:
//
//	cd bench && go run ./cmd/sidebyside --rows 1000000 --runs 3
//
// It exits 1 when a step fails or the outputs differ. See bench/README.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/fenestra-dev/fenestra/bench/sidebyside"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs the command line args and returns the exit code. The harness
// re-executes this binary with a child subcommand (sidebyside.IsChild) to
// run the DuckDB side and its other heavy steps.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if sidebyside.IsChild(args) {
		return sidebyside.ChildMain(ctx, args, stdout, stderr)
	}
	fs := flag.NewFlagSet("sidebyside", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rows := fs.Int("rows", 1_000_000, "transactions to generate (the cards example: one card per 100)")
	runs := fs.Int("runs", 3, "runs of each engine per view and format, alternating")
	formats := fs.String("formats", "csv,parquet", "input formats: csv, parquet")
	views := fs.String("views", "three-windows,cards", "views: three-windows, cards")
	threads := fs.Int("threads", 2, "DuckDB's threads")
	seed := fs.Uint64("seed", 1, "the data's seed (fenestra gen --seed)")
	start := fs.String("start", "2026-01-01", "the data's first day (fenestra gen --start); empty: gen's default, ending today")
	dir := fs.String("dir", "", "where to create the work directory (data, scripts, outputs; default: the system's temp dir)")
	keep := fs.Bool("keep", false, "keep the work directory")
	fenestra := fs.String("fenestra", "", "the fenestra binary (default: built from the main module)")
	module := fs.String("module", "", "the main module's directory to build fenestra in (default: from go list, run in bench/)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: sidebyside [--rows N] [--runs N] [--formats csv,parquet] [flags]\n\nRuns fenestra backfill and DuckDB on the same generated data, alternately,\nprints their times, CPU and peak RSS, and checks every value of their\noutputs. Exits 1 if they differ.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "sidebyside: %v\n", err)
		return 1
	}
	_, err = sidebyside.Run(ctx, sidebyside.Config{
		Rows: *rows, Runs: *runs, Seed: *seed, Start: *start,
		Formats: split(*formats), Views: split(*views), Threads: *threads,
		Dir: *dir, Keep: *keep, Fenestra: *fenestra, Module: *module,
		Self: []string{self}, Out: stdout,
	})
	if err != nil {
		fmt.Fprintf(stderr, "sidebyside: %v\n", err)
		return 1
	}
	return 0
}

// split splits a comma-separated list, dropping empty items.
func split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
