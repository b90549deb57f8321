package emulators

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// promptly bounds how long a failing Invoke may take to return.
const promptly = 5 * time.Second

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestLambdaRuntime runs the real aws-lambda-go runtime loop of
// testdata/lambdafn, built once, as a child process of the emulator.
func TestLambdaRuntime(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs a Lambda function binary")
	}
	bin := buildLambdafn(t)
	t.Run("Invoke", func(t *testing.T) { testLambdaInvoke(t, bin) })
	t.Run("SequentialAndConcurrent", func(t *testing.T) { testLambdaSequentialAndConcurrent(t, bin) })
	t.Run("Context", func(t *testing.T) { testLambdaContext(t, bin) })
	t.Run("RuntimeExit", func(t *testing.T) { testLambdaRuntimeExit(t, bin) })
	t.Run("Close", func(t *testing.T) { testLambdaRunClose(t, bin) })
}

// testLambdaInvoke checks one invocation per case, each against its own
// runtime (a panic or an oversized response ends the runtime process).
func testLambdaInvoke(t *testing.T, bin string) {
	t.Parallel()
	atLimit := `"` + strings.Repeat("x", MaxLambdaPayload-2) + `"`
	tests := []struct {
		name      string
		event     string
		want      string       // the response, when the function succeeds
		wantErr   *LambdaError // its Type, and a substring of its Message
		wantStack bool
	}{
		{name: "echo", event: `{"op":"echo","message":"héllo, wörld"}`, want: `{"op":"echo","message":"héllo, wörld"}`},
		{name: "response at the size limit", event: fmt.Sprintf(`{"op":"big","size":%d}`, MaxLambdaPayload-2), want: atLimit},
		{name: "handler error", event: `{"op":"fail","message":"no such feature"}`,
			wantErr: &LambdaError{Type: "featureError", Message: "no such feature"}},
		{name: "handler panic", event: `{"op":"panic","message":"boom"}`,
			wantErr: &LambdaError{Type: "string", Message: "boom"}, wantStack: true},
		{name: "oversized response", event: fmt.Sprintf(`{"op":"big","size":%d}`, MaxLambdaPayload),
			wantErr: &LambdaError{Type: "Function.ResponseSizeTooLarge", Message: "exceeded maximum allowed payload size (6291456 bytes)"}},
		{name: "bad event", event: `[1]`, wantErr: &LambdaError{Type: "UnmarshalTypeError", Message: "cannot unmarshal array"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := runLambdafn(t, bin)
			got, err := l.Invoke(t.Context(), []byte(tt.event))
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != tt.want {
					t.Fatalf("got %.80s (%d bytes), want %.80s (%d bytes)", got, len(got), tt.want, len(tt.want))
				}
				return
			}
			checkLambdaError(t, err, tt.wantErr)
			var le *LambdaError
			if errors.As(err, &le) && tt.wantStack && !slices.ContainsFunc(le.StackTrace, func(s string) bool { return strings.Contains(s, "main.go:") }) {
				t.Errorf("stack trace %q has no frame in main.go", le.StackTrace)
			}
		})
	}
}

