package functions

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// lambdaCase is a Lambda payload and what its answer must hold.
type lambdaCase struct {
	name    string
	payload string
	status  int
	field   string   // of an *InvokeError
	has     []string // substrings of the answer's body (or of the error)
	b64     bool     // the answer's body is base64
}

func restEvent(method, path, body string, b64 bool, header map[string]string) string {
	ev := events.APIGatewayProxyRequest{HTTPMethod: method, Path: path, Body: body, IsBase64Encoded: b64, Headers: header,
		RequestContext: events.APIGatewayProxyRequestContext{RequestID: "rest-id"}}
	if b64 {
		ev.Body = base64.StdEncoding.EncodeToString([]byte(body))
	}
	b, _ := json.Marshal(ev)
	return string(b)
}

func httpEvent(method, stage, path, query, body string, b64 bool, header map[string]string) string {
	ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: path, RawQueryString: query, Body: body, IsBase64Encoded: b64, Headers: header,
		RequestContext: events.APIGatewayV2HTTPRequestContext{Stage: stage, RequestID: "http-id",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path}}}
	if b64 {
		ev.Body = base64.StdEncoding.EncodeToString([]byte(body))
	}
	b, _ := json.Marshal(ev)
	return string(b)
}

// TestLambdaPayloads sends each kind of payload to Handle.
func TestLambdaPayloads(t *testing.T) {
	t.Parallel()
	srv, _ := txServer(t, Options{}, ServerOptions{})
	l := newLambda(t, srv, LambdaOptions{})
	row := txRow(1, "c1", 10, t0)
	compute := `{"rows": [` + row + `]}`
	for _, c := range []lambdaCase{
		{name: "REST event", payload: restEvent("POST", "/v1/views/features:compute", compute, false, nil), status: 200, has: []string{`"rows":[[1,10,1,10]]`}},
		{name: "REST event, base64 body", payload: restEvent("POST", "/v1/views/features:compute", compute, true, nil), status: 200, has: []string{`"rows":[[1,10,1,10]]`}},
		{name: "REST event, unknown route", payload: restEvent("GET", "/nowhere", "", false, nil), status: 404, has: []string{`"request_id":"rest-id"`}},
		{name: "REST event, bad row", payload: restEvent("POST", "/v1/views/features:compute", `{"rows": [[1]]}`, false, nil), status: 400, has: []string{`"field":"rows[0]"`}},
		{name: "HTTP API event, named stage", payload: httpEvent("POST", "prod", "/prod/v1/views/features:compute", "", compute, false, nil), status: 200, has: []string{`"rows":[[1,10,1,10]]`}},
		{name: "HTTP API event, default stage", payload: httpEvent("POST", "$default", "/v1/views/features:compute", "", compute, true, nil), status: 200, has: []string{`"rows":[[1,10,1,10]]`}},
		{name: "HTTP API event, escaped colon", payload: httpEvent("POST", "$default", "/v1/views/features%3Acompute", "", compute, false, nil), status: 200, has: []string{`"rows":[[1,10,1,10]]`}},
		{name: "HTTP API event, list", payload: httpEvent("GET", "$default", "/v1/views", "x=1", "", false, nil), status: 200, has: []string{`"name":"features"`}},
		{name: "HTTP API event, metrics as text", payload: httpEvent("GET", "$default", "/metrics", "", "", false, nil), status: 200, has: []string{`fenestra_requests_total`}},
		{name: "direct compute", payload: `{"view": "features", "rows": [` + row + `]}`, status: 200, has: []string{`"rows":[[1,10,1,10]]`}},
		{name: "direct compute and store", payload: `{"rows": [` + row + `], "store": true, "view": "features"}`, status: 200, has: []string{`"rows":[[1,10,1,10]]`}},
		{name: "direct sees the stored row", payload: `{"view": "features", "rows": [` + txRow(2, "c1", 1, t0+1) + `]}`, status: 200, has: []string{`"rows":[[2,11,2,10]]`}},
		{name: "direct ingest", payload: `{"table": "tx", "rows": [` + row + `]}`, status: 200, has: []string{`{"table":"tx","rows":1}`}},
		{name: "direct unknown view", payload: `{"view": "nope", "rows": []}`, status: 404, has: []string{`404 Not Found`, `no view named "nope"`}},
		{name: "direct bad row", payload: `{"view": "features", "rows": [{"tx_id": "x"}]}`, status: 400, field: "rows[0].tx_id", has: []string{`cannot read "x" as int64`}},
		{name: "direct view and table", payload: `{"view": "features", "table": "tx", "rows": []}`, status: 400, has: []string{`either "view"`}},
		{name: "direct neither", payload: `{"rows": []}`, status: 400, has: []string{`either "view"`}},
		{name: "direct store for a table", payload: `{"table": "tx", "rows": [], "store": true}`, status: 400, field: "store"},
		{name: "direct unknown member", payload: `{"view": "features", "rows": [], "x": 1}`, status: 400, field: "x"},
		{name: "not JSON", payload: `{"view": `, status: 400, has: []string{"not a JSON object"}},
		{name: "a JSON array", payload: `[1]`, status: 400, has: []string{"not a JSON object"}},
	} {
		out, err := l.Handle(context.Background(), json.RawMessage(c.payload))
		status, body, b64 := 200, "", false
		var ie *InvokeError
		switch {
		case errors.As(err, &ie):
			status, body = ie.Status, ie.Error()
			if ie.Field != c.field {
				t.Errorf("%s: field %q, want %q", c.name, ie.Field, c.field)
			}
		case err != nil:
			t.Errorf("%s: %v", c.name, err)
			continue
		default:
			b, _ := json.Marshal(out)
			var resp struct {
				StatusCode      int
				Body            string
				IsBase64Encoded bool
			}
			if json.Unmarshal(b, &resp); resp.StatusCode != 0 {
				status, body, b64 = resp.StatusCode, resp.Body, resp.IsBase64Encoded
			} else {
				body = string(b)
			}
		}
		if status != c.status || b64 != c.b64 {
			t.Errorf("%s: status %d (base64 %v), want %d: %s", c.name, status, b64, c.status, body)
			continue
		}
		for _, s := range c.has {
			if !strings.Contains(body, s) {
				t.Errorf("%s: answer %s lacks %s", c.name, body, s)
			}
		}
	}
}

