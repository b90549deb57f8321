// Package sidebyside benchmarks fenestra backfill against DuckDB on the
// same generated data and checks that the two compute the same rows.
//
// Both engines run as whole child processes, alternately, and are timed
// the same way (wall time, CPU time and peak RSS from the kernel's
// rusage). The DuckDB side is the bench binary itself re-executed with
// the DuckDBCommand subcommand, so the harness's own memory is never
// counted. See bench/README.md.
package sidebyside

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// Config is one benchmark run's settings.
type Config struct {
	// Rows are the transactions generated (fenestra gen --rows); the
	// cards example has one card per 100 of them.
	Rows int
	// Runs is the number of runs of each engine per view and format.
	Runs int
	// Seed and Start (YYYY-MM-DD, or empty for gen's default) select the
	// generated data.
	Seed  uint64
	Start string
	// Formats are the input formats, csv and/or parquet; Views the names
	// of the views to run (see Views), all when empty.
	Formats, Views []string
	// Threads are DuckDB's threads.
	Threads int
	// Dir is where the work directory (data, feature files, DuckDB
	// scripts, outputs) is created, os.TempDir() when empty. The work
	// directory is removed at the end unless Keep.
	Dir  string
	Keep bool
	// Fenestra is the fenestra binary; when empty it is built from the
	// main module in Module (found with go list when empty).
	Fenestra, Module string
	// Self is the command that runs the DuckDB side: Self, then
	// DuckDBCommand and its flags.
	Self []string
	// Out receives the progress and the report.
	Out io.Writer
}

// A Result is one view over one format: each engine's runs and the
// comparison of their outputs.
type Result struct {
	View, Format     string
	DuckDB, Fenestra []Measure
	Diff             *Diff
}

// Run generates the data, runs both engines on each view and format and
// compares their outputs. It returns the results, and an error when a step
// failed or an output differs (the results then hold what was measured).
func Run(ctx context.Context, cfg Config) ([]Result, error) {
	views, err := selectViews(cfg.Views)
	if err != nil {
		return nil, err
	}
	for _, f := range cfg.Formats {
		if f != "csv" && f != "parquet" {
			return nil, fmt.Errorf("sidebyside: format %q: want csv or parquet", f)
		}
	}
	if len(cfg.Formats) == 0 || cfg.Rows < 1 || cfg.Runs < 1 || cfg.Threads < 1 || len(cfg.Self) == 0 {
		return nil, errors.New("sidebyside: want formats, rows, runs, threads and the DuckDB command")
	}
	work, err := os.MkdirTemp(cfg.Dir, "sidebyside-")
	if err != nil {
		return nil, err
	}
	if cfg.Keep {
		defer fmt.Fprintf(cfg.Out, "kept %s\n", work)
	} else {
		defer os.RemoveAll(work)
	}
	h := &harness{cfg: cfg, work: work, out: cfg.Out}
	if err := h.prepare(ctx, views); err != nil {
		return nil, err
	}
	var results []Result
	var failed []string
	for _, v := range views {
		for _, format := range cfg.Formats {
			r, err := h.runPair(ctx, v, format)
			if err != nil {
				return results, err
			}
			results = append(results, r)
			if !r.Diff.OK() {
				failed = append(failed, v.Name+" "+format)
			}
		}
	}
	fmt.Fprintln(h.out)
	h.report(results)
	if failed != nil {
		return results, fmt.Errorf("sidebyside: the engines' outputs differ: %s", strings.Join(failed, ", "))
	}
	return results, nil
}

// selectViews returns the views named, all when names is empty.
func selectViews(names []string) ([]*View, error) {
	all, err := Views()
	if err != nil || len(names) == 0 {
		return all, err
	}
	var views []*View
	for _, n := range names {
		i := slices.IndexFunc(all, func(v *View) bool { return v.Name == n })
		if i < 0 {
			return nil, fmt.Errorf("sidebyside: no view %q (there are three-windows, cards)", n)
		}
		views = append(views, all[i])
	}
	return views, nil
}

// harness holds a run's state between its steps.
type harness struct {
	cfg      Config
	work     string
	out      io.Writer
	fenestra string
	versions string
	loadAvg  string
}

func (h *harness) dataDir(format string) string { return filepath.Join(h.work, "data-"+format) }

// prepare builds fenestra, generates the data, writes the feature files
// and prints the machine, the versions and the data's shape.
func (h *harness) prepare(ctx context.Context, views []*View) error {
	h.loadAvg = loadAverage()
	if err := h.buildFenestra(ctx); err != nil {
		return err
	}
	for _, v := range views {
		if err := os.WriteFile(filepath.Join(h.work, v.Name+".sql"), []byte(v.SQL), 0o644); err != nil {
			return err
		}
	}
	for _, format := range h.cfg.Formats {
		args := []string{h.fenestra, "gen", "--example", "cards", "--rows", strconv.Itoa(h.cfg.Rows),
			"--seed", strconv.FormatUint(h.cfg.Seed, 10), "--format", format, "--out", h.dataDir(format)}
		if h.cfg.Start != "" {
			args = append(args, "--start", h.cfg.Start)
		}
		start := time.Now()
		if _, err := measure(ctx, args); err != nil {
			return err
		}
		fmt.Fprintf(h.out, "data: %d transactions of the cards example (seed %d) as %s in %s (%.1fs)\n",
			h.cfg.Rows, h.cfg.Seed, format, h.dataDir(format), time.Since(start).Seconds())
	}
	var stats DataStats
	format := h.cfg.Formats[0]
	if err := h.child(ctx, &stats, statsCommand, "--dir", h.dataDir(format), "--format", format); err != nil {
		return fmt.Errorf("data statistics: %w", err)
	}
	fmt.Fprintf(h.out, "tx: %d rows, %d cards (the window key); %d rows share their card's timestamp with another (%d groups), in %d of them arrival order is not tx_id order; %d rows arrive after a later row of their card\n",
		stats.Rows, stats.Keys, stats.TieRows, stats.TieGroups, stats.TieInverted, stats.Late)
	h.versions = h.versionLine(ctx, stats.DuckDB)
	fmt.Fprintf(h.out, "%s\n%s\n", machineLine(), h.versions)
	return nil
}