// testLambdaSequentialAndConcurrent checks that every invocation gets its
// own response, whether the callers take turns or race, with a runtime
// that serves one invocation at a time or several.
func testLambdaSequentialAndConcurrent(t *testing.T, bin string) {
	t.Parallel()
	tests := []struct {
		name string
		env  []string
	}{
		{name: "one at a time"},
		{name: "max concurrency 4", env: []string{"AWS_LAMBDA_MAX_CONCURRENCY=4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := runLambdafn(t, bin, tt.env...)
			echo := func(i int) error {
				event := fmt.Sprintf(`{"op":"echo","size":%d}`, i)
				got, err := l.Invoke(t.Context(), []byte(event))
				if err != nil {
					return fmt.Errorf("invocation %d: %w", i, err)
				}
				if string(got) != event {
					return fmt.Errorf("invocation %d: got %s, want %s", i, got, event)
				}
				return nil
			}
			for i := range 5 {
				if err := echo(i); err != nil {
					t.Fatal(err)
				}
			}
			var wg sync.WaitGroup
			for i := range 16 {
				wg.Go(func() {
					if err := echo(100 + i); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
		})
	}
}

// testLambdaContext checks what the handler sees: the deadline (ctx's, or
// LambdaTimeout from the call) and the Lambda context and environment.
func testLambdaContext(t *testing.T, bin string) {
	t.Parallel()
	l := runLambdafn(t, bin)
	tests := []struct {
		name    string
		timeout time.Duration // of the ctx given to Invoke; 0 for none
		want    time.Duration // deadline, from the call
	}{
		{name: "ctx deadline", timeout: 7 * time.Second, want: 7 * time.Second},
		{name: "default deadline", want: LambdaTimeout},
	}
	for _, tt := range tests {
		ctx := t.Context()
		start := time.Now()
		if tt.timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, tt.timeout)
			defer cancel()
		}
		got, err := l.Invoke(ctx, []byte(`{"op":"context"}`))
		end := time.Now()
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var r struct {
			DeadlineMS   int64  `json:"deadline_ms"`
			RequestID    string `json:"request_id"`
			FunctionARN  string `json:"function_arn"`
			FunctionName string `json:"function_name"`
			MemoryMB     int    `json:"memory_mb"`
		}
		if err := json.Unmarshal(got, &r); err != nil {
			t.Fatalf("%s: %v in %s", tt.name, err, got)
		}
		lo, hi := start.Add(tt.want).UnixMilli(), end.Add(tt.want).UnixMilli()
		if r.DeadlineMS < lo || r.DeadlineMS > hi {
			t.Errorf("%s: handler deadline %d, want within [%d, %d]", tt.name, r.DeadlineMS, lo, hi)
		}
		if !uuidRE.MatchString(r.RequestID) {
			t.Errorf("%s: request ID %q, want a UUID", tt.name, r.RequestID)
		}
		if want := "arn:aws:lambda:us-east-1:123456789012:function:lambdafn"; r.FunctionARN != want {
			t.Errorf("%s: function ARN %q, want %q", tt.name, r.FunctionARN, want)
		}
		if r.FunctionName != "lambdafn" || r.MemoryMB != 128 {
			t.Errorf("%s: function %q with %d MB, want lambdafn with 128 MB", tt.name, r.FunctionName, r.MemoryMB)
		}
	}
}

// testLambdaRuntimeExit checks that a runtime exiting, before or during an
// invocation, fails it promptly with the exit status and the runtime's
// last output, and fails later invocations at once.
func testLambdaRuntimeExit(t *testing.T, bin string) {
	t.Parallel()
	tests := []struct {
		name  string
		env   []string
		event string
		want  []string // substrings of the error
	}{
		{name: "at start", env: []string{"LAMBDAFN_EXIT_AT_START=1"}, event: `{"op":"echo"}`,
			want: []string{"emulators: lambda runtime exited: exit status 2", "exiting at start as asked"}},
		{name: "mid-invocation", event: `{"op":"exit"}`,
			want: []string{"emulators: lambda runtime exited: exit status 3", "exiting mid-invocation as asked"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := runLambdafn(t, bin, tt.env...)
			for _, when := range []string{"first", "later"} {
				ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
				start := time.Now()
				_, err := l.Invoke(ctx, []byte(tt.event))
				cancel()
				if elapsed := time.Since(start); elapsed > promptly {
					t.Errorf("%s Invoke took %v", when, elapsed)
				}
				if err == nil || errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("%s Invoke: got %v, want the runtime's exit", when, err)
				}
				var exit *exec.ExitError
				if !errors.As(err, &exit) {
					t.Errorf("%s Invoke: %v does not wrap an *exec.ExitError", when, err)
				}
				for _, w := range tt.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("%s Invoke: %q does not contain %q", when, err, w)
					}
				}
			}
		})
	}
}

