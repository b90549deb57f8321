package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx" // the runners and file systems behind --runner and paths

	"github.com/fenestra-dev/fenestra/dataflow"
	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/internal/datafile"
	"github.com/fenestra-dev/fenestra/storage/bigtable"
)

// pipelineFlags are the flags backfill and materialize share.
type pipelineFlags struct {
	fs      *flag.FlagSet
	sql     string
	tables  tableFlags
	badRows string
	verbose bool
	// stateOK lets a command run without --sql and --table when it is
	// given a fenestra run state instead: parse then returns no module.
	stateOK bool
}

// tableFlags collects repeated --table NAME=PATH flags, in order.
type tableFlags []dataflow.Input

func (t *tableFlags) String() string { return "" }

func (t *tableFlags) Set(v string) error {
	name, path, ok := strings.Cut(v, "=")
	if !ok || name == "" || path == "" {
		return fmt.Errorf("want NAME=PATH, got %q", v)
	}
	*t = append(*t, dataflow.Input{Table: name, Path: path})
	return nil
}

// newPipelineFlags makes a command's flag set with the shared flags and
// Beam's own (--runner, --endpoint, --environment_type, ...), which Beam
// registers on flag.CommandLine.
func newPipelineFlags(name, usage string, stderr io.Writer) *pipelineFlags {
	pf := &pipelineFlags{fs: flag.NewFlagSet(name, flag.ContinueOnError)}
	fs := pf.fs
	fs.SetOutput(stderr)
	fs.StringVar(&pf.sql, "sql", "", "the feature file (CREATE TABLE and DEPLOY statements)")
	fs.Var(&pf.tables, "table", "a table's data file, NAME=PATH (CSV with a header, JSON Lines or Parquet; a glob matches several files; repeat for more files, in arrival order)")
	fs.StringVar(&pf.badRows, "bad-rows", "fail", "what a malformed data row does: fail (stop, naming file and line) or skip (count it in the summary)")
	fs.BoolVar(&pf.verbose, "v", false, "log the runner's progress messages")
	addBeamFlags(fs, usage, stderr)
	return pf
}

// addBeamFlags adds to fs Beam's own flags (--runner, --endpoint,
// --environment_type, ...), which Beam registers on flag.CommandLine,
// except those fs defines already, and a usage that prints usage, fs's
// flags and the main Beam flags.
func addBeamFlags(fs *flag.FlagSet, usage string, stderr io.Writer) {
	ours := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) { ours[f.Name] = true })
	flag.CommandLine.VisitAll(func(f *flag.Flag) {
		if !ours[f.Name] && !strings.HasPrefix(f.Name, "test.") {
			fs.Var(f.Value, f.Name, "Beam: "+f.Usage)
		}
	})
	fs.Usage = func() {
		fmt.Fprintln(stderr, usage)
		fmt.Fprintln(stderr, "\nflags (Beam's flags, such as --runner, --endpoint and --environment_type, pass through):")
		fs.VisitAll(func(f *flag.Flag) {
			if !strings.HasPrefix(f.Usage, "Beam: ") || slices.Contains(beamFlagsShown, f.Name) {
				printFlag(stderr, f)
			}
		})
	}
}

// beamFlagsShown are the Beam flags -h lists; the others work too.
var beamFlagsShown = []string{"runner", "endpoint", "environment_type", "environment_config", "worker_binary", "job_name", "parallelism"}

func printFlag(w io.Writer, f *flag.Flag) {
	def := ""
	if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
		def = fmt.Sprintf(" (default %q)", f.DefValue)
	}
	fmt.Fprintf(w, "  --%s\n    \t%s%s\n", f.Name, f.Usage, def)
}

// parse parses args and readies Beam (beam.Init after the flags, as Beam
// requires), the log, and the compiled feature file. It returns false
// after printing why when the command cannot run; code is its exit code.
func (pf *pipelineFlags) parse(args []string, stderr io.Writer) (mod *featurelang.Module, policy dataflow.BadRows, code int) {
	if err := pf.fs.Parse(args); err != nil {
		return nil, 0, 2
	}
	fromState := pf.stateOK && pf.sql == "" && len(pf.tables) == 0
	if (pf.sql == "" || len(pf.tables) == 0) && !fromState || pf.fs.NArg() > 0 {
		pf.fs.Usage()
		return nil, 0, 2
	}
	switch pf.badRows {
	case "fail":
		policy = dataflow.FailOnBadRows
	case "skip":
		policy = dataflow.SkipBadRows
	default:
		fmt.Fprintf(stderr, "%s: --bad-rows: want fail or skip, got %q\n", pf.fs.Name(), pf.badRows)
		return nil, 0, 2
	}
	initBeam(stderr, pf.verbose)
	if fromState {
		return nil, policy, 0
	}
	mods, ok := compileFiles([]string{pf.sql}, stderr)
	if !ok {
		return nil, 0, 1
	}
	return mods[0], policy, 0
}

