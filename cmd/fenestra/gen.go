package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fenestra-dev/fenestra/examples"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/datafile"
)

// runGen runs fenestra gen: an example's data, as CSV files.
func runGen(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("example", "cards", "the example ("+strings.Join(examples.Names(), ", ")+")")
	rows := fs.Int("rows", 100_000, "rows of the example's main table (cards: transactions)")
	seed := fs.Uint64("seed", 1, "the seed: the same seed and rows give the same files")
	out := fs.String("out", "", "the directory to write the files to (created if needed)")
	start := fs.String("start", "", "the day the data starts, YYYY-MM-DD (default: so that it ends with today)")
	format := fs.String("format", "csv", "the data files' format: csv, jsonl or parquet")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: fenestra gen [--example NAME] [--rows N] [--seed S] --out DIR\n\nWrites an example's feature file (features.sql) and generated data, a CSV\nfile per table, to DIR. The data is deterministic and has what makes\nfeature pipelines go wrong: busy keys, equal timestamps, NULLs, late rows.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *out == "" || fs.NArg() > 0 || *rows < 1 || *format != "csv" && *format != "jsonl" && *format != "parquet" {
		fs.Usage()
		return 2
	}
	e, err := examples.Lookup(*name)
	if err != nil {
		fmt.Fprintf(stderr, "fenestra gen: %v\n", err)
		return 2
	}
	cfg, err := exampleConfig(e, *rows, *seed, *start)
	if err != nil {
		fmt.Fprintf(stderr, "fenestra gen: %v\n", err)
		return 2
	}
	t0 := time.Now()
	ef, err := writeExampleFiles(e, cfg, *out, *format)
	if err != nil {
		fmt.Fprintf(stderr, "fenestra gen: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote example %s (%d rows, seed %d, from %s) to %s in %v:\n  %s\n", e.Name, *rows, *seed, cfg.Start.Format(time.DateOnly), *out, time.Since(t0).Round(time.Millisecond), ef.SQL)
	for _, t := range ef.Tables {
		fmt.Fprintf(stdout, "  %s (%d rows of %s)\n", t.Path, t.Rows, t.Table)
	}
	return 0
}

// exampleConfig is the generator's configuration for a --start flag:
// YYYY-MM-DD (UTC), or empty for data that ends today.
func exampleConfig(e *examples.Example, rows int, seed uint64, start string) (examples.Config, error) {
	cfg := examples.Config{Rows: rows, Seed: seed, Start: examples.DefaultStart(time.Now(), e.Days)}
	if start != "" {
		t, err := time.Parse(time.DateOnly, start)
		if err != nil {
			return cfg, fmt.Errorf("--start %q: want YYYY-MM-DD", start)
		}
		cfg.Start = t
	}
	return cfg, nil
}

// exampleFiles are the files writeExample wrote: the feature file, then a
// data file per table, in the feature file's order.
type exampleFiles struct {
	SQL    string
	Tables []tableFile
}

type tableFile struct {
	Table, Path string
	Rows        int
}

// writeExampleFiles generates e's data for cfg and writes it to dir: the
// feature file as features.sql and each table as TABLE.ext, ext the
// format's extension (csv, jsonl or parquet). It streams what the example
// streams (examples.Example.Stream), so that its memory is bounded
// whatever cfg.Rows.
func writeExampleFiles(e *examples.Example, cfg examples.Config, dir, ext string) (*exampleFiles, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	ef := &exampleFiles{SQL: filepath.Join(dir, "features.sql")}
	if err := os.WriteFile(ef.SQL, []byte(e.SQL), 0o644); err != nil {
		return nil, err
	}
	files := map[string]*countedFile{}
	err := e.Stream(cfg, func(t *plan.Table) (examples.TableWriter, error) {
		w, err := datafile.CreateFile(filepath.Join(dir, t.Name+"."+ext), t.Schema)
		if err != nil {
			return nil, err
		}
		files[t.Name] = &countedFile{FileWriter: w}
		return files[t.Name], nil
	})
	if err != nil {
		return nil, err
	}
	for _, t := range e.Module.Tables {
		ef.Tables = append(ef.Tables, tableFile{Table: t.Name, Path: filepath.Join(dir, t.Name+"."+ext), Rows: files[t.Name].rows})
	}
	return ef, nil
}

// countedFile is a data file that counts the rows written to it.
type countedFile struct {
	*datafile.FileWriter
	rows int
}

func (f *countedFile) Write(b *types.Block) error {
	f.rows += b.Len
	return f.FileWriter.Write(b)
}