// testLambdaRunClose checks that Close stops a running runtime, and that
// Invoke then reports ErrLambdaClosed.
func testLambdaRunClose(t *testing.T, bin string) {
	t.Parallel()
	l, err := RunLambda(t.Context(), bin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Invoke(t.Context(), []byte(`{"op":"echo"}`)); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Invoke(t.Context(), []byte(`{"op":"echo"}`)); !errors.Is(err, ErrLambdaClosed) {
		t.Fatalf("Invoke after Close: got %v, want ErrLambdaClosed", err)
	}
}

// TestLambdaProtocol plays a runtime over plain HTTP and checks the
// invocation it is handed, the status of its answer, and what Invoke
// returns for it; a second answer is refused as an invalid request ID.
func TestLambdaProtocol(t *testing.T) {
	t.Parallel()
	errBody := base64.StdEncoding.EncodeToString([]byte(`{"errorMessage":"stream broke","errorType":"ReadError"}`))
	tests := []struct {
		name       string
		path       string // "response" or "error"
		header     http.Header
		trailer    http.Header
		body       []byte
		wantStatus int
		wantType   string // the errorType of a refusal
		want       string // Invoke's response
		wantErr    *LambdaError
	}{
		{name: "response", path: "response", body: []byte(`{"ok":true}`), wantStatus: 202, want: `{"ok":true}`},
		{name: "empty response", path: "response", wantStatus: 202},
		{name: "response at the size limit", path: "response", body: bytes.Repeat([]byte("x"), MaxLambdaPayload),
			wantStatus: 202, want: strings.Repeat("x", MaxLambdaPayload)},
		{name: "oversized response", path: "response", body: bytes.Repeat([]byte("x"), MaxLambdaPayload+1),
			wantStatus: 413, wantType: "RequestEntityTooLarge",
			wantErr: &LambdaError{Type: "Function.ResponseSizeTooLarge", Message: "Response payload size (6291457 bytes) exceeded maximum allowed payload size (6291456 bytes)."}},
		{name: "error in trailers", path: "response", body: []byte(`{"partial`),
			trailer:    http.Header{"Lambda-Runtime-Function-Error-Type": {"ReadError"}, "Lambda-Runtime-Function-Error-Body": {errBody}},
			wantStatus: 202, wantErr: &LambdaError{Type: "ReadError", Message: "stream broke"}},
		{name: "error document", path: "error",
			body:       []byte(`{"errorMessage":"m","errorType":"TypeError","stackTrace":["at f (f.js:1:2)","at g (g.js:3:4)"]}`),
			wantStatus: 202, wantErr: &LambdaError{Type: "TypeError", Message: "m", StackTrace: []string{"at f (f.js:1:2)", "at g (g.js:3:4)"}}},
		{name: "Go stack frames", path: "error",
			body:       []byte(`{"errorMessage":"m","errorType":"string","stackTrace":[{"path":"fn/main.go","line":3,"label":"handle"}]}`),
			wantStatus: 202, wantErr: &LambdaError{Type: "string", Message: "m", StackTrace: []string{"fn/main.go:3 handle"}}},
		{name: "error type in header only", path: "error", header: http.Header{"Lambda-Runtime-Function-Error-Type": {"Runtime.Crash"}},
			body: []byte("segmentation fault"), wantStatus: 202, wantErr: &LambdaError{Type: "Runtime.Crash", Message: "segmentation fault"}},
		{name: "no error type", path: "error", body: []byte(`{"errorMessage":"m"}`),
			wantStatus: 202, wantErr: &LambdaError{Type: "Unhandled", Message: "m"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := startLambda(t)
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			deadline, _ := ctx.Deadline()
			res := invokeAsync(ctx, l, `{"k":1}`)
			rt := runtimeClient{t, l}

			h, event := rt.next()
			id := h.Get("Lambda-Runtime-Aws-Request-Id")
			checkNextHeaders(t, h, deadline)
			if string(event) != `{"k":1}` {
				t.Errorf("event %s, want {\"k\":1}", event)
			}
			status, body := rt.post("/invocation/"+id+"/"+tt.path, tt.body, tt.header, tt.trailer)
			checkAPIStatus(t, status, body, tt.wantStatus, tt.wantType)

			r := await(t, res)
			if tt.wantErr == nil {
				if r.err != nil || string(r.body) != tt.want {
					t.Errorf("Invoke: got %.80q, %v; want %.80q", r.body, r.err, tt.want)
				}
			} else {
				checkLambdaError(t, r.err, tt.wantErr)
				var le *LambdaError
				if errors.As(r.err, &le) && !slices.Equal(le.StackTrace, tt.wantErr.StackTrace) {
					t.Errorf("stack trace %q, want %q", le.StackTrace, tt.wantErr.StackTrace)
				}
			}

			status, body = rt.post("/invocation/"+id+"/"+tt.path, []byte(`"again"`), nil, nil)
			checkAPIStatus(t, status, body, http.StatusBadRequest, "InvalidRequestID")
		})
	}
}

// TestLambdaUnknownRequestID checks that answering an invocation that was
// never handed out is refused with 400 InvalidRequestID.
func TestLambdaUnknownRequestID(t *testing.T) {
	t.Parallel()
	l := startLambda(t)
	rt := runtimeClient{t, l}
	for _, path := range []string{"response", "error"} {
		status, body := rt.post("/invocation/8476a536-e9f4-11e8-9739-2dfe598c3fcd/"+path, []byte(`{}`), nil, nil)
		checkAPIStatus(t, status, body, http.StatusBadRequest, "InvalidRequestID")
	}
	resp, err := http.Get("http://" + l.Addr() + "/2018-06-01/runtime/invocation/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET of an unknown path: status %d, want 404", resp.StatusCode)
	}
}

