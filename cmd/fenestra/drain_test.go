package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/emulators"
)

// TestMain runs the command itself, as a child process of a test, when
// FENESTRA_TEST_MAIN is set: the test binary re-executed (see
// startChild) is then fenestra.
func TestMain(m *testing.M) {
	if os.Getenv("FENESTRA_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// startChild starts this test binary as fenestra with args, and returns
// it with its combined output.
func startChild(t *testing.T, env []string, args ...string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(append(os.Environ(), "FENESTRA_TEST_MAIN=1"), env...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	return cmd, out
}

// TestServeSIGTERM sends SIGTERM to fenestra serve, a real child process,
// while 8 clients send it compute requests (keep-alive connections, as a
// load balancer's): every request sent is answered 200 (none cut, no
// connection reset), /readyz answers 503 at once on a connection already
// open, the only refusals are of new connections after the signal, and
// the process exits 0.
func TestServeSIGTERM(t *testing.T) {
	t.Parallel()
	emu, stop, err := emulators.StartBigtable("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	cmd, out := startChild(t, []string{"BIGTABLE_EMULATOR_HOST=" + emu},
		"serve", "--sql", "testdata/ok.sql", "--addr", "127.0.0.1:0", "--init", "--prefix", "drain_", "--console=false", "--drain-timeout", "5s")
	serving := regexp.MustCompile(`serving 1 views of testdata/ok.sql on (http://127\.0\.0\.1:\d+)`)
	var base string
	for deadline := time.Now().Add(20 * time.Second); base == ""; time.Sleep(10 * time.Millisecond) {
		if m := serving.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", out.String())
		}
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}, Timeout: 10 * time.Second}
	if resp := get(t, client, base+"/v1/tables/tx/rows", "PUT", `{"rows": [[1, "c1", 10, 1714528800000]]}`); resp.status != 200 {
		t.Fatalf("ingest: %d %s", resp.status, resp.body)
	}
	probe := &http.Client{Transport: &http.Transport{}} // its connection stays open across the signal
	if resp := get(t, probe, base+"/readyz", "GET", ""); resp.status != 200 || resp.body != `{"status":"ready"}` {
		t.Fatalf("/readyz before the signal: %d %s", resp.status, resp.body)
	}

	var signalled atomic.Bool
	var ok, refusedEarly, refused atomic.Int64
	var mu sync.Mutex
	var failures []string
	var wg sync.WaitGroup
	body := `{"rows": [` + strings.Repeat(`[2, "c1", 5, 1714528801000],`, 199) + `[2, "c1", 5, 1714528801000]]}`
	for range 8 {
		wg.Go(func() {
			for {
				resp, err := client.Post(base+"/v1/views/spend:compute", "application/json", strings.NewReader(body))
				switch {
				case err != nil && errors.Is(err, syscall.ECONNREFUSED):
					if !signalled.Load() {
						refusedEarly.Add(1)
					}
					refused.Add(1)
					return
				case err != nil:
					mu.Lock()
					failures = append(failures, err.Error())
					mu.Unlock()
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("%d %s", resp.StatusCode, b))
					mu.Unlock()
					return
				}
				ok.Add(1)
			}
		})
	}
	time.Sleep(500 * time.Millisecond)
	before := ok.Load()
	signalled.Store(true)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	ready := get(t, probe, base+"/readyz", "GET", "")
	wg.Wait()
	err = cmd.Wait()
	t.Logf("%d answers 200 (%d before the signal), %d new connections refused after it; /readyz after it: %d %s; exit: %v",
		ok.Load(), before, refused.Load(), ready.status, ready.body, err)
	if err != nil || !strings.Contains(out.String(), "stopped (drained in") {
		t.Errorf("serve exited with %v:\n%s", err, out.String())
	}
	if len(failures) > 0 || refusedEarly.Load() > 0 || before == 0 {
		t.Errorf("%d failed requests (%q), %d refused before the signal, %d answered before it", len(failures), failures, refusedEarly.Load(), before)
	}
	if ready.status != http.StatusServiceUnavailable || !strings.Contains(ready.body, "draining") {
		t.Errorf("/readyz after the signal: %d %s, want 503 draining", ready.status, ready.body)
	}
}

type answer struct {
	status int
	body   string
}

// get sends one request and reads its answer.
func get(t *testing.T, client *http.Client, url, method, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, string(b)}
}
