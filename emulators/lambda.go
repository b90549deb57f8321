package emulators

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

const (
	// MaxLambdaPayload is the largest event Invoke sends and the largest
	// response or error body the emulator accepts from a runtime: 6 MiB,
	// Lambda's limit for synchronous invocations. A larger response is
	// answered 413 and fails its invocation with Function.ResponseSizeTooLarge.
	MaxLambdaPayload = 6 << 20

	// LambdaTimeout is the function timeout Invoke applies when its
	// context has no deadline.
	LambdaTimeout = 30 * time.Second
)

// ErrLambdaClosed is returned by Invoke once the emulator is closed.
var ErrLambdaClosed = errors.New("emulators: lambda emulator closed")

// Runtime API wire names (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html).
const (
	lambdaAPIPrefix       = "/2018-06-01/runtime"
	headerRequestID       = "Lambda-Runtime-Aws-Request-Id"
	headerDeadlineMS      = "Lambda-Runtime-Deadline-Ms"
	headerFunctionARN     = "Lambda-Runtime-Invoked-Function-Arn"
	headerTraceID         = "Lambda-Runtime-Trace-Id"
	headerErrorType       = "Lambda-Runtime-Function-Error-Type"
	trailerErrorBody      = "Lambda-Runtime-Function-Error-Body"
	lambdaRegion          = "us-east-1"
	lambdaAccount         = "123456789012"
	lambdaMemoryMB        = "128"
	responseTooLargeType  = "Function.ResponseSizeTooLarge"
	invalidRequestIDType  = "InvalidRequestID"
	entityTooLargeType    = "RequestEntityTooLarge"
	invalidTransitionType = "InvalidStateTransition"
	stoppedType           = "EmulatorStopped"
)

// Lambda is a local AWS Lambda Runtime API (version 2018-06-01): the HTTP
// API a Lambda runtime polls for events and answers. Point a runtime at it
// with the environment from Env, above all AWS_LAMBDA_RUNTIME_API; a Go
// function built with github.com/aws/aws-lambda-go runs its real
// lambda.Start loop against it, as in Lambda. RunLambda does both: it
// starts an emulator and a function binary as its child process.
//
// Invoke plays the Lambda service: it queues an event, the runtime takes
// it from GET /runtime/invocation/next, and its POST to
// /runtime/invocation/{id}/response or /error becomes Invoke's result.
// Invocations are handed out first come, first served, one per /next
// request, so a runtime that polls again only after answering runs them
// one at a time, and one polling from several goroutines (aws-lambda-go
// with AWS_LAMBDA_MAX_CONCURRENCY above 1) runs them concurrently. A
// runtime that reports POST /runtime/init/error before taking any
// invocation fails every pending and later Invoke with that error.
//
// The emulator keeps no state beyond its queue and never restarts a
// runtime: once the child of RunLambda exits, every pending and later
// Invoke fails with the exit status and the tail of the child's output.
// The extensions, telemetry and logs APIs are not emulated.
//
// Invoke, Addr, Env and Close are safe for concurrent use.
type Lambda struct {
	function  string
	addr      string
	logStream string
	srv       *http.Server
	queue     chan *invocation // unbuffered: handed from Invoke to /next
	dead      chan struct{}    // closed when err is set

	mu       sync.Mutex
	err      error                  // why the emulator stopped serving; set once
	inflight map[string]*invocation // handed to the runtime, not yet answered
	taken    bool                   // some invocation was handed to the runtime

	child  *exec.Cmd     // RunLambda's runtime process, or nil
	exited chan struct{} // closed once child has been waited for

	closeOnce sync.Once
	closeErr  error
}

// invocation is one queued Invoke.
type invocation struct {
	id       string
	event    []byte
	deadline time.Time
	done     chan invokeResult // buffered: the one answer
}

type invokeResult struct {
	body []byte
	err  error
}

// LambdaError is a function error, returned by Invoke when the runtime
// reported one: through /runtime/invocation/{id}/error (an error returned
// by the handler, or a recovered panic with its stack), through
// /runtime/init/error, or by answering with a response larger than
// MaxLambdaPayload (Type Function.ResponseSizeTooLarge).
type LambdaError struct {
	// Type is the errorType the runtime reported (aws-lambda-go reports
	// the Go type name of the handler's error, or of the panic value), else
	// the Lambda-Runtime-Function-Error-Type header, else "Unhandled".
	Type string
	// Message is the errorMessage, or the whole body if it is not JSON.
	Message string
	// StackTrace holds one line per frame, when the runtime sent any.
	StackTrace []string
}

func (e *LambdaError) Error() string {
	return "emulators: lambda function error: " + e.Type + ": " + e.Message
}