// TestLambdaInitError checks that an init error reported before any
// invocation fails pending and later invocations with it, and that one
// reported after an invocation was taken is refused.
func TestLambdaInitError(t *testing.T) {
	t.Parallel()
	initErr := []byte(`{"errorMessage":"missing TABLE","errorType":"Runtime.ConfigError"}`)
	want := &LambdaError{Type: "Runtime.ConfigError", Message: "missing TABLE"}

	t.Run("before invocations", func(t *testing.T) {
		t.Parallel()
		l := startLambda(t)
		rt := runtimeClient{t, l}
		pending := invokeAsync(t.Context(), l, `{}`)
		status, body := rt.post("/init/error", initErr, nil, nil)
		checkAPIStatus(t, status, body, http.StatusAccepted, "")
		checkLambdaError(t, await(t, pending).err, want)
		_, err := l.Invoke(t.Context(), []byte(`{}`))
		checkLambdaError(t, err, want)
		resp, err := http.Get(rt.url("/invocation/next"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusInternalServerError {
			t.Errorf("next after an init error: status %d, want 500", resp.StatusCode)
		}
	})

	t.Run("after an invocation", func(t *testing.T) {
		t.Parallel()
		l := startLambda(t)
		rt := runtimeClient{t, l}
		res := invokeAsync(t.Context(), l, `{}`)
		h, _ := rt.next()
		status, body := rt.post("/init/error", initErr, nil, nil)
		checkAPIStatus(t, status, body, http.StatusForbidden, "InvalidStateTransition")
		status, body = rt.post("/invocation/"+h.Get("Lambda-Runtime-Aws-Request-Id")+"/response", []byte(`"fine"`), nil, nil)
		checkAPIStatus(t, status, body, http.StatusAccepted, "")
		if r := await(t, res); r.err != nil || string(r.body) != `"fine"` {
			t.Errorf("Invoke: got %s, %v; want \"fine\"", r.body, r.err)
		}
	})
}

// TestLambdaInvokeContext checks that Invoke gives up when its context
// ends, whether or not the runtime took the invocation, and that a late
// answer is still accepted.
func TestLambdaInvokeContext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		take   bool // the runtime takes the invocation and does not answer
		cancel bool // cancel the context rather than let it time out
		want   error
	}{
		{name: "deadline, not taken", want: context.DeadlineExceeded},
		{name: "deadline, taken", take: true, want: context.DeadlineExceeded},
		{name: "cancelled, taken", take: true, cancel: true, want: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := startLambda(t)
			rt := runtimeClient{t, l}
			ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
			defer cancel()
			res := invokeAsync(ctx, l, `{}`)
			var id string
			if tt.take {
				h, _ := rt.next()
				id = h.Get("Lambda-Runtime-Aws-Request-Id")
			}
			if tt.cancel {
				cancel()
			}
			if r := await(t, res); !errors.Is(r.err, tt.want) {
				t.Fatalf("got %v, want %v", r.err, tt.want)
			}
			if tt.take {
				status, body := rt.post("/invocation/"+id+"/response", []byte(`"late"`), nil, nil)
				checkAPIStatus(t, status, body, http.StatusAccepted, "")
			}
		})
	}
}

// TestLambdaInvokeEvent checks the event a runtime receives for an empty
// one, and that an oversized event is refused without being queued.
func TestLambdaInvokeEvent(t *testing.T) {
	t.Parallel()
	l := startLambda(t)
	rt := runtimeClient{t, l}
	if _, err := l.Invoke(t.Context(), make([]byte, MaxLambdaPayload+1)); err == nil || !strings.Contains(err.Error(), "6291457 bytes") {
		t.Errorf("oversized event: got %v, want an error giving its size", err)
	}
	res := invokeAsync(t.Context(), l, "")
	h, event := rt.next()
	if string(event) != "{}" {
		t.Errorf("empty event delivered as %q, want {}", event)
	}
	rt.post("/invocation/"+h.Get("Lambda-Runtime-Aws-Request-Id")+"/response", nil, nil, nil)
	if r := await(t, res); r.err != nil {
		t.Error(r.err)
	}
}