// child runs the bench binary's child subcommand cmd with args and decodes
// its JSON output into v.
func (h *harness) child(ctx context.Context, v any, cmd string, args ...string) error {
	out, err := runChild(ctx, append(append(slices.Clone(h.cfg.Self), cmd), args...))
	if err != nil {
		return err
	}
	return json.Unmarshal(out, v)
}

// outputSchema compiles the feature file text (at path) and returns the
// output columns of its DEPLOY view.
func outputSchema(path, text, view string) (types.Schema, error) {
	m, err := featurelang.Compile(path, text, featurelang.Options{})
	if err != nil {
		return nil, err
	}
	for _, p := range m.Views {
		if p.Name == view {
			return p.Output, nil
		}
	}
	return nil, fmt.Errorf("%s: no DEPLOY %s", path, view)
}

// buildFenestra sets h.fenestra: the configured binary, or one built from
// the main module into the work directory.
func (h *harness) buildFenestra(ctx context.Context) error {
	if h.cfg.Fenestra != "" {
		h.fenestra = h.cfg.Fenestra
		return nil
	}
	if h.cfg.Module == "" {
		dir, err := mainModuleDir(ctx)
		if err != nil {
			return err
		}
		h.cfg.Module = dir
	}
	h.fenestra = filepath.Join(h.work, "fenestra")
	start := time.Now()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", h.fenestra, "./cmd/fenestra")
	cmd.Dir = h.cfg.Module
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building fenestra in %s: %w\n%s", h.cfg.Module, err, out)
	}
	fmt.Fprintf(h.out, "built fenestra from %s (%.1fs)\n", h.cfg.Module, time.Since(start).Seconds())
	return nil
}

// mainModuleDir asks go list where the main module is: the bench module
// requires it, replaced by its directory.
func mainModuleDir(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", "github.com/fenestra-dev/fenestra").Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		return "", fmt.Errorf("finding the fenestra module (run in bench/, or give --fenestra or --module): %v", err)
	}
	return dir, nil
}

// runPair runs both engines cfg.Runs times on v over format, alternately,
// the first of each pair alternating too, and compares their outputs.
func (h *harness) runPair(ctx context.Context, v *View, format string) (Result, error) {
	r := Result{View: v.Name, Format: format}
	data := h.dataDir(format)
	prefix := filepath.Join(h.work, v.Name+"-"+format)
	duckOut, fenOut, script := prefix+"-duckdb.csv", prefix+"-fenestra.csv", prefix+".duckdb.sql"
	if err := os.WriteFile(script, []byte(v.DuckSQL(data, format, duckOut, h.cfg.Threads)), 0o644); err != nil {
		return r, err
	}
	duck := append(slices.Clone(h.cfg.Self), DuckDBCommand, "--sql", script)
	fen := []string{h.fenestra, "backfill", "--sql", filepath.Join(h.work, v.Name+".sql"), "--view", v.Deploy, "--out", fenOut}
	for _, t := range v.Tables {
		fen = append(fen, "--table", t+"="+filepath.Join(data, t+"."+format))
	}
	for run := range h.cfg.Runs {
		engines := []string{"duckdb", "fenestra"}
		if run%2 == 1 {
			engines[0], engines[1] = engines[1], engines[0]
		}
		fmt.Fprintf(h.out, "%s %s run %d/%d:", v.Name, format, run+1, h.cfg.Runs)
		for _, e := range engines {
			argv, into := duck, &r.DuckDB
			if e == "fenestra" {
				argv, into = fen, &r.Fenestra
			}
			m, err := measure(ctx, argv)
			if err != nil {
				fmt.Fprintln(h.out)
				return r, err
			}
			*into = append(*into, m)
			fmt.Fprintf(h.out, " %s %.2fs (CPU %.2fs, %d MB)", e, m.Wall.Seconds(), m.CPU.Seconds(), m.MaxRSS>>20)
		}
		fmt.Fprintln(h.out)
	}
	diff := new(Diff)
	if err := h.child(ctx, diff, compareCommand, "--sql", filepath.Join(h.work, v.Name+".sql"), "--view", v.Deploy,
		"--fenestra", fenOut, "--duckdb", duckOut); err != nil {
		return r, fmt.Errorf("comparing the outputs: %w", err)
	}
	r.Diff = diff
	fmt.Fprintf(h.out, "%s %s equality: %s\n", v.Name, format, diff)
	for _, c := range diff.Columns {
		fmt.Fprintf(h.out, "  %-16s %d differing, %d within rounding\n", c.Name, c.Differing, c.Rounding)
	}
	for _, e := range diff.Examples {
		fmt.Fprintf(h.out, "  %s\n", e)
	}
	return r, nil
}
