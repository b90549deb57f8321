package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/emulators"
)

// TestServe runs fenestra serve against a Bigtable emulator named by
// BIGTABLE_EMULATOR_HOST, sends it requests over HTTP, and stops it by
// cancelling its context. (Not parallel: it sets the environment.)
func TestServe(t *testing.T) {
	addr, stop, err := emulators.StartBigtable("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	t.Setenv("BIGTABLE_EMULATOR_HOST", addr)
	token := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(token, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan int)
	go func() {
		done <- runServe(ctx, []string{"--sql", "testdata/ok.sql", "--addr", "127.0.0.1:0", "--init", "--prefix", "serve_",
			"--auth-token-file", token, "--timeout", "1s", "--max-body", "4096"}, &out, &errOut)
	}()
	serving := regexp.MustCompile(`serving 1 views of testdata/ok.sql on (http://127\.0\.0\.1:\d+) \(Bigtable local/local at ` + regexp.QuoteMeta(addr) + `\)`)
	var base string
	for deadline := time.Now().Add(10 * time.Second); base == ""; time.Sleep(10 * time.Millisecond) {
		if m := serving.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start\nstdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
		}
	}
	for _, c := range []struct {
		name, method, path, body, token string
		status                          int
		want                            string
	}{
		{"health", "GET", "/healthz", "", "", 200, `{"status":"ok"}`},
		{"no token", "POST", "/v1/views/spend:compute", `{"rows": []}`, "", 401, `{"error":"unauthorized"}`},
		{"ingest", "PUT", "/v1/tables/tx/rows", `{"rows": [[1, "c1", 10, 1714528800000]]}`, "s3cret", 200, `{"table":"tx","rows":1}`},
		{"compute", "POST", "/v1/views/spend:compute", `{"rows": [[2, "c1", 5, 1714528801000]]}`, "s3cret", 200, `"rows":[[2,15]]`},
		{"too large", "POST", "/v1/views/spend:compute", `{"rows": [` + strings.Repeat(`[2, "c1", 5, 1714528801000],`, 200) + `]}`, "s3cret", 413, `request body too large`},
	} {
		req, _ := http.NewRequest(c.method, base+c.path, strings.NewReader(c.body))
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || !strings.Contains(string(b), c.want) {
			t.Errorf("%s: %d %s, want %d with %s", c.name, resp.StatusCode, b, c.status, c.want)
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 || !strings.Contains(out.String(), "stopped") {
			t.Errorf("serve exited with %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// TestServeFlags checks serve's refusals.
func TestServeFlags(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "nope")
	for _, c := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no sql", []string{}, 2, "usage: fenestra serve"},
		{"extra argument", []string{"--sql", "testdata/ok.sql", "x"}, 2, "usage: fenestra serve"},
		{"bad instance", []string{"--sql", "testdata/ok.sql", "--bigtable", "proj"}, 2, "want PROJECT/INSTANCE"},
		{"bad body limit", []string{"--sql", "testdata/ok.sql", "--max-body", "0"}, 2, "usage: fenestra serve"},
		{"bad file", []string{"--sql", "testdata/bad.sql", "--bigtable", "p/i"}, 1, `unknown column "amout"`},
		{"missing token file", []string{"--sql", "testdata/ok.sql", "--bigtable", "p/i", "--auth-token-file", missing}, 1, "no such file"},
		{"bad address", []string{"--sql", "testdata/ok.sql", "--bigtable", "p/i", "--addr", "256.0.0.1:x"}, 1, "listen tcp"},
	} {
		var out, errOut syncBuffer
		code := runServe(context.Background(), c.args, &out, &errOut)
		if code != c.code || !strings.Contains(errOut.String(), c.stderr) {
			t.Errorf("%s: exit code %d, stderr:\n%s\nwant %d and %q", c.name, code, errOut.String(), c.code, c.stderr)
		}
	}
}