// initBeam readies Beam (after the flags are parsed, as Beam requires)
// and makes the default log print only the pipeline's own warnings, or
// the runner's messages too when verbose.
func initBeam(stderr io.Writer, verbose bool) {
	beam.Init()
	// After beam.Init, which installs Beam's default log.
	var h slog.Handler = doFnWarnings{new(sync.Mutex), stderr}
	if verbose {
		h = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo})
	}
	slog.SetDefault(slog.New(h))
}

// doFnWarnings prints only the warnings of the pipeline's own code
// (skipped bad rows), one line each: the runner's messages are noise unless
// asked for with -v, and a failure's cause is printed when the run ends.
type doFnWarnings struct {
	mu *sync.Mutex
	w  io.Writer
}

func (h doFnWarnings) Enabled(_ context.Context, l slog.Level) bool { return l == slog.LevelWarn }
func (h doFnWarnings) WithAttrs([]slog.Attr) slog.Handler           { return h }
func (h doFnWarnings) WithGroup(string) slog.Handler                { return h }

func (h doFnWarnings) Handle(_ context.Context, r slog.Record) error {
	msg, ok := strings.CutPrefix(r.Message, "[SDK] ")
	if !ok {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := fmt.Fprintf(h.w, "warning: %s\n", msg)
	return err
}

// inputs expands the --table globs, checking each table is defined.
func (pf *pipelineFlags) inputs(ctx context.Context, mod *featurelang.Module) ([]dataflow.Input, int64, error) {
	var out []dataflow.Input
	var size int64
	for _, in := range pf.tables {
		if !slices.ContainsFunc(mod.Tables, func(t *plan.Table) bool { return t.Name == in.Table }) {
			return nil, 0, fmt.Errorf("--table %s=%s: %s has no CREATE TABLE %s", in.Table, in.Path, pf.sql, in.Table)
		}
		paths, n, err := expand(ctx, in.Path)
		if err != nil {
			return nil, 0, fmt.Errorf("--table %s=%s: %w", in.Table, in.Path, err)
		}
		for _, p := range paths {
			out = append(out, dataflow.Input{Table: in.Table, Path: p})
		}
		size += n
	}
	return out, size, nil
}

// parquetWeight is how many bytes of input a byte of Parquet counts for
// in sizing buckets: decoded rows take about their CSV text's size, which
// is about three times their compressed Parquet columns'.
const parquetWeight = 3

// expand returns the files a path or glob names, sorted, and their total
// size (Parquet files counted parquetWeight times).
func expand(ctx context.Context, pattern string) ([]string, int64, error) {
	fs, err := filesystem.New(ctx, pattern)
	if err != nil {
		return nil, 0, err
	}
	defer fs.Close()
	paths := []string{pattern}
	if strings.ContainsAny(pattern, "*?[") {
		if paths, err = fs.List(ctx, pattern); err != nil {
			return nil, 0, err
		}
		if len(paths) == 0 {
			return nil, 0, errors.New("no file matches")
		}
		slices.Sort(paths)
	}
	var size int64
	for _, p := range paths {
		n, err := fs.Size(ctx, p)
		if err != nil {
			return nil, 0, err
		}
		if f, _ := datafile.FormatOf(p); f == datafile.Parquet {
			n *= parquetWeight
		}
		size += n
	}
	return paths, size, nil
}

const backfillUsage = `usage: fenestra backfill --sql FILE.sql [--view NAME] --table NAME=PATH ... --out PATH [flags] [beam flags]

Computes a feature view over data files, point in time, and writes the
training set: one row per row of the view's FROM table, in arrival order,
exactly as the batch evaluator computes it. PATH ending .csv is CSV with a
header row; .jsonl, .ndjson or .json is JSON Lines; .parquet is Parquet
(inputs and --out alike). It runs on Beam: on prism in this process by
default, or on a job server with --runner=universal
--endpoint=HOST:PORT --environment_type=DOCKER|PROCESS|LOOPBACK (Flink,
Spark), or --runner=dataflow.`

// runBackfill runs fenestra backfill.
func runBackfill(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	pf := newPipelineFlags("backfill", backfillUsage, stderr)
	viewName := pf.fs.String("view", "", "the view to compute (needed when the file deploys several)")
	out := pf.fs.String("out", "", "the training set file (.csv, .jsonl or .parquet)")
	buckets := pf.fs.Int("buckets", 0, "buckets the rows are split into by window key (default: one per 4 MiB of input, at least 16)")
	memory := pf.fs.String("memory", "", "on prism, the memory the backfill is to stay within, such as 512MB or 4GB: a larger input is evaluated in waves, a share of the buckets at a time (default: a quarter of the machine's memory)")
	tmpDir := pf.fs.String("tmp-dir", "", "where a backfill in waves keeps its runs until they are merged, about the output's size (default: the system's temporary directory)")
	profile := cpuProfileFlag(pf.fs)
	mod, policy, code := pf.parse(args, stderr)
	if mod == nil {
		return code
	}
	budget, err := memoryBudget(*memory)
	if err != nil {
		fmt.Fprintf(stderr, "fenestra backfill: --memory: %v\n", err)
		return 2
	}
	stop, err := profile()
	if err != nil {
		fmt.Fprintf(stderr, "fenestra backfill: %v\n", err)
		return 2
	}
	defer stop()
	if *out == "" {
		fmt.Fprintln(stderr, "fenestra backfill: --out is needed")
		return 2
	}
	view, err := pickView(mod, *viewName, pf.sql)
	if err != nil {
		fmt.Fprintf(stderr, "fenestra backfill: %v\n", err)
		return 2
	}
	inputs, size, err := pf.inputs(ctx, mod)
	if err != nil {
		fmt.Fprintf(stderr, "fenestra backfill: %v\n", err)
		return 2
	}
	job := dataflow.BackfillJob{View: view, Inputs: inputs, Out: *out, Buckets: *buckets, BadRows: policy}
	if job.Buckets <= 0 {
		job.Buckets = dataflow.BucketsFor(size)
	}
	if waves := dataflow.WavesFor(job, size, budget); waves > 1 && runnerName() == "prism" {
		var rows int64
		if job.Splits, rows, err = splitKeys(ctx, job, size, budget, stderr); err != nil {
			fmt.Fprintf(stderr, "fenestra backfill: %v\n", err)
			return 1
		}
		waves = dataflow.WavesWithSplits(job, size, rows, budget)
		return runWaves(ctx, job, waves, *tmpDir, stdout, stderr)
	}
	p, s := beam.NewPipelineWithRoot()
	if _, err := dataflow.Backfill(s, job); err != nil {
		fmt.Fprintf(stderr, "fenestra backfill: %v\n", err)
		return 2
	}
	return runPipeline(ctx, "backfill", p, "to "+*out, stdout, stderr)
}

// splitKeys finds the keys of job too large to evaluate at once within
// budget bytes (dataflow.SplitKeys), and prints a line on stderr for each
// key it cuts into parts. It returns the splits and the rows of job's
// FROM table.
func splitKeys(ctx context.Context, job dataflow.BackfillJob, size, budget int64, stderr io.Writer) ([]dataflow.KeySplit, int64, error) {
	start := time.Now()
	var rows int64
	splits, err := dataflow.SplitKeys(ctx, job, func(n int64) int64 {
		rows = n
		return dataflow.MaxKeyRows(size, n, budget)
	})
	for _, s := range splits {
		fmt.Fprintf(stderr, "backfill: key %s has %d rows: evaluated in %d parts of at most %d rows (found in %v)\n",
			s.Key, s.Rows, len(s.Parts), slices.Max(s.Parts), time.Since(start).Round(time.Millisecond))
	}
	return splits, rows, err
}

// runWaves runs a backfill in waves (dataflow.RunWaves); see
// wavesRun.
func runWaves(ctx context.Context, job dataflow.BackfillJob, waves int, tmpDir string, stdout, stderr io.Writer) int {
	return wavesRun("backfill", "to "+job.Out, waves, stdout, stderr,
		func(report func(dataflow.WaveStats)) (int, error) {
			return dataflow.RunWaves(ctx, job, waves, tmpDir, report)
		},
		func(w dataflow.WaveStats) string {
			return fmt.Sprintf("%d rows read, %s of runs in %s", w.Read, humanBytes(w.Runs), w.Dir)
		})
}

// wavesRun runs a pipeline in waves through run, printing a line on
// stderr after each wave (what describes it) and then the summary line
// of runPipeline, and returns the exit code. cmd names the command, dest
// where the rows went.
func wavesRun(cmd, dest string, waves int, stdout, stderr io.Writer,
	run func(report func(dataflow.WaveStats)) (int, error), what func(dataflow.WaveStats) string) int {
	dataflow.Progress.Read.Store(0)
	dataflow.Progress.Bad.Store(0)
	dataflow.Progress.Written.Store(0)
	start := time.Now()
	clear := ""
	if isTerminal(stderr) {
		clear = "\r\033[K" // over the progress line
		stop := showProgress(stderr, start)
		defer stop()
	}
	var read, bad int64
	n, err := run(func(w dataflow.WaveStats) {
		read, bad = read+w.Read, bad+w.Bad
		fmt.Fprintf(stderr, "%s%s: wave %d of %d: %s, in %v\n", clear, cmd, w.N+1, w.Of, what(w), w.Elapsed.Round(time.Millisecond))
	})
	elapsed := time.Since(start)
	if err != nil {
		fmt.Fprintf(stderr, "fenestra %s: %v\n", cmd, err)
		return 1
	}
	rate := float64(read) / max(elapsed.Seconds(), 1e-9)
	fmt.Fprintf(stdout, "%s: %d rows read, %d bad rows skipped, %d rows written %s in %v (%s rows/s, runner %s, %d waves)\n",
		cmd, read, bad, n, dest, elapsed.Round(time.Millisecond), humanCount(rate), runnerName(), waves)
	return 0
}

// memoryBudget returns the memory --memory gives, in bytes: flag's size,
// or, when it is empty, a quarter of the machine's memory (0, no budget,
// where that is unknown).
func memoryBudget(flag string) (int64, error) {
	if flag != "" {
		return parseSize(flag)
	}
	return machineMemory() / 4, nil
}

// machineMemory returns the memory of the machine (/proc/meminfo's
// MemTotal), or of the cgroup this process is in if less, or 0 where
// neither is known.
func machineMemory() int64 {
	var total int64
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.Lines(string(data)) {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				if kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64); err == nil {
					total = kb << 10
				}
			}
		}
	}
	if data, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if limit, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64); err == nil && limit > 0 && (total == 0 || limit < total) {
			total = limit
		}
	}
	return total
}

