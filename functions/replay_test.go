package functions

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/fenestra-dev/fenestra/conformance"
	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// A replay serves the requests of a feature script or a conformance case
// through a transport (HTTP or one of the Lambda payloads), with history
// in the Bigtable emulator, and holds every answer to the batch
// evaluator's row for the same request, compared in their encoding (so bit
// for bit). It mirrors how conformance runs request mode: the other
// tables are stored first, then each request row is sent in order and,
// unless the rows are batch_request rows, stored after its answer
// (request-then-insert).
type replay struct {
	mod      *featurelang.Module // the tables, and the view (named)
	view     *plan.Plan
	stored   map[string]*types.Block // stored before the requests
	requests *types.Block            // rows of the view's request table
	insert   bool                    // store each request row after its answer
}

// expected returns the batch evaluator's answer to each request,
// encoded: the request row appended to the rows stored before it, the
// batch output row computed for it ("null" when a WHERE drops it).
func (rp *replay) expected(t testing.TB) []string {
	t.Helper()
	ev, err := eval.New(rp.view)
	if err != nil {
		t.Fatal(err)
	}
	req := rp.view.RequestTable
	out := make([]string, rp.requests.Len)
	for i := range out {
		tables := map[string]*types.Block{}
		for name, b := range rp.stored {
			tables[name] = b
		}
		rows := []int{i}
		if rp.insert {
			rows = seqTo(i + 1)
		}
		base := rp.stored[req]
		if base == nil {
			base = types.NewBlock(rp.requests.Schema, 0)
		}
		tables[req] = types.Concat(base, rp.requests.Gather(rows))
		res, origins, err := ev.BatchRows(context.Background(), tables)
		if err != nil {
			t.Fatalf("batch for request %d: %v", i, err)
		}
		out[i] = "null"
		if k := slices.Index(origins, tables[req].Len-1); k >= 0 {
			out[i] = string(appendRow(nil, res.Row(k, nil)))
		}
	}
	return out
}