// StartLambda starts a Lambda Runtime API emulator for the function named
// function (empty means "function") on addr, a host:port; an empty host
// listens on 127.0.0.1, and port 0 (or an empty addr) picks a free port.
// Close stops it.
func StartLambda(addr, function string) (*Lambda, error) {
	laddr, err := loopback(addr)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", laddr)
	if err != nil {
		return nil, fmt.Errorf("emulators: starting the Lambda runtime API emulator on %s: %w", laddr, err)
	}
	if function == "" {
		function = "function"
	}
	l := &Lambda{
		function:  function,
		addr:      ln.Addr().String(),
		logStream: time.Now().UTC().Format("2006/01/02") + "/[$LATEST]" + randomHex(16),
		queue:     make(chan *invocation),
		dead:      make(chan struct{}),
		inflight:  make(map[string]*invocation),
	}
	l.srv = &http.Server{Handler: l.routes(), ReadHeaderTimeout: 10 * time.Second}
	go l.srv.Serve(ln) // returns http.ErrServerClosed after Close
	return l, nil
}

// RunLambda starts a Lambda Runtime API emulator on a free loopback port
// and the runtime binary at path as its child process, the function being
// named after the binary's file name. The child gets this process's
// environment, then Env, then env (KEY=value entries; later ones win),
// and its stdout and stderr are kept only to explain its exit.
//
// The child is killed when ctx is done or Close is called. When it exits,
// every pending and later Invoke fails with an error like
//
//	emulators: lambda runtime exited: exit status 1: <its last output lines>
func RunLambda(ctx context.Context, path string, env ...string) (*Lambda, error) {
	l, err := StartLambda("", filepath.Base(path))
	if err != nil {
		return nil, err
	}
	out := &tailWriter{}
	cmd := exec.CommandContext(ctx, path)
	cmd.Env = append(append(os.Environ(), l.Env()...), env...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		l.Close()
		return nil, fmt.Errorf("emulators: starting the lambda runtime %s: %w", path, err)
	}
	l.child, l.exited = cmd, make(chan struct{})
	go l.watch(cmd, out)
	return l, nil
}

// watch waits for the runtime child and fails the emulator when it exits.
func (l *Lambda) watch(cmd *exec.Cmd, out *tailWriter) {
	defer close(l.exited)
	err := cmd.Wait()
	if err == nil {
		err = errors.New("exit status 0")
	}
	l.fail(fmt.Errorf("emulators: lambda runtime exited: %w%s", err, out.suffix()))
}

// Addr returns the host:port the emulator listens on: the value of
// AWS_LAMBDA_RUNTIME_API for a runtime.
func (l *Lambda) Addr() string { return l.addr }

// Env returns the environment, as KEY=value entries, that Lambda gives a
// runtime and that aws-lambda-go reads: AWS_LAMBDA_RUNTIME_API (Addr),
// the function's name, version ($LATEST), memory size (128 MB) and log
// group and stream, AWS_REGION and AWS_DEFAULT_REGION (us-east-1),
// _HANDLER (the function name) and TZ (:UTC). It sets no credentials.
func (l *Lambda) Env() []string {
	return []string{
		"AWS_LAMBDA_RUNTIME_API=" + l.addr,
		"AWS_LAMBDA_FUNCTION_NAME=" + l.function,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + lambdaMemoryMB,
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + l.function,
		"AWS_LAMBDA_LOG_STREAM_NAME=" + l.logStream,
		"AWS_REGION=" + lambdaRegion,
		"AWS_DEFAULT_REGION=" + lambdaRegion,
		"_HANDLER=" + l.function,
		"TZ=:UTC",
	}
}

// Invoke invokes the function synchronously with event, a JSON document
// (empty means {}, as for the Invoke API), and waits for the runtime's
// answer. The function's deadline is ctx's, or LambdaTimeout from now if
// ctx has none; time spent queued behind other invocations counts.
//
// Invoke returns the response body; a *LambdaError if the function
// failed; an error wrapping ctx.Err() if the deadline passes or ctx is
// cancelled first (the runtime may still answer later; that answer is
// dropped); or, once the emulator has stopped, why: ErrLambdaClosed, the
// runtime's exit, or its init error. An event over MaxLambdaPayload is
// refused.
func (l *Lambda) Invoke(ctx context.Context, event []byte) ([]byte, error) {
	if len(event) > MaxLambdaPayload {
		return nil, fmt.Errorf("emulators: lambda event of %d bytes exceeds the %d-byte limit", len(event), MaxLambdaPayload)
	}
	if len(event) == 0 {
		event = []byte("{}")
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, LambdaTimeout)
		defer cancel()
	}
	deadline, _ := ctx.Deadline()
	inv := &invocation{id: newRequestID(), event: event, deadline: deadline, done: make(chan invokeResult, 1)}
	select {
	case l.queue <- inv:
	case <-l.dead:
		return nil, l.stopErr()
	case <-ctx.Done():
		return nil, fmt.Errorf("emulators: lambda invocation %s not taken by the runtime: %w", inv.id, ctx.Err())
	}
	select {
	case r := <-inv.done:
		return r.body, r.err
	case <-l.dead:
	case <-ctx.Done():
	}
	select { // an answer that raced the failure wins
	case r := <-inv.done:
		return r.body, r.err
	default:
	}
	if err := l.stopErr(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("emulators: lambda invocation %s: %w", inv.id, ctx.Err())
}