// sizeUnits are the units parseSize knows, lower case.
var sizeUnits = map[string]float64{
	"": 1, "b": 1,
	"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

// parseSize parses a size in bytes: a number (a fraction too) and a unit,
// B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (of 1024), in
// any case; a number alone is bytes. It must be at least one byte.
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(t)
	}
	unit := strings.TrimSpace(t[i:])
	v, err := strconv.ParseFloat(t[:i], 64)
	if err != nil {
		return 0, fmt.Errorf("want a size such as 512MB or 4GB, got %q", s)
	}
	mul, ok := sizeUnits[strings.ToLower(unit)]
	if !ok {
		return 0, fmt.Errorf("unknown unit %q in %q: want B, KB, MB, GB, TB, KiB, MiB, GiB or TiB", unit, s)
	}
	n := v * mul
	switch {
	case n < 1:
		return 0, fmt.Errorf("%q is less than a byte", s)
	case n >= 1<<62:
		return 0, fmt.Errorf("%q is too large", s)
	}
	return int64(n), nil
}

// humanBytes renders n bytes as 950 B, 12.3 kB, 1.05 MB or 2.1 GB.
func humanBytes(n int64) string {
	switch f := float64(n); {
	case f >= 1e9:
		return fmt.Sprintf("%.3g GB", f/1e9)
	case f >= 1e6:
		return fmt.Sprintf("%.3g MB", f/1e6)
	case f >= 1e3:
		return fmt.Sprintf("%.3g kB", f/1e3)
	}
	return fmt.Sprintf("%d B", n)
}