// TestLambdaClose checks that Close promptly answers a runtime blocked on
// /next and fails a queued or taken invocation with ErrLambdaClosed, that
// later Invokes fail the same way, and that Close can be called again.
func TestLambdaClose(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		pending func(t *testing.T, l *Lambda) (wait func())
	}{
		{name: "blocked next", pending: func(t *testing.T, l *Lambda) func() {
			status := make(chan int, 1)
			go func() {
				resp, err := http.Get(runtimeClient{t, l}.url("/invocation/next"))
				if err != nil {
					status <- 0 // a closed connection is a prompt answer too
					return
				}
				resp.Body.Close()
				status <- resp.StatusCode
			}()
			time.Sleep(100 * time.Millisecond) // let it block
			return func() {
				select {
				case s := <-status:
					if s == http.StatusOK {
						t.Error("next answered 200 with no invocation queued")
					}
				case <-time.After(promptly):
					t.Error("next still blocked after Close")
				}
			}
		}},
		{name: "queued invocation", pending: func(t *testing.T, l *Lambda) func() {
			res := invokeAsync(t.Context(), l, `{}`)
			return func() { checkClosed(t, await(t, res).err) }
		}},
		{name: "taken invocation", pending: func(t *testing.T, l *Lambda) func() {
			res := invokeAsync(t.Context(), l, `{}`)
			runtimeClient{t, l}.next()
			return func() { checkClosed(t, await(t, res).err) }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, err := StartLambda("", "fn")
			if err != nil {
				t.Fatal(err)
			}
			wait := tt.pending(t, l)
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			wait()
			_, err = l.Invoke(t.Context(), []byte(`{}`))
			checkClosed(t, err)
			if err := l.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
		})
	}
}

func checkClosed(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, ErrLambdaClosed) {
		t.Errorf("Invoke: got %v, want ErrLambdaClosed", err)
	}
}

func TestStartLambda(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr, wantErr string
	}{
		{addr: ""},
		{addr: ":0"},
		{addr: "127.0.0.1:0"},
		{addr: "no-port", wantErr: "no-port"},
	}
	for _, tt := range tests {
		l, err := StartLambda(tt.addr, "")
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("StartLambda(%q): got %v, want an error naming %q", tt.addr, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("StartLambda(%q): %v", tt.addr, err)
		}
		if !strings.HasPrefix(l.Addr(), "127.0.0.1:") || strings.HasSuffix(l.Addr(), ":0") {
			t.Errorf("StartLambda(%q) listens on %s, want a loopback address with a port", tt.addr, l.Addr())
		}
		if !slices.Contains(l.Env(), "AWS_LAMBDA_RUNTIME_API="+l.Addr()) || !slices.Contains(l.Env(), "AWS_LAMBDA_FUNCTION_NAME=function") {
			t.Errorf("Env() = %q, want AWS_LAMBDA_RUNTIME_API=%s and AWS_LAMBDA_FUNCTION_NAME=function", l.Env(), l.Addr())
		}
		l.Close()
	}
}

func FuzzParseLambdaError(f *testing.F) {
	for _, s := range []string{
		`{"errorMessage":"m","errorType":"T","stackTrace":["a","b"]}`,
		`{"errorMessage":"m","stackTrace":[{"path":"p.go","line":1,"label":"f"}]}`,
		`{"stackTrace":{}}`, `segfault`, ``, `null`,
	} {
		f.Add([]byte(s), "Runtime.Crash")
	}
	f.Fuzz(func(t *testing.T, body []byte, typ string) {
		if e := parseLambdaError(body, typ); e.Type == "" {
			t.Errorf("parseLambdaError(%q, %q) has no type", body, typ)
		}
	})
}

// buildLambdafn builds testdata/lambdafn into a temporary directory.
func buildLambdafn(t *testing.T) string {
	t.Helper()
	gocmd, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to build testdata/lambdafn: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "lambdafn")
	cmd := exec.CommandContext(t.Context(), gocmd, "build", "-o", bin, "./testdata/lambdafn")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building testdata/lambdafn: %v\n%s", err, out)
	}
	return bin
}

