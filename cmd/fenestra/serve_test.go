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
	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
	"github.com/fenestra-dev/fenestra/storage/bigtable"
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
			"--auth-token-file", token, "--timeout", "1s", "--max-body", "4096", "--max-rows", "2"}, &out, &errOut)
	}()
	serving := regexp.MustCompile(`serving 1 views of testdata/ok.sql on (http://127\.0\.0\.1:\d+) \(Bigtable local/local at ` + regexp.QuoteMeta(addr) + `\)`)
	base := waitServing(t, serving, &out, &errOut, done)
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
		{"two rows", "POST", "/v1/views/spend:compute", `{"rows": [[3, "c1", 5, 1714528802000], [4, "c2", 5, 1714528802000]]}`, "s3cret", 200, `"rows":[[3,15],[4,5]]`},
		{"console page", "GET", "/", "", "", 200, `<title>fenestra console</title>`},
		{"console data, no token", "GET", "/console/api/views", "", "", 401, `{"error":"unauthorized"}`},
		{"console data", "GET", "/console/api/views", "", "s3cret", 200, `"sql":"DEPLOY spend`},
		{"console timeline", "GET", "/console/api/views/spend/timeline?key=c1", "", "s3cret", 200, `"times":[1714528800000],"events":[[1,"c1",10,1714528800000]],"values":[[1,10]]`},
		{"console is read-only", "POST", "/console/api/views", "", "s3cret", 405, `method not allowed`},
		{"too many rows", "POST", "/v1/views/spend:compute", `{"rows": [[3, "c1", 5, 1714528802000], [4, "c2", 5, 1714528802000], [5, "c3", 5, 1714528802000]]}`, "s3cret", 413, `the limit is 2 rows per request`},
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
	waitStopped(t, &out, &errOut, done)
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
		{"no sql nor bigtable", []string{}, 2, "usage: fenestra serve"},
		{"init without sql", []string{"--bigtable", "p/i", "--init"}, 2, "--init needs --sql"},
		{"extra argument", []string{"--sql", "testdata/ok.sql", "x"}, 2, "usage: fenestra serve"},
		{"bad instance", []string{"--sql", "testdata/ok.sql", "--bigtable", "proj"}, 2, "want PROJECT/INSTANCE"},
		{"bad body limit", []string{"--sql", "testdata/ok.sql", "--max-body", "0"}, 2, "usage: fenestra serve"},
		{"bad row limit", []string{"--sql", "testdata/ok.sql", "--max-rows", "0"}, 2, "usage: fenestra serve"},
		{"bad file", []string{"--sql", "testdata/bad.sql", "--bigtable", "p/i"}, 1, `unknown column "amout"`},
		{"missing token file", []string{"--sql", "testdata/ok.sql", "--bigtable", "p/i", "--auth-token-file", missing}, 1, "no such file"},
		{"bad address", []string{"--sql", "testdata/ok.sql", "--bigtable", "p/i", "--addr", "256.0.0.1:x"}, 1, "listen tcp"},
		{"follow without brokers", []string{"--sql", "testdata/ok.sql", "--bigtable", "p/i", "--follow", "tx=t", "--brokers", ""}, 2, "--follow needs --brokers"},
		{"bad follow", []string{"--sql", "testdata/ok.sql", "--bigtable", "p/i", "--follow", "tx"}, 2, "want TABLE=TOPIC"},
		{"bad bad-rows", []string{"--sql", "testdata/ok.sql", "--bigtable", "p/i", "--bad-rows", "drop"}, 2, "--bad-rows"},
	} {
		var out, errOut syncBuffer
		code := runServe(context.Background(), c.args, &out, &errOut)
		if code != c.code || !strings.Contains(errOut.String(), c.stderr) {
			t.Errorf("%s: exit code %d, stderr:\n%s\nwant %d and %q", c.name, code, errOut.String(), c.code, c.stderr)
		}
	}
}