// cpuProfileFlag adds --cpuprofile to fs and returns what starts the
// profile it asks for; stop ends it (a no-op without the flag).
func cpuProfileFlag(fs *flag.FlagSet) (start func() (stop func(), err error)) {
	path := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file (go tool pprof reads it)")
	return func() (func(), error) {
		if *path == "" {
			return func() {}, nil
		}
		return startCPUProfile(*path)
	}
}

// startCPUProfile writes a CPU profile of this process to path until
// stop.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// pickView returns the view named name, or the file's only view.
func pickView(mod *featurelang.Module, name, path string) (*plan.Plan, error) {
	var names []string
	for _, v := range mod.Views {
		if name != "" && v.Name == name {
			return v, nil
		}
		names = append(names, viewName(v))
	}
	switch {
	case len(mod.Views) == 0:
		return nil, fmt.Errorf("%s deploys no view", path)
	case name != "":
		return nil, fmt.Errorf("%s has no view %s (it has %s)", path, name, strings.Join(names, ", "))
	case len(mod.Views) > 1:
		return nil, fmt.Errorf("%s has %d views: pick one with --view (%s)", path, len(mod.Views), strings.Join(names, ", "))
	}
	return mod.Views[0], nil
}

const materializeUsage = `usage: fenestra materialize --sql FILE.sql --table NAME=PATH ... [--bigtable PROJECT/INSTANCE] [flags] [beam flags]

Loads data files into the online store (Bigtable), under every index of each
table, for request-time features. It creates the tables first if needed (as
fenestra storage init does) and fails if they exist with another
definition. Loading the same files again rewrites the same rows: it is safe
to repeat. With BIGTABLE_EMULATOR_HOST set, it loads that emulator.`

