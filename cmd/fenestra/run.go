package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/fenestra-dev/fenestra/dataflow"
	"github.com/fenestra-dev/fenestra/internal/script"
	"github.com/fenestra-dev/fenestra/storage/bigtable"
)

const runUsage = `usage: fenestra run SCRIPT.sql [--state DIR] [--bigtable PROJECT/INSTANCE] [beam flags]

Runs an OpenMLDB SQL script as OpenMLDB's client runs it with
@@sync_job=true, statement by statement: CREATE DATABASE, USE, CREATE TABLE
(indexes optional: DEPLOY infers the ones it needs), SET @@execute_mode,
LOAD DATA INFILE (offline: registers CSV or Parquet files as the table's
offline data; online: writes their rows into Bigtable), SELECT [INTO OUTFILE]
(offline, on Beam), DEPLOY (stores the view in Bigtable, where fenestra serve
finds it), SHOW, DESC, DROP. The catalog and the offline data's files are
kept in the state directory, so a later run finds them. The whole script is
checked before any statement runs.`

// runScript runs fenestra run.
func runScript(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	state := fs.String("state", ".fenestra", "the state directory: the catalog and the offline data's files")
	instance := fs.String("bigtable", "", "the online store, Bigtable PROJECT/INSTANCE (default local/local when BIGTABLE_EMULATOR_HOST is set; none otherwise)")
	prefix := fs.String("prefix", bigtable.DefaultPrefix, "prefix of the Bigtable table names")
	verbose := fs.Bool("v", false, "log the runner's progress messages")
	addBeamFlags(fs, runUsage, stderr)
	// The script comes first, as in fenestra run SCRIPT.sql --flags.
	var path string
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		path, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if path == "" && fs.NArg() == 1 {
		path = fs.Arg(0)
	} else if path == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	text, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(stderr, "fenestra run: %v\n", err)
		return 1
	}
	cfg := script.Config{StateDir: *state, Stdout: stdout, Stderr: stderr,
		Pipeline: func(ctx context.Context, cmd, where string, p *beam.Pipeline) error {
			return execPipeline(ctx, cmd, p, where, stdout, stderr)
		}}
	if *instance != "" || os.Getenv("BIGTABLE_EMULATOR_HOST") != "" {
		project, inst, err := bigtable.ParseInstance(*instance)
		if err != nil {
			fmt.Fprintf(stderr, "fenestra run: %v\n", err)
			return 2
		}
		cfg.Bigtable = &dataflow.BigtableTarget{Project: project, Instance: inst, Prefix: *prefix, EmulatorHost: os.Getenv("BIGTABLE_EMULATOR_HOST")}
	}
	initBeam(stderr, *verbose)
	if err := script.Run(ctx, cfg, path, string(text)); err != nil {
		fmt.Fprintf(stderr, "fenestra run: %v\n", err)
		return 1
	}
	return 0
}