// Close stops the emulator: it kills RunLambda's child, fails pending
// Invokes with ErrLambdaClosed, answers a pending /next with 500 and shuts
// the server down. It is safe to call more than once.
func (l *Lambda) Close() error {
	l.closeOnce.Do(func() {
		l.fail(ErrLambdaClosed)
		if l.child != nil {
			_ = l.child.Process.Kill() // fails only if it has exited already
			<-l.exited
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := l.srv.Shutdown(ctx); err != nil {
			l.srv.Close()
			l.closeErr = fmt.Errorf("emulators: stopping the lambda emulator: %w", err)
		}
	})
	return l.closeErr
}

// fail stops serving invocations with err, unless already stopped.
func (l *Lambda) fail(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err == nil {
		l.err = err
		close(l.dead)
	}
}

// stopErr returns why the emulator stopped, or nil.
func (l *Lambda) stopErr() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

func (l *Lambda) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+lambdaAPIPrefix+"/invocation/next", l.next)
	mux.HandleFunc("POST "+lambdaAPIPrefix+"/invocation/{id}/response", l.response)
	mux.HandleFunc("POST "+lambdaAPIPrefix+"/invocation/{id}/error", l.invocationError)
	mux.HandleFunc("POST "+lambdaAPIPrefix+"/init/error", l.initError)
	return mux
}

// next serves GET /runtime/invocation/next: it blocks until an invocation
// is queued and answers 200 with its event, or 500 once stopped.
func (l *Lambda) next(w http.ResponseWriter, r *http.Request) {
	select {
	case inv := <-l.queue:
		l.mu.Lock()
		l.inflight[inv.id] = inv
		l.taken = true
		l.mu.Unlock()
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set(headerRequestID, inv.id)
		h.Set(headerDeadlineMS, strconv.FormatInt(inv.deadline.UnixMilli(), 10))
		h.Set(headerFunctionARN, "arn:aws:lambda:"+lambdaRegion+":"+lambdaAccount+":function:"+l.function)
		h.Set(headerTraceID, newTraceID())
		w.Write(inv.event) // a runtime that hangs up loses the invocation to its deadline
	case <-l.dead:
		writeAPIError(w, http.StatusInternalServerError, stoppedType, l.stopErr().Error())
	case <-r.Context().Done():
	}
}

// response serves POST /runtime/invocation/{id}/response.
func (l *Lambda) response(w http.ResponseWriter, r *http.Request) {
	inv, ok := l.take(w, r)
	if !ok {
		return
	}
	body, ok := readPayload(w, r, inv)
	if !ok {
		return
	}
	if typ := r.Trailer.Get(headerErrorType); typ != "" {
		// aws-lambda-go reports a response it failed to stream in trailers.
		raw, _ := base64.StdEncoding.DecodeString(r.Trailer.Get(trailerErrorBody))
		inv.done <- invokeResult{err: parseLambdaError(raw, typ)}
	} else {
		inv.done <- invokeResult{body: body}
	}
	writeAccepted(w)
}

// invocationError serves POST /runtime/invocation/{id}/error.
func (l *Lambda) invocationError(w http.ResponseWriter, r *http.Request) {
	inv, ok := l.take(w, r)
	if !ok {
		return
	}
	body, ok := readPayload(w, r, inv)
	if !ok {
		return
	}
	inv.done <- invokeResult{err: parseLambdaError(body, r.Header.Get(headerErrorType))}
	writeAccepted(w)
}

// initError serves POST /runtime/init/error: accepted (and fatal) only
// before the runtime has taken an invocation, as in Lambda.
func (l *Lambda) initError(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	taken := l.taken
	l.mu.Unlock()
	if taken {
		writeAPIError(w, http.StatusForbidden, invalidTransitionType, "init error reported after an invocation")
		return
	}
	body, _, err := readAll(r.Body)
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, "TruncatedHTTPRequest", err.Error())
		return
	}
	l.fail(parseLambdaError(body, r.Header.Get(headerErrorType)))
	writeAccepted(w)
}

