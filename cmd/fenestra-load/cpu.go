package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the CPU times in /proc/PID/stat: Linux reports
// them in clock ticks of USER_HZ, 100 per second on every architecture
// Go runs on.
const userHZ = 100

// processCPU returns the CPU time process pid has used so far, user and
// system time of all its threads (utime + stime of /proc/PID/stat; the
// kernel's own accounting, not a sample). Linux only.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("reading the CPU time of process %d: %w", pid, err)
	}
	return parseStatCPU(string(b))
}

// parseStatCPU reads utime + stime from the text of /proc/PID/stat. The
// command name (field 2) is in parentheses and may hold spaces and
// parentheses itself, so the fields are counted from the last ')'.
func parseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed /proc stat %q", stat)
	}
	// After ") " come field 3 (state) onwards; utime and stime are
	// fields 14 and 15.
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("malformed /proc stat %q", stat)
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("malformed /proc stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// cpuWatch measures the CPU time processes use over a run.
type cpuWatch struct {
	name   string
	pid    int
	before time.Duration
	used   time.Duration // after - before, once stopped
}

// startCPU starts watching process pid (nil when pid is 0).
func startCPU(name string, pid int) (*cpuWatch, error) {
	if pid == 0 {
		return nil, nil
	}
	t, err := processCPU(pid)
	if err != nil {
		return nil, err
	}
	return &cpuWatch{name: name, pid: pid, before: t}, nil
}

// stop records the CPU time used since start.
func (w *cpuWatch) stop() error {
	if w == nil {
		return nil
	}
	t, err := processCPU(w.pid)
	if err != nil {
		return err
	}
	w.used = t - w.before
	return nil
}

// print reports the CPU time used, per request and as a share of a core.
func (w *cpuWatch) print(out io.Writer, requests int, elapsed time.Duration) {
	if w == nil {
		return
	}
	fmt.Fprintf(out, "%s CPU (process %d, /proc utime+stime): %.2f s, %.1f µs per request, %.0f%% of a core\n",
		w.name, w.pid, w.used.Seconds(), float64(w.used.Microseconds())/float64(max(requests, 1)), 100*w.used.Seconds()/elapsed.Seconds())
}