// TestServeStoredDeployments runs fenestra serve without --sql against a
// Bigtable emulator holding a stored deployment: it serves it, then
// serves a deployment stored while it runs and stops serving a dropped
// one, without a restart. (Not parallel: it sets the environment.)
func TestServeStoredDeployments(t *testing.T) {
	addr, stop, err := emulators.StartBigtable("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	t.Setenv("BIGTABLE_EMULATOR_HOST", addr)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store, err := bigtable.Open(ctx, bigtable.Config{Project: "local", Instance: "local", Prefix: "stored_"})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	text, err := os.ReadFile("testdata/ok.sql")
	if err != nil {
		t.Fatal(err)
	}
	mod, err := featurelang.Compile("ok.sql", string(text), featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Init(ctx, mod.Tables); err != nil {
		t.Fatal(err)
	}
	rows := types.BlockOf(mod.Tables[0].Schema, [][]types.Value{{types.Int64Value(1), types.StringValue("c1"), types.DoubleValue(10), types.TimestampValue(1714528800000)}})
	if err := store.Write(ctx, "tx", rows, []uint64{1}); err != nil {
		t.Fatal(err)
	}
	deploy := func(db, name string) {
		t.Helper()
		p := mod.Views[0]
		p.DB, p.Name = db, name
		d, err := storage.NewDeployment("DEPLOY "+name+" ...", p)
		if err != nil {
			t.Fatal(err)
		}
		if err := store.PutDeployment(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	deploy("demo", "spend")

	var out, errOut syncBuffer
	done := make(chan int)
	go func() {
		done <- runServe(ctx, []string{"--addr", "127.0.0.1:0", "--prefix", "stored_", "--poll", "50ms"}, &out, &errOut)
	}()
	serving := regexp.MustCompile(`serving 1 stored deployments \(listed every 50ms\) on (http://127\.0\.0\.1:\d+) \(Bigtable local/local at ` + regexp.QuoteMeta(addr) + `\)`)
	base := waitServing(t, serving, &out, &errOut, done)
	post := func(path, body string) (int, string) {
		resp, err := http.Post(base+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	request := `{"rows": [[2, "c1", 5, 1714528801000]]}`
	if code, body := post("/dbs/demo/deployments/spend", `{"input": [[2, "c1", 5, 1714528801000]]}`); code != 200 || !strings.Contains(body, `"data":[[2,15]]`) {
		t.Errorf("OpenMLDB route: %d %s", code, body)
	}
	if code, body := post("/v1/views/demo.spend:compute", request); code != 200 || !strings.Contains(body, `"db":"demo"`) || !strings.Contains(body, `"rows":[[2,15]]`) {
		t.Errorf("compute: %d %s", code, body)
	}
	// The console shows the stored DEPLOY statement, and a key's timeline.
	for path, want := range map[string]string{"/console/api/views": `"sql":"DEPLOY spend ..."`,
		"/console/api/views/demo.spend/timeline?key=c1": `"values":[[1,10]]`} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("GET %s: %d %s; want %s", path, resp.StatusCode, b, want)
		}
	}

	deploy("demo", "later")
	if err := store.DropDeployment(ctx, "demo", "spend"); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		a, _ := post("/v1/views/demo.spend:compute", request)
		b, body := post("/v1/views/demo.later:compute", request)
		if a == 404 && b == 200 && strings.Contains(body, `"rows":[[2,15]]`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the changes were not served within 10s: spend %d, later %d %s\nstderr:\n%s", a, b, body, errOut.String())
		}
	}
	cancel()
	waitStopped(t, &out, &errOut, done)
	for _, want := range []string{`msg="serving deployment" deployment=demo.spend`, `msg="serving deployment" deployment=demo.later`,
		`msg="stopped serving deployment" deployment=demo.spend`} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("the log lacks %s:\n%s", want, errOut.String())
		}
	}
}

// waitServing waits (10 s at most) for serve's line matching serving on
// out and returns the URL it names; serve exiting first is fatal.
func waitServing(t *testing.T, serving *regexp.Regexp, out, errOut *syncBuffer, done <-chan int) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if m := serving.FindStringSubmatch(out.String()); m != nil {
			return m[1]
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
}

// waitStopped waits (15 s at most) for a cancelled serve to exit 0,
// saying it stopped.
func waitStopped(t *testing.T, out, errOut *syncBuffer, done <-chan int) {
	t.Helper()
	select {
	case code := <-done:
		if code != 0 || !strings.Contains(out.String(), "stopped") {
			t.Errorf("serve exited with %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
}
