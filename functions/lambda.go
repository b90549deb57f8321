package functions

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Lambda is the AWS Lambda adapter of a Server. Its Handle method is what
// a Lambda's main passes to lambda.Start; it takes four payloads:
//
//   - API Gateway REST API proxy events (payload format 1.0,
//     events.APIGatewayProxyRequest), answered with
//     events.APIGatewayProxyResponse;
//   - API Gateway HTTP API events (payload format 2.0, "version": "2.0",
//     events.APIGatewayV2HTTPRequest), answered with
//     events.APIGatewayV2HTTPResponse;
//   - Kafka events of an event source mapping, Amazon MSK ("eventSource":
//     "aws:kafka") or self-managed Kafka ("SelfManagedKafka"),
//     events.KafkaEvent: their records are rows to ingest, of the tables
//     LambdaOptions.Topics maps their topics to, answered with a summary
//     (see below);
//   - direct invocation (the SDK's Invoke, a Lambda function URL is an
//     HTTP API event) with a JSON body of its own, {"view": name, "rows":
//     [...], "store": bool} to compute — answered with the body of the HTTP
//     compute route — or {"table": name, "rows": [...]} to ingest rows,
//     answered {"table": name, "rows": n}. Failures are returned as an
//     *InvokeError, which Lambda reports as the invocation's error.
//
// Proxy events go through the Server's http.Handler, routes, limits,
// authentication and all, so a Lambda behind API Gateway answers exactly
// as the HTTP service does. Direct invocations skip authentication (IAM
// authorizes them) but not the body limit. A Lambda is safe for
// concurrent use.
//
// A Kafka event holds a batch of records, grouped by topic and partition.
// Each record's value (base64 in the event) is one row of the table its
// topic is mapped to, decoded by records.Decoder exactly as the streaming
// pipeline decodes it, and numbered records.Seq(partition, offset): a
// record delivered twice — in one batch, in a retried batch, or to both
// the pipeline and the Lambda — lands on the same stored row. The rows of
// a table are written once per invocation, under the service's timeout.
// The answer is {"records": n, "rows": {"table": n, ...}, "bad": n}: the
// records of the event, the rows written per table (a record delivered
// twice counts twice; storage keeps one), the records skipped. The rows
// written are counted in fenestra_records_ingested_total{table}.
//
// A bad record — a value that is not base64, not a JSON row of its
// table's columns, a partition or offset records.Seq cannot number, a
// topic mapped to no table — follows LambdaOptions.BadRecords. Under
// records.Fail, the invocation fails with an *InvokeError (status 400)
// naming the record's topic, partition and offset, and stores nothing, so
// Lambda retries the batch, as the event source mapping's retry settings
// and on-failure destination say. Under records.Skip the record is counted
// in fenestra_records_bad_total{topic, reason} (reason is one of
// unknown_table, range, base64, value and column: a column missing,
// unknown, repeated or of the wrong type), logged at warning level, and
// the rest are stored. A storage failure fails the invocation; tables
// written before it are written again by the retry, which is harmless.
// Kafka events are not subject to the body limit: Lambda bounds their
// batches (6 MB).
type Lambda struct {
	srv   *Server
	kafka *kafkaTrigger
}

// NewLambda returns the Lambda adapter of srv. It refuses options that
// cannot work: a topic mapped to a table the feature file does not create,
// two topics mapped to one table, a bad-records policy other than
// records.Fail or records.Skip.
func NewLambda(srv *Server, opts LambdaOptions) (*Lambda, error) {
	k, err := newKafkaTrigger(srv.svc, opts)
	if err != nil {
		return nil, err
	}
	return &Lambda{srv: srv, kafka: k}, nil
}

// InvokeError is the error of a direct invocation: the HTTP status the
// same failure has on the HTTP routes, the message a client may see, the
// field at fault and the request id.
type InvokeError struct {
	Status    int
	Message   string
	Field     string
	RequestID string
}

// Error returns "functions: 400 Bad Request: rows[0].amount: message".
func (e *InvokeError) Error() string {
	s := fmt.Sprintf("functions: %d %s: ", e.Status, http.StatusText(e.Status))
	if e.Field != "" {
		s += e.Field + ": "
	}
	s += e.Message
	if e.RequestID != "" {
		s += " (request " + e.RequestID + ")"
	}
	return s
}

// payloadKind tells the four payloads apart.
type payloadKind struct {
	EventSource    string `json:"eventSource"`
	Version        string `json:"version"`
	HTTPMethod     string `json:"httpMethod"`
	RequestContext struct {
		HTTP struct {
			Method string `json:"method"`
		} `json:"http"`
	} `json:"requestContext"`
}