// take removes the invocation named in the path from those in flight, or
// answers 400 InvalidRequestID: unknown, or already answered.
func (l *Lambda) take(w http.ResponseWriter, r *http.Request) (*invocation, bool) {
	id := r.PathValue("id")
	l.mu.Lock()
	inv, ok := l.inflight[id]
	delete(l.inflight, id)
	l.mu.Unlock()
	if !ok {
		writeAPIError(w, http.StatusBadRequest, invalidRequestIDType, "Invalid request ID")
	}
	return inv, ok
}

// readPayload reads an answer's body. A body that cannot be read or is
// over MaxLambdaPayload fails inv and is answered 400 or 413.
func readPayload(w http.ResponseWriter, r *http.Request, inv *invocation) ([]byte, bool) {
	body, size, err := readAll(r.Body)
	switch {
	case err != nil:
		inv.done <- invokeResult{err: fmt.Errorf("emulators: reading the lambda runtime's answer: %w", err)}
		writeAPIError(w, http.StatusBadRequest, "TruncatedHTTPRequest", err.Error())
		return nil, false
	case size > MaxLambdaPayload:
		inv.done <- invokeResult{err: &LambdaError{Type: responseTooLargeType,
			Message: fmt.Sprintf("Response payload size (%d bytes) exceeded maximum allowed payload size (%d bytes).", size, MaxLambdaPayload)}}
		writeAPIError(w, http.StatusRequestEntityTooLarge, entityTooLargeType,
			fmt.Sprintf("Exceeded maximum allowed payload size (%d bytes).", MaxLambdaPayload))
		return nil, false
	}
	return body, true
}

// readAll reads up to MaxLambdaPayload bytes of r and drains the rest, so
// the runtime sees the status rather than a reset connection. It returns
// the bytes read and the full size.
func readAll(r io.Reader) ([]byte, int64, error) {
	body, err := io.ReadAll(io.LimitReader(r, MaxLambdaPayload+1))
	if err != nil || len(body) <= MaxLambdaPayload {
		return body, int64(len(body)), err
	}
	rest, err := io.Copy(io.Discard, r)
	return nil, int64(len(body)) + rest, err
}

// parseLambdaError decodes an error body, {"errorMessage", "errorType",
// "stackTrace"}, falling back to typ for the type.
func parseLambdaError(body []byte, typ string) *LambdaError {
	var wire struct {
		Message    string          `json:"errorMessage"`
		Type       string          `json:"errorType"`
		StackTrace json.RawMessage `json:"stackTrace"`
	}
	e := &LambdaError{Type: typ}
	if err := json.Unmarshal(body, &wire); err != nil {
		e.Message = string(body)
	} else {
		e.Message, e.StackTrace = wire.Message, stackLines(wire.StackTrace)
		if wire.Type != "" {
			e.Type = wire.Type
		}
	}
	if e.Type == "" {
		e.Type = "Unhandled"
	}
	return e
}

// stackLines reads a stack trace as runtimes send it: lines of text
// (Node.js, Python) or aws-lambda-go's {"path", "line", "label"} frames,
// shown as "path:line label".
func stackLines(raw json.RawMessage) []string {
	var texts []string
	if json.Unmarshal(raw, &texts) == nil {
		return texts
	}
	var frames []struct {
		Path  string `json:"path"`
		Line  int    `json:"line"`
		Label string `json:"label"`
	}
	if json.Unmarshal(raw, &frames) != nil {
		return nil
	}
	var lines []string
	for _, f := range frames {
		lines = append(lines, fmt.Sprintf("%s:%d %s", f.Path, f.Line, f.Label))
	}
	return lines
}

func writeAccepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	io.WriteString(w, `{"status":"OK"}`)
}

// writeAPIError answers with the Runtime API's error document.
func writeAPIError(w http.ResponseWriter, status int, typ, msg string) {
	body, _ := json.Marshal(struct {
		Message string `json:"errorMessage"`
		Type    string `json:"errorType"`
	}{msg, typ})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

// newRequestID returns a random version 4 UUID, as Lambda's request IDs are.
func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// newTraceID returns an X-Ray trace header for an unsampled trace.
func newTraceID() string {
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0", time.Now().Unix(), randomHex(12), randomHex(8))
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// tailWriter keeps the last tailSize bytes written to it.
type tailWriter struct {
	mu  sync.Mutex
	buf []byte
}

const tailSize = 2048

func (t *tailWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > tailSize {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-tailSize:]...)
	}
	return len(p), nil
}

// suffix returns ": " and the last whole lines written, or "" if none.
func (t *tailWriter) suffix() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := t.buf
	if len(out) == tailSize {
		if i := bytes.IndexByte(out, '\n'); i >= 0 {
			out = out[i+1:]
		}
	}
	out = bytes.TrimSpace(out)
	if len(out) == 0 {
		return ""
	}
	return ": " + string(out)
}