// runMaterialize runs fenestra materialize.
func runMaterialize(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	pf := newPipelineFlags("materialize", materializeUsage, stderr)
	instance := pf.fs.String("bigtable", "", "the Bigtable PROJECT/INSTANCE (default local/local when BIGTABLE_EMULATOR_HOST is set)")
	prefix := pf.fs.String("prefix", bigtable.DefaultPrefix, "prefix of the Bigtable table names")
	writers := pf.fs.Int("writers", dataflow.DefaultWriters, "parallel write shards")
	memory := pf.fs.String("memory", "", "on prism, the memory the load is to stay within, such as 512MB or 4GB: a larger input is loaded in waves, a share of the keys at a time (default: a quarter of the machine's memory)")
	mod, policy, code := pf.parse(args, stderr)
	if mod == nil {
		return code
	}
	budget, err := memoryBudget(*memory)
	if err != nil {
		fmt.Fprintf(stderr, "fenestra materialize: --memory: %v\n", err)
		return 2
	}
	project, inst, err := bigtable.ParseInstance(*instance)
	if err != nil {
		fmt.Fprintf(stderr, "fenestra materialize: %v\n", err)
		return 2
	}
	inputs, size, err := pf.inputs(ctx, mod)
	if err != nil {
		fmt.Fprintf(stderr, "fenestra materialize: %v\n", err)
		return 2
	}
	var tables []*plan.Table
	for _, t := range mod.Tables {
		if slices.ContainsFunc(inputs, func(in dataflow.Input) bool { return in.Table == t.Name }) {
			tables = append(tables, t)
		}
	}
	target := dataflow.BigtableTarget{Project: project, Instance: inst, Prefix: *prefix, EmulatorHost: os.Getenv("BIGTABLE_EMULATOR_HOST")}
	if err := initTables(ctx, target, tables); err != nil {
		fmt.Fprintf(stderr, "fenestra materialize: %v\n", err)
		return 1
	}
	job := dataflow.MaterializeJob{Tables: tables, Inputs: inputs, Target: target, Writers: *writers, BadRows: policy,
		Views: tiledViews(mod, tables)}
	where := fmt.Sprintf("to Bigtable %s/%s", project, inst)
	if waves := dataflow.MaterializeWavesFor(size, budget); waves > 1 && runnerName() == "prism" {
		return runMaterializeWaves(ctx, job, waves, where, stdout, stderr)
	}
	p, s := beam.NewPipelineWithRoot()
	if _, err := dataflow.Materialize(s, job); err != nil {
		fmt.Fprintf(stderr, "fenestra materialize: %v\n", err)
		return 2
	}
	return runPipeline(ctx, "materialize", p, where, stdout, stderr)
}

// runMaterializeWaves runs a materialize in waves
// (dataflow.RunMaterializeWaves); see wavesRun.
func runMaterializeWaves(ctx context.Context, job dataflow.MaterializeJob, waves int, where string, stdout, stderr io.Writer) int {
	return wavesRun("materialize", where, waves, stdout, stderr,
		func(report func(dataflow.WaveStats)) (int, error) {
			return dataflow.RunMaterializeWaves(ctx, job, waves, report)
		},
		func(w dataflow.WaveStats) string {
			return fmt.Sprintf("%d rows read, %d rows written", w.Read, w.Written)
		})
}