// Handle serves one Lambda invocation (see Lambda). It returns an error
// only for a payload it cannot read and for failed direct invocations and
// Kafka events; proxy events always get a response, errors included.
func (l *Lambda) Handle(ctx context.Context, payload json.RawMessage) (any, error) {
	var kind payloadKind
	if err := json.Unmarshal(payload, &kind); err != nil {
		return nil, &InvokeError{Status: http.StatusBadRequest, Message: "the payload is not a JSON object: " + err.Error()}
	}
	switch {
	case kind.EventSource == eventSourceMSK || kind.EventSource == eventSourceKafka:
		return l.kafkaEvent(ctx, payload)
	case kind.Version == "2.0" || kind.RequestContext.HTTP.Method != "":
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, &InvokeError{Status: http.StatusBadRequest, Message: "reading an HTTP API event: " + err.Error()}
		}
		return l.httpAPI(ctx, &ev)
	case kind.HTTPMethod != "":
		var ev events.APIGatewayProxyRequest
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, &InvokeError{Status: http.StatusBadRequest, Message: "reading a REST API proxy event: " + err.Error()}
		}
		return l.restAPI(ctx, &ev)
	}
	return l.invoke(ctx, payload)
}

// restAPI serves a REST API (payload 1.0) proxy event.
func (l *Lambda) restAPI(ctx context.Context, ev *events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	header := http.Header{}
	for k, v := range ev.Headers {
		header.Set(k, v)
	}
	for k, vs := range ev.MultiValueHeaders {
		header.Del(k)
		for _, v := range vs {
			header.Add(k, v)
		}
	}
	query := url.Values{}
	for k, v := range ev.QueryStringParameters {
		query.Set(k, v)
	}
	for k, vs := range ev.MultiValueQueryStringParameters {
		query[k] = vs
	}
	rec, err := l.serve(ctx, ev.HTTPMethod, &url.URL{Path: ev.Path, RawQuery: query.Encode()}, header,
		ev.Body, ev.IsBase64Encoded, ev.RequestContext.RequestID, ev.RequestContext.Identity.SourceIP)
	if err != nil {
		return events.APIGatewayProxyResponse{}, err
	}
	body, b64 := rec.encodedBody()
	return events.APIGatewayProxyResponse{StatusCode: rec.status, MultiValueHeaders: rec.header, Body: body, IsBase64Encoded: b64}, nil
}

// httpAPI serves an HTTP API (payload 2.0) event.
func (l *Lambda) httpAPI(ctx context.Context, ev *events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	header := http.Header{}
	for k, v := range ev.Headers {
		header.Set(k, v)
	}
	if len(ev.Cookies) > 0 {
		header.Set("Cookie", strings.Join(ev.Cookies, "; "))
	}
	path := ev.RawPath
	if path == "" {
		path = ev.RequestContext.HTTP.Path
	}
	// A named stage prefixes the raw path with the stage's name.
	if st := ev.RequestContext.Stage; st != "" && st != "$default" {
		if rest, ok := strings.CutPrefix(path, "/"+st); ok && (rest == "" || rest[0] == '/') {
			path = rest
		}
	}
	u, err := url.Parse(path)
	if err != nil || u.Host != "" || u.Scheme != "" {
		return events.APIGatewayV2HTTPResponse{}, &InvokeError{Status: http.StatusBadRequest, Message: fmt.Sprintf("bad path %q", path)}
	}
	u.RawQuery = ev.RawQueryString
	rec, err := l.serve(ctx, ev.RequestContext.HTTP.Method, u, header,
		ev.Body, ev.IsBase64Encoded, ev.RequestContext.RequestID, ev.RequestContext.HTTP.SourceIP)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	body, b64 := rec.encodedBody()
	resp := events.APIGatewayV2HTTPResponse{StatusCode: rec.status, Headers: map[string]string{}, Body: body, IsBase64Encoded: b64}
	for k, vs := range rec.header {
		if k == "Set-Cookie" {
			resp.Cookies = vs
			continue
		}
		resp.Headers[k] = strings.Join(vs, ",")
	}
	return resp, nil
}

// serve runs an HTTP request built from an event through the Server.
func (l *Lambda) serve(ctx context.Context, method string, u *url.URL, header http.Header, body string, b64 bool, id, ip string) (*recorder, error) {
	raw := []byte(body)
	if b64 {
		var err error
		if raw, err = base64.StdEncoding.DecodeString(body); err != nil {
			return nil, &InvokeError{Status: http.StatusBadRequest, Message: "the event's body is not base64: " + err.Error()}
		}
	}
	if !strings.HasPrefix(u.Path, "/") {
		u.Path = "/" + u.Path
	}
	r, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(raw))
	if err != nil {
		return nil, &InvokeError{Status: http.StatusBadRequest, Message: err.Error()}
	}
	r.Header = header
	r.RequestURI = u.RequestURI()
	if ip != "" {
		r.RemoteAddr = ip + ":0"
	}
	if id != "" && r.Header.Get("X-Request-Id") == "" {
		r.Header.Set("X-Request-Id", id)
	}
	rec := &recorder{header: http.Header{}}
	l.srv.ServeHTTP(rec, r)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return rec, nil
}

// recorder is the http.ResponseWriter of an event.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(p)
}

