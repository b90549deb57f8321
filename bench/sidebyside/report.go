package sidebyside

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// report prints the table of results: a row per view, format and engine,
// and the ratio of DuckDB's medians to fenestra's (above 1: fenestra is
// faster).
func (h *harness) report(results []Result) {
	fmt.Fprintf(h.out, "%s\n%s\nload average at start %s, at end %s\n\n", machineLine(), h.versions, h.loadAvg, loadAverage())
	w := tabwriter.NewWriter(h.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "view\tformat\tengine\twall per run (s)\tmedian\tCPU median\tpeak RSS\tDuckDB/fenestra wall\tCPU\tequal")
	for _, r := range results {
		for _, e := range []struct {
			name string
			ms   []Measure
		}{{"duckdb", r.DuckDB}, {"fenestra", r.Fenestra}} {
			runs := make([]string, len(e.ms))
			var rss int64
			for i, m := range e.ms {
				runs[i] = fmt.Sprintf("%.2f", m.Wall.Seconds())
				rss = max(rss, m.MaxRSS)
			}
			var ratio, cpuRatio, equal string // on fenestra's row
			if e.name == "fenestra" {
				ratio = fmt.Sprintf("%.2f", median(r.DuckDB, wall).Seconds()/median(r.Fenestra, wall).Seconds())
				cpuRatio = fmt.Sprintf("%.2f", median(r.DuckDB, cpu).Seconds()/median(r.Fenestra, cpu).Seconds())
				equal = fmt.Sprintf("%d differing", r.Diff.Differing+r.Diff.Missing+r.Diff.Extra)
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%.2f s\t%.2f s\t%d MB\t%s\t%s\t%s\n", r.View, r.Format, e.name,
				strings.Join(runs, " "), median(e.ms, wall).Seconds(), median(e.ms, cpu).Seconds(), rss>>20, ratio, cpuRatio, equal)
		}
	}
	w.Flush()
	fmt.Fprintf(h.out, "\nCPU is user+sys. Peak RSS is the largest of the runs' rusage maxrss, never below the harness's own peak\n(%d MB), which Linux counts into a child's at its exec. equal: values of the two outputs that differ\n(doubles within %g relative count as equal).\n", selfMaxRSS()>>20, RelTolerance)
}

func wall(m Measure) time.Duration { return m.Wall }
func cpu(m Measure) time.Duration  { return m.CPU }

// median returns the median of f over ms (the mean of the middle two for
// an even count).
func median(ms []Measure, f func(Measure) time.Duration) time.Duration {
	if len(ms) == 0 {
		return 0
	}
	d := make([]time.Duration, len(ms))
	for i, m := range ms {
		d[i] = f(m)
	}
	slices.Sort(d)
	n := len(d)
	if n%2 == 1 {
		return d[n/2]
	}
	return (d[n/2-1] + d[n/2]) / 2
}

// machineLine describes the machine: CPUs (as nproc counts them), CPU
// model, memory.
func machineLine() string {
	model := firstField("/proc/cpuinfo", "model name")
	mem := "unknown"
	if kb, err := strconv.ParseInt(strings.TrimSuffix(firstField("/proc/meminfo", "MemTotal"), " kB"), 10, 64); err == nil {
		mem = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
	}
	return fmt.Sprintf("machine: nproc %d, %s %s, %s, memory %s", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, orUnknown(model), mem)
}

// versionLine names the versions of Go, fenestra (the main module's
// commit) and DuckDB.
func (h *harness) versionLine(ctx context.Context, duck string) string {
	fen := "binary " + h.fenestra
	if h.cfg.Fenestra == "" {
		fen = "commit " + gitCommit(ctx, h.cfg.Module)
	}
	goDuck := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/duckdb/duckdb-go/v2" {
				goDuck = d.Version
			}
		}
	}
	return fmt.Sprintf("versions: %s, fenestra %s, DuckDB %s through duckdb-go %s", runtime.Version(), fen, duck, goDuck)
}

// gitCommit returns dir's HEAD commit, marked when tracked files have
// changes.
func gitCommit(ctx context.Context, dir string) string {
	out, err := exec.CommandContext(ctx, "git", "-C", dir, "log", "-1", "--format=%h %cs").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.CommandContext(ctx, "git", "-C", dir, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
		c += " with uncommitted changes"
	}
	return c
}

// loadAverage returns the 1, 5 and 15 minute load averages, or "unknown".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}

// firstField returns the value of the first "name : value" line of a
// /proc file.
func firstField(path, name string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		k, v, ok := strings.Cut(s.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.Join(strings.Fields(v), " ")
		}
	}
	return ""
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
