package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
)

// runCmd runs the CLI in-process and returns its exit code and output.
func runCmd(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCLI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   []string // substrings
		stderr   []string
		lastLine string // regexp for the last line of stdout
	}{
		{name: "no command", args: nil, code: 2, stderr: []string{"usage: fenestra"}},
		{name: "unknown command", args: []string{"frobnicate"}, code: 2, stderr: []string{`unknown command "frobnicate"`}},
		{name: "check ok", args: []string{"check", "testdata/ok.sql"}, code: 0,
			stdout: []string{"table tx (id int64, card string, amount double, ts timestamp)", "view spend v1-", "  spend_1d double"}},
		{name: "check errors", args: []string{"check", "testdata/bad.sql"}, code: 1,
			stderr: []string{"testdata/bad.sql:2:29: unknown column \"amout\"; did you mean amount?", " |                             ^"}},
		{name: "check missing file", args: []string{"check", "testdata/nope.sql"}, code: 1, stderr: []string{"no such file"}},
		{name: "explain", args: []string{"explain", "testdata/ok.sql"}, code: 0,
			stdout: []string{"project: id = id, spend_1d = sum(amount) over w", "window w: partition by card order by ts rows_range between 1d preceding and current row", "scan tx"}},
		{name: "explain long windows", args: []string{"explain", "testdata/long_windows.sql"}, code: 0,
			stdout: []string{"long window: 1d buckets", "sum(amount) over w30d: tiles (window w30d, 1d buckets)", "median(amount) over w30d: raw rows: median has no mergeable per-bucket state"}},
		{name: "explain json", args: []string{"explain", "--json", "testdata/ok.sql"}, code: 0, stdout: []string{`"op": "project"`, `"format": 1`}},
		{name: "conformance", args: []string{"conformance", "../../conformance/testdata/mini.jsonl"}, code: 1,
			stdout: []string{"FAIL mini#wrong batch: row 1 column id: got 1, want 2"}, lastLine: `^7 passed, 2 failed, 4 skipped$`},
		{name: "conformance batch only", args: []string{"conformance", "--mode", "batch", "--run", "sum3s", "../../conformance/testdata/mini.jsonl"}, code: 0,
			lastLine: `^1 passed, 0 failed, 0 skipped$`},
		{name: "conformance bad mode", args: []string{"conformance", "--mode", "online", "x.jsonl"}, code: 2, stderr: []string{"--mode must be batch, request or both"}},
		{name: "serve without a file", args: []string{"serve"}, code: 2, stderr: []string{"usage: fenestra serve"}},
		{name: "up bad flag", args: []string{"up", "--rows", "0"}, code: 2, stderr: []string{"usage: fenestra up"}},
		{name: "up unknown example", args: []string{"up", "--example", "nope"}, code: 1, stderr: []string{`no example "nope"`}},
		{name: "gen without a directory", args: []string{"gen"}, code: 2, stderr: []string{"usage: fenestra gen"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runCmd(tt.args...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q:\n%s", s, out)
				}
			}
			for _, s := range tt.stderr {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr lacks %q:\n%s", s, errOut)
				}
			}
			if tt.lastLine != "" {
				lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
				if last := lines[len(lines)-1]; !regexp.MustCompile(tt.lastLine).MatchString(last) {
					t.Errorf("last line %q does not match %s", last, tt.lastLine)
				}
			}
		})
	}
}