// TestLambdaAuth: proxy events carry the bearer token like HTTP requests;
// direct invocations, which IAM authorizes, need none.
func TestLambdaAuth(t *testing.T) {
	t.Parallel()
	srv, _ := txServer(t, Options{}, ServerOptions{AuthToken: "tok"})
	l := newLambda(t, srv, LambdaOptions{})
	compute := `{"rows": [` + txRow(1, "c1", 10, t0) + `]}`
	for _, c := range []struct {
		name    string
		payload string
		status  int
	}{
		{"REST without token", restEvent("POST", "/v1/views/features:compute", compute, false, nil), 401},
		{"REST with token", restEvent("POST", "/v1/views/features:compute", compute, false, map[string]string{"Authorization": "Bearer tok"}), 200},
		{"HTTP API without token", httpEvent("POST", "$default", "/v1/views/features:compute", "", compute, false, nil), 401},
		{"HTTP API with token", httpEvent("POST", "$default", "/v1/views/features:compute", "", compute, false, map[string]string{"authorization": "Bearer tok"}), 200},
		{"direct", `{"view": "features", "rows": []}`, 200},
	} {
		out, err := l.Handle(context.Background(), json.RawMessage(c.payload))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		b, _ := json.Marshal(out)
		var resp struct{ StatusCode int }
		json.Unmarshal(b, &resp)
		if resp.StatusCode == 0 {
			resp.StatusCode = 200 // a direct invocation's answer
		}
		if resp.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d", c.name, resp.StatusCode, c.status)
		}
	}
}