// tiledViews returns the DEPLOY views with long windows over the tables
// materialize loads (or stream writes): the views whose tiles it keeps.
func tiledViews(mod *featurelang.Module, tables []*plan.Table) []*plan.Plan {
	var out []*plan.Plan
	for _, v := range mod.Views {
		long := false
		for k, o := range v.Options {
			long = long || strings.EqualFold(k, "long_windows") && o != ""
		}
		if v.Name != "" && long && slices.ContainsFunc(tables, func(t *plan.Table) bool { return t.Name == v.RequestTable }) {
			out = append(out, v)
		}
	}
	return out
}

// initTables creates the tables materialize loads, or checks their
// definitions.
func initTables(ctx context.Context, t dataflow.BigtableTarget, tables []*plan.Table) error {
	s, err := bigtable.Open(ctx, bigtable.Config{Project: t.Project, Instance: t.Instance, Prefix: t.Prefix, EmulatorHost: t.EmulatorHost})
	if err != nil {
		return err
	}
	defer s.Close()
	return s.Init(ctx, tables)
}

// runPipeline runs p, with live progress on stderr when it is a terminal,
// and prints the summary line: rows read, bad rows skipped, rows written,
// time and rate. It returns the exit code.
func runPipeline(ctx context.Context, cmd string, p *beam.Pipeline, where string, stdout, stderr io.Writer) int {
	if err := execPipeline(ctx, cmd, p, where, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "fenestra %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

// execPipeline is runPipeline returning the pipeline's error.
func execPipeline(ctx context.Context, cmd string, p *beam.Pipeline, where string, stdout, stderr io.Writer) error {
	dataflow.Progress.Read.Store(0)
	dataflow.Progress.Bad.Store(0)
	dataflow.Progress.Written.Store(0)
	start := time.Now()
	if isTerminal(stderr) {
		stop := showProgress(stderr, start)
		defer stop()
	}
	r, err := dataflow.Run(ctx, p)
	elapsed := time.Since(start)
	if err != nil {
		return err
	}
	read, bad, written := counts(r)
	rate := float64(read) / max(elapsed.Seconds(), 1e-9)
	fmt.Fprintf(stdout, "%s: %d rows read, %d bad rows skipped, %d rows written %s in %v (%s rows/s, runner %s)\n",
		cmd, read, bad, written, where, elapsed.Round(time.Millisecond), humanCount(rate), runnerName())
	return nil
}

// counts returns the pipeline's row counters: from Beam metrics when the
// runner reports them, else from this process's counts.
func counts(r beam.PipelineResult) (read, bad, written int64) {
	read, bad, written = dataflow.Progress.Read.Load(), dataflow.Progress.Bad.Load(), dataflow.Progress.Written.Load()
	if r == nil {
		return
	}
	for _, c := range r.Metrics().AllMetrics().Counters() {
		if c.Namespace() != "fenestra" {
			continue
		}
		switch c.Name() {
		case "rows_read":
			read = c.Result()
		case "bad_rows":
			bad = c.Result()
		case "rows_written":
			written = c.Result()
		}
	}
	return
}

// runnerName is the runner --runner selects.
func runnerName() string {
	if *runners.Runner == "" {
		return "prism"
	}
	return *runners.Runner
}

// showProgress rewrites one status line on w twice a second until stop:
// the pipeline's row counts.
func showProgress(w io.Writer, start time.Time) (stop func()) {
	return showStatus(w, start, func(el time.Duration) string {
		read := dataflow.Progress.Read.Load()
		return fmt.Sprintf("%d rows read (%s rows/s), %d bad, %d written",
			read, humanCount(float64(read)/el.Seconds()), dataflow.Progress.Bad.Load(), dataflow.Progress.Written.Load())
	})
}

// showStatus rewrites one status line on w twice a second until stop: the
// time since start, then status.
func showStatus(w io.Writer, start time.Time, status func(elapsed time.Duration) string) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(w, "\r\033[K")
				return
			case <-t.C:
				el := time.Since(start)
				fmt.Fprintf(w, "\r\033[K%v  %s", el.Round(time.Second), status(el))
			}
		}
	}()
	return func() { close(done); <-finished }
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// humanCount renders n as 950, 12.3k or 1.05M.
func humanCount(n float64) string {
	switch {
	case n >= 1e6:
		return fmt.Sprintf("%.3gM", n/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.3gk", n/1e3)
	}
	return fmt.Sprintf("%.0f", n)
}