// runLambdafn runs bin under a new emulator, closed when t ends.
func runLambdafn(t *testing.T, bin string, env ...string) *Lambda {
	t.Helper()
	l, err := RunLambda(t.Context(), bin, env...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// startLambda starts an emulator for a function "fn", closed when t ends.
func startLambda(t *testing.T) *Lambda {
	t.Helper()
	l, err := StartLambda("", "fn")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Error(err)
		}
	})
	return l
}

// invokeAsync runs Invoke in a goroutine.
func invokeAsync(ctx context.Context, l *Lambda, event string) <-chan invokeResult {
	res := make(chan invokeResult, 1)
	go func() {
		body, err := l.Invoke(ctx, []byte(event))
		res <- invokeResult{body, err}
	}()
	return res
}

// await waits for an invokeAsync result.
func await(t *testing.T, res <-chan invokeResult) invokeResult {
	t.Helper()
	select {
	case r := <-res:
		return r
	case <-time.After(promptly):
		t.Fatal("Invoke did not return")
		return invokeResult{}
	}
}

// checkLambdaError checks that err is a *LambdaError of want's Type whose
// Message contains want's.
func checkLambdaError(t *testing.T, err error, want *LambdaError) {
	t.Helper()
	var le *LambdaError
	if !errors.As(err, &le) {
		t.Fatalf("got %v, want a *LambdaError", err)
	}
	if le.Type != want.Type || !strings.Contains(le.Message, want.Message) {
		t.Errorf("got %s: %q, want %s: %q", le.Type, le.Message, want.Type, want.Message)
	}
}

// checkNextHeaders checks the headers of a /next answer.
func checkNextHeaders(t *testing.T, h http.Header, deadline time.Time) {
	t.Helper()
	if id := h.Get("Lambda-Runtime-Aws-Request-Id"); !uuidRE.MatchString(id) {
		t.Errorf("request ID %q, want a UUID", id)
	}
	if got, want := h.Get("Lambda-Runtime-Deadline-Ms"), strconv.FormatInt(deadline.UnixMilli(), 10); got != want {
		t.Errorf("deadline %s ms, want %s", got, want)
	}
	if got, want := h.Get("Lambda-Runtime-Invoked-Function-Arn"), "arn:aws:lambda:us-east-1:123456789012:function:fn"; got != want {
		t.Errorf("function ARN %q, want %q", got, want)
	}
	if got := h.Get("Lambda-Runtime-Trace-Id"); !strings.HasPrefix(got, "Root=1-") {
		t.Errorf("trace ID %q, want an X-Ray header", got)
	}
}

// checkAPIStatus checks a Runtime API answer's status and, for a refusal,
// the errorType of its JSON body.
func checkAPIStatus(t *testing.T, status int, body []byte, wantStatus int, wantType string) {
	t.Helper()
	if status != wantStatus {
		t.Errorf("status %d (%s), want %d", status, body, wantStatus)
		return
	}
	if wantType == "" {
		return
	}
	var doc struct {
		Message string `json:"errorMessage"`
		Type    string `json:"errorType"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.Type != wantType || doc.Message == "" {
		t.Errorf("body %s, want an error document of type %s", body, wantType)
	}
}

// runtimeClient speaks the Runtime API over plain HTTP, as a runtime does.
type runtimeClient struct {
	t *testing.T
	l *Lambda
}

func (c runtimeClient) url(path string) string {
	return "http://" + c.l.Addr() + "/2018-06-01/runtime" + path
}

// next takes the next invocation, failing the test unless it gets one.
func (c runtimeClient) next() (http.Header, []byte) {
	c.t.Helper()
	resp, err := http.Get(c.url("/invocation/next"))
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		c.t.Fatalf("next: status %d, %s, %v", resp.StatusCode, body, err)
	}
	return resp.Header, body
}

// post posts body to path with header and, if any, trailer (then chunked),
// and returns the status and body of the answer.
func (c runtimeClient) post(path string, body []byte, header, trailer http.Header) (int, []byte) {
	c.t.Helper()
	req, err := http.NewRequestWithContext(c.t.Context(), http.MethodPost, c.url(path), bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if trailer != nil {
		req.ContentLength, req.Trailer = -1, trailer
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp.StatusCode, answer
}