func seqTo(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// inProcess returns the in-process evaluator's request-mode answers over
// an eval.MemSource, encoded.
func (rp *replay) inProcess(t testing.TB) []string {
	t.Helper()
	ctx := context.Background()
	ev, err := eval.New(rp.view)
	if err != nil {
		t.Fatal(err)
	}
	src := eval.NewMemSource()
	for _, tb := range rp.mod.Tables {
		src.Create(tb.Name, tb.Schema)
		if b := rp.stored[tb.Name]; b != nil {
			if err := src.Insert(tb.Name, b.Rows()...); err != nil {
				t.Fatal(err)
			}
		}
	}
	out := make([]string, rp.requests.Len)
	for i := range out {
		row := rp.requests.Row(i, nil)
		res, err := ev.Request(ctx, row, src)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		out[i] = string(appendRow(nil, res))
		if rp.insert {
			if err := src.Insert(rp.view.RequestTable, row); err != nil {
				t.Fatal(err)
			}
		}
	}
	return out
}

// run replays the requests through tr against a fresh store on the
// emulator at addr, and compares the answers with want.
func (rp *replay) run(t *testing.T, addr string, tr transport, want []string) {
	t.Helper()
	svc, err := New(rp.mod, bigtableStore(t, addr, rp.mod), Options{})
	if err != nil {
		t.Fatal(err)
	}
	env := newEnv(t, NewServer(svc, ServerOptions{}))
	names := make([]string, 0, len(rp.stored))
	for name := range rp.stored {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		ingestRows(t, env, tr, name, rp.stored[name], 0, rp.stored[name].Len)
	}
	path := "/v1/views/" + rp.view.Name + ":compute"
	for i := 0; i < rp.requests.Len; i++ {
		body := append([]byte(`{"rows":[`), appendRow(nil, rp.requests.Row(i, nil))...)
		if rp.insert && tr.store {
			body = append(body, `],"store":true}`...)
		} else {
			body = append(body, `]}`...)
		}
		resp := tr.send(t, env, http.MethodPost, path, body)
		if resp.status != http.StatusOK {
			t.Fatalf("request %d: status %d: %s", i, resp.status, resp.body)
		}
		var got struct{ Rows []json.RawMessage }
		if err := json.Unmarshal(resp.body, &got); err != nil || len(got.Rows) != 1 {
			t.Fatalf("request %d: response %s (%v)", i, resp.body, err)
		}
		if string(got.Rows[0]) != want[i] {
			t.Errorf("request %d (%s): got %s, batch gives %s", i, body, got.Rows[0], want[i])
		}
		if rp.insert && !tr.store {
			ingestRows(t, env, tr, rp.view.RequestTable, rp.requests, i, i+1)
		}
	}
}

// ingestRows stores rows [from, to) of b in table through tr, 500 at a
// time.
func ingestRows(t *testing.T, env *env, tr transport, table string, b *types.Block, from, to int) {
	t.Helper()
	for start := from; start < to; start += 500 {
		body := []byte(`{"rows":[`)
		for i := start; i < min(to, start+500); i++ {
			if i > start {
				body = append(body, ',')
			}
			body = appendRow(body, b.Row(i, nil))
		}
		body = append(body, "]}"...)
		if resp := tr.send(t, env, http.MethodPut, "/v1/tables/"+table+"/rows", body); resp.status != http.StatusOK {
			t.Fatalf("storing rows of %s: status %d: %s", table, resp.status, resp.body)
		}
	}
}

// env is a server and its adapters.
type env struct {
	srv    *Server
	http   *httptest.Server
	lambda *Lambda
}

func newEnv(t testing.TB, srv *Server) *env {
	e := &env{srv: srv, http: httptest.NewServer(srv), lambda: newLambda(t, srv, LambdaOptions{})}
	t.Cleanup(e.http.Close)
	return e
}

// transport sends a request to an env one way.
type transport struct {
	name string
	// store says request rows are stored by the compute call itself
	// ("store": true) rather than by an ingestion request after it.
	store bool
	send  func(t testing.TB, e *env, method, path string, body []byte) response
}

var transports = []transport{
	{name: "http", store: true, send: func(t testing.TB, e *env, method, path string, body []byte) response {
		return send(t, e.http.Client(), e.http.URL, method, path, body, "Content-Type", "application/json")
	}},
	{name: "lambda_rest", store: false, send: sendRESTEvent},
	{name: "lambda_http", store: true, send: sendHTTPEvent},
	{name: "lambda_direct", store: true, send: sendDirect},
}

// lambdaRoundTrip passes a payload and the answer through JSON, as the
// Lambda runtime does.
func lambdaRoundTrip(t testing.TB, l *Lambda, event, answer any) error {
	t.Helper()
	payload, err := json.Marshal(event)
	if err != nil {
		t.Fatal(err)
	}
	out, err := l.Handle(context.Background(), payload)
	if err != nil {
		return err
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, answer); err != nil {
		t.Fatal(err)
	}
	return nil
}

// sendRESTEvent sends a REST API (payload 1.0) proxy event, its body in
// base64.
func sendRESTEvent(t testing.TB, e *env, method, path string, body []byte) response {
	t.Helper()
	u, _ := url.Parse(path)
	ev := events.APIGatewayProxyRequest{HTTPMethod: method, Path: u.Path, Resource: "/{proxy+}",
		Headers: map[string]string{"Content-Type": "application/json"},
		Body:    base64.StdEncoding.EncodeToString(body), IsBase64Encoded: true,
		RequestContext:        events.APIGatewayProxyRequestContext{RequestID: "rest-1", Stage: "prod"},
		QueryStringParameters: map[string]string{},
	}
	for k, v := range u.Query() {
		ev.QueryStringParameters[k] = v[0]
	}
	var resp events.APIGatewayProxyResponse
	if err := lambdaRoundTrip(t, e.lambda, ev, &resp); err != nil {
		t.Fatalf("REST event: %v", err)
	}
	return proxyResponse(t, resp.StatusCode, resp.Body, resp.IsBase64Encoded, http.Header(resp.MultiValueHeaders))
}

// sendHTTPEvent sends an HTTP API (payload 2.0) event on a named stage.
func sendHTTPEvent(t testing.TB, e *env, method, path string, body []byte) response {
	t.Helper()
	raw, query, _ := strings.Cut(path, "?")
	ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "$default", RawPath: "/prod" + raw, RawQueryString: query,
		Headers: map[string]string{"content-type": "application/json"}, Body: string(body),
		RequestContext: events.APIGatewayV2HTTPRequestContext{Stage: "prod", RequestID: "http-1",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: "/prod" + raw}},
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := lambdaRoundTrip(t, e.lambda, ev, &resp); err != nil {
		t.Fatalf("HTTP API event: %v", err)
	}
	h := http.Header{}
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	return proxyResponse(t, resp.StatusCode, resp.Body, resp.IsBase64Encoded, h)
}