// encodedBody returns the body as an event carries it: text as it is,
// anything else in base64 — text holding bytes that are not UTF-8 too,
// since the JSON of the event would replace them.
func (r *recorder) encodedBody() (string, bool) {
	if textual(r.header.Get("Content-Type")) && utf8.Valid(r.body.Bytes()) {
		return r.body.String(), false
	}
	return base64.StdEncoding.EncodeToString(r.body.Bytes()), true
}

// textual reports whether a content type is text that an event can carry
// as a string: JSON, text/*, or no body type at all.
func textual(contentType string) bool {
	if contentType == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (strings.HasPrefix(mt, "text/") || mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

var invokeMembers = []string{"rows", "store", "view", "table"}

// invoke serves a direct invocation.
func (l *Lambda) invoke(ctx context.Context, payload []byte) (out any, err error) {
	start, svc := time.Now(), l.srv.svc
	route := svc.metrics.fallbacks[routeInvoke]
	defer func() {
		if v := recover(); v != nil {
			out, err = nil, recovered(v)
		}
		err = l.finish(ctx, route, start, err)
	}()
	if int64(len(payload)) > l.srv.maxBody {
		return nil, fmt.Errorf("%w: %d bytes; the limit is %d", ErrTooLarge, len(payload), l.srv.maxBody)
	}
	d := decoders.Get().(*decoder)
	defer decoders.Put(d)
	var spans [4]span
	if err := d.members(payload, invokeMembers, spans[:], false); err != nil {
		return nil, err
	}
	view, err := d.text(payload, spans[2], "view")
	if err != nil {
		return nil, err
	}
	table, err := d.text(payload, spans[3], "table")
	if err != nil {
		return nil, err
	}
	switch {
	case spans[2].ok == spans[3].ok:
		return nil, inputErr("", `want either "view" (to compute) or "table" (to ingest rows)`)
	case spans[3].ok:
		return l.invokeIngest(ctx, d, payload, spans, table, &route)
	}
	return l.invokeCompute(ctx, d, payload, spans, view, &route)
}

// invokeCompute computes the rows of a direct invocation.
func (l *Lambda) invokeCompute(ctx context.Context, d *decoder, payload []byte, spans [4]span, name string, route **routeMetrics) (any, error) {
	v, err := l.srv.svc.Lookup(name)
	if err != nil {
		return nil, err
	}
	*route = v.http.invoke
	spec := v.inputSpec
	spec.name = "rows"
	rows, _, err := d.rows(payload, spans[0], spec)
	if err != nil {
		return nil, err
	}
	store, err := flag(payload, spans[1], "store")
	if err != nil {
		return nil, err
	}
	res, err := l.srv.svc.compute(ctx, v, rows, store, nil)
	if err != nil {
		return nil, err
	}
	return json.RawMessage(appendCompute(nil, v, res)), nil
}

// invokeIngest stores the rows of a direct invocation.
func (l *Lambda) invokeIngest(ctx context.Context, d *decoder, payload []byte, spans [4]span, name string, route **routeMetrics) (any, error) {
	t := l.srv.svc.byTable[name]
	if t == nil {
		return nil, fmt.Errorf("%w: no table named %q", ErrNotFound, name)
	}
	*route = t.http.ingest
	if spans[1].ok {
		return nil, inputErr("store", "only for a view")
	}
	rows, _, err := d.rows(payload, spans[0], rowsSpec{name: "rows", table: t.Def.Name, schema: t.Def.Schema})
	if err != nil {
		return nil, err
	}
	if err := l.srv.svc.ingest(ctx, t, rows, nil); err != nil {
		return nil, err
	}
	b := append([]byte(`{"table":`), appendJSONString(nil, t.Def.Name)...)
	b = append(append(b, `,"rows":`...), strconv.Itoa(rows.Len)...)
	return json.RawMessage(append(b, '}')), nil
}

// finish records an invocation of route that started at start and ended
// with err, and returns err as an *InvokeError (nil when err is).
func (l *Lambda) finish(ctx context.Context, route *routeMetrics, start time.Time, err error) error {
	status := Status(err)
	route.observe(status, time.Since(start))
	if err == nil {
		return nil
	}
	return l.invokeError(ctx, err, status)
}

// invokeError turns the error of a direct invocation or a Kafka event into
// an *InvokeError, logging 5xx ones.
func (l *Lambda) invokeError(ctx context.Context, err error, status int) *InvokeError {
	var ie *InvokeError
	if errors.As(err, &ie) {
		return ie
	}
	id := ""
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		id = lc.AwsRequestID
	}
	if status >= 500 {
		attrs := []any{"request_id", id, "status", status, "err", err}
		var p *PanicError
		if errors.As(err, &p) {
			attrs = append(attrs, "stack", string(p.Stack))
		}
		l.srv.log.Error("invocation failed", attrs...)
	}
	return &InvokeError{Status: status, Message: publicMessage(err, status), Field: fieldOf(err), RequestID: id}
}
