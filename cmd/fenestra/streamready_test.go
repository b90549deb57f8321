package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/dataflow"
	"github.com/fenestra-dev/fenestra/emulators"
)

// TestStreamReadyz: the stream's /readyz on its metrics address is 503
// naming the table while it is not initialised, 200 once it is, and 503
// from the moment the stream is told to stop; /healthz stays 200.
func TestStreamReadyz(t *testing.T) {
	t.Parallel()
	emu, stop, err := emulators.StartBigtable("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	mods, ok := compileFiles([]string{"testdata/ok.sql"}, io.Discard)
	if !ok {
		t.Fatal("testdata/ok.sql does not compile")
	}
	job := dataflow.StreamJob{Tables: mods[0].Tables,
		Target: dataflow.BigtableTarget{Project: "local", Instance: "local", Prefix: "ready_", EmulatorHost: emu}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready, closeStore, err := streamReadiness(ctx, job)
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore()
	var out strings.Builder
	stopMetrics, err := serveStreamMetrics("127.0.0.1:0", ready, &out)
	if err != nil {
		t.Fatal(err)
	}
	defer stopMetrics()
	base := regexp.MustCompile(`http://[^/]+`).FindString(out.String())
	check := func(when, path string, status int, body string) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != status || !strings.Contains(string(b), body) {
			t.Errorf("%s: %s %d %s, want %d with %s", when, path, resp.StatusCode, b, status, body)
		}
	}
	check("before init", "/readyz", 503, `"error":"storage not initialised: table tx (run fenestra storage init)"`)
	check("before init", "/healthz", 200, `{"status":"ok"}`)
	if err := initTables(ctx, job.Target, job.Tables); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // the last probe's answer holds for a second
	check("initialised", "/readyz", 200, `{"status":"ready"}`)
	cancel()
	time.Sleep(10 * time.Millisecond)
	check("stopping", "/readyz", 503, `draining`)
}