func proxyResponse(t testing.TB, status int, body string, b64 bool, h http.Header) response {
	t.Helper()
	b := []byte(body)
	if b64 {
		var err error
		if b, err = base64.StdEncoding.DecodeString(body); err != nil {
			t.Fatal(err)
		}
	}
	return response{status: status, header: h, body: b}
}

// sendDirect turns a compute or ingestion request into a direct
// invocation payload: the body with "view" or "table" added.
func sendDirect(t testing.TB, e *env, method, path string, body []byte) response {
	t.Helper()
	var member string
	switch {
	case method == http.MethodPost && strings.HasPrefix(path, "/v1/views/") && strings.HasSuffix(path, ":compute"):
		member = `{"view":` + string(appendJSONString(nil, strings.TrimSuffix(strings.TrimPrefix(path, "/v1/views/"), ":compute"))) + ","
	case method == http.MethodPut && strings.HasPrefix(path, "/v1/tables/") && strings.HasSuffix(path, "/rows"):
		member = `{"table":` + string(appendJSONString(nil, strings.TrimSuffix(strings.TrimPrefix(path, "/v1/tables/"), "/rows"))) + ","
	default:
		t.Fatalf("no direct invocation for %s %s", method, path)
	}
	payload := append([]byte(member), bytes.TrimPrefix(bytes.TrimSpace(body), []byte("{"))...)
	out, err := e.lambda.Handle(context.Background(), payload)
	var ie *InvokeError
	if errors.As(err, &ie) {
		return response{status: ie.Status, body: []byte(ie.Error())}
	}
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: http.StatusOK, body: b}
}

// scriptReplays returns a replay per view of each feature script that
// compiles.
func scriptReplays(t testing.TB, pattern string) map[string]*replay {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no feature scripts match %s (%v)", pattern, err)
	}
	out := map[string]*replay{}
	for _, f := range files {
		mod, tables, err := conformance.LoadScript(f)
		if err != nil {
			continue // a script of expected compile errors
		}
		base := strings.TrimSuffix(filepath.Base(f), ".txt")
		for k, v := range mod.Views {
			if v.BatchOnly() != "" {
				continue // request mode refuses it (eval.ErrBatchOnly)
			}
			p := *v
			if p.Name == "" {
				p.Name = "query" + string(rune('0'+k))
			}
			rp := &replay{mod: &featurelang.Module{Tables: mod.Tables, Views: []*plan.Plan{&p}}, view: &p,
				stored: map[string]*types.Block{}, requests: tables[p.RequestTable], insert: true}
			for name, b := range tables {
				if name != p.RequestTable && b.Len > 0 {
					rp.stored[name] = b
				}
			}
			out[base+"/"+p.Name] = rp
		}
	}
	return out
}

