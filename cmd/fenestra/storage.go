package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/fenestra-dev/fenestra/storage/bigtable"
)

// runStorage runs a storage subcommand: init.
func runStorage(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "init" {
		fmt.Fprintln(stderr, "usage: fenestra storage init --sql FILE.sql [flags]\n\nSubcommands:\n  init   create the Bigtable tables of a feature file's CREATE TABLE statements")
		return 2
	}
	fs := flag.NewFlagSet("storage init", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sql := fs.String("sql", "", "the feature file whose tables to create")
	instance := fs.String("bigtable", "", "the Bigtable PROJECT/INSTANCE (default local/local when BIGTABLE_EMULATOR_HOST is set)")
	prefix := fs.String("prefix", bigtable.DefaultPrefix, "prefix of the Bigtable table names")
	timeout := fs.Duration("timeout", bigtable.DefaultTimeout, "bound on each call to Bigtable")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: fenestra storage init --sql FILE.sql [--bigtable PROJECT/INSTANCE] [--prefix P]\n\nCreates the Bigtable table of each CREATE TABLE of the file, with a column\nfamily per index and its definition, or checks that an existing table has\nthe same definition. With BIGTABLE_EMULATOR_HOST set, it uses that emulator.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *sql == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	project, inst, err := bigtable.ParseInstance(*instance)
	if err != nil {
		fmt.Fprintf(stderr, "fenestra storage init: %v\n", err)
		return 2
	}
	if err := storageInit(ctx, *sql, bigtable.Config{Project: project, Instance: inst, Prefix: *prefix, Timeout: *timeout,
		Logger: slog.New(slog.NewTextHandler(stderr, nil))}, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "fenestra storage init: %v\n", err)
		return 1
	}
	return 0
}

func storageInit(ctx context.Context, path string, cfg bigtable.Config, stdout, stderr io.Writer) error {
	mods, ok := compileFiles([]string{path}, stderr)
	if !ok {
		return fmt.Errorf("%s does not compile", path)
	}
	tables := mods[0].Tables
	if len(tables) == 0 {
		return fmt.Errorf("%s has no CREATE TABLE", path)
	}
	start := time.Now()
	s, err := bigtable.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.Init(ctx, tables); err != nil {
		return err
	}
	for _, t := range tables {
		n := fmt.Sprintf("%d indexes", len(t.Indexes))
		if len(t.Indexes) == 1 {
			n = "1 index"
		}
		fmt.Fprintf(stdout, "table %s: Bigtable table %s (%s) in %s/%s at %s\n", t.Name, s.TableName(t.Name), n, cfg.Project, cfg.Instance, s.Addr())
	}
	fmt.Fprintf(stdout, "%d tables ready in %v\n", len(tables), time.Since(start).Round(time.Millisecond))
	return nil
}
