package sidebyside

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// A Measure is one run of a child process.
type Measure struct {
	Wall time.Duration
	// CPU is the process's user plus system time.
	CPU time.Duration
	// MaxRSS is its peak resident set size, in bytes.
	MaxRSS int64
}

// measure runs the command argv as a child process and measures it: wall
// time from start to exit, CPU time and peak RSS from the kernel's rusage.
// Its output is returned in the error when it fails, else dropped.
func measure(ctx context.Context, argv []string) (Measure, error) {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return Measure{}, fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, tail(out.String(), 4000))
	}
	ps := cmd.ProcessState
	m := Measure{Wall: wall, CPU: ps.UserTime() + ps.SystemTime()}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		m.MaxRSS = rssBytes(ru.Maxrss)
	}
	return m, nil
}

// runChild runs the command argv and returns what it wrote to its
// standard output; its standard error is returned in the error when it
// fails.
func runChild(ctx context.Context, argv []string) ([]byte, error) {
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, tail(errOut.String(), 4000))
	}
	return out.Bytes(), nil
}

// selfMaxRSS returns this process's peak RSS in bytes, or 0 if unknown.
func selfMaxRSS() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return rssBytes(ru.Maxrss)
}

// rssBytes converts rusage's maxrss to bytes: Linux counts kilobytes,
// macOS bytes.
func rssBytes(maxrss int64) int64 {
	if runtime.GOOS == "darwin" {
		return maxrss
	}
	return maxrss * 1024
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