// TestReplayFeatureScripts replays the project's feature scripts through
// HTTP and the three Lambda payloads, history in the Bigtable emulator:
// every answer is the batch evaluator's row.
func TestReplayFeatureScripts(t *testing.T) {
	t.Parallel()
	addr := startEmulator(t)
	replays := scriptReplays(t, "../testdata/features/*.txt")
	for _, name := range slices.Sorted(maps.Keys(replays)) {
		rp := replays[name]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			want := rp.expected(t)
			for _, tr := range transports {
				t.Run(tr.name, func(t *testing.T) { rp.run(t, addr, tr, want) })
			}
		})
	}
}

// caseReplay returns the replay of a conformance case in request mode, or
// "" and why it cannot be replayed here.
func caseReplay(c *conformance.Case) (*replay, string) {
	p, blocks, err := c.BatchInput()
	if err != nil {
		return nil, "does not compile"
	}
	if len(c.Inputs) == 0 || p.RequestTable != plan.Qualify(c.Inputs[0].DB, c.Inputs[0].Name) {
		return nil, "requests are not rows of the first table"
	}
	mod := &featurelang.Module{}
	for _, in := range c.Inputs {
		tb, err := in.Table()
		if err != nil {
			return nil, err.Error()
		}
		if len(tb.Indexes) == 0 && len(tb.Schema) > 0 {
			// A Bigtable store holds rows under indexes. Without a TTL an
			// index changes no result (reads no index serves scan the
			// first one), so any will do: one on the first column.
			tb.Indexes = []*plan.Index{{Name: "default", Keys: []string{tb.Schema[0].Name}}}
		}
		mod.Tables = append(mod.Tables, tb)
	}
	q := *p
	q.Name = "q"
	mod.Views = []*plan.Plan{&q}
	rp := &replay{mod: mod, view: &q, stored: map[string]*types.Block{}, insert: c.BatchRequest == nil}
	for name, b := range blocks {
		if b.Len > 0 && (name != p.RequestTable || !rp.insert) {
			rp.stored[name] = b
		}
	}
	rp.requests = blocks[p.RequestTable]
	if !rp.insert {
		if rp.requests, err = c.BatchRequest.Block(mod.Tables[0].Schema); err != nil {
			return nil, err.Error()
		}
	}
	return rp, ""
}

// TestReplayConformance replays the OpenMLDB conformance cases that run
// in request mode — the window categories (window, window_union,
// long_window, last_join_window) and all the others — through HTTP and
// the Lambda payloads, history in the Bigtable emulator, and holds every
// answer to the batch evaluator's. Cases the in-process evaluator itself
// answers differently in request and batch mode (evaluator matters, not
// host ones) and cases one store cannot hold are skipped and counted.
// The cases live in ../shared; without them the test logs and passes.
func TestReplayConformance(t *testing.T) {
	t.Parallel()
	path, err := conformance.SharedCases()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Logf("conformance cases not found at %s: skipping the conformance replay", path)
		return
	}
	cases, err := conformance.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	addr := startEmulator(t)
	trs := transports
	if testing.Short() {
		trs = transports[:1]
	}
	skipped := map[string]int{}
	replayed, windows := 0, 0
	for _, c := range cases {
		if !c.Runnable(conformance.Request) {
			continue
		}
		rp, why := caseReplay(c)
		if rp == nil {
			skipped[why]++
			continue
		}
		want := rp.expected(t)
		if got := rp.inProcess(t); !slices.Equal(got, want) {
			skipped["the in-process evaluator's request mode differs from batch mode"]++
			continue
		}
		replayed++
		if strings.Contains(c.Category, "window") {
			windows++
		}
		t.Run(c.ID, func(t *testing.T) {
			t.Parallel()
			for _, tr := range trs {
				t.Run(tr.name, func(t *testing.T) { rp.run(t, addr, tr, want) })
			}
		})
	}
	t.Logf("replayed %d cases (%d of the window categories) through %d transports; skipped %v", replayed, windows, len(trs), skipped)
}
