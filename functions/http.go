package functions

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/trace"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// DefaultMaxBody is the request body limit unless ServerOptions.MaxBody
// says otherwise: 1 MiB, thousands of request rows.
const DefaultMaxBody = 1 << 20

// ServerOptions configure a Server.
type ServerOptions struct {
	// MaxBody bounds request bodies, in bytes: a larger one is refused
	// with 413 (DefaultMaxBody when zero).
	MaxBody int64
	// AuthToken, when not empty, is the bearer token every request but
	// GET /healthz must carry (Authorization: Bearer <token>); others get
	// 401 without detail. Tokens are compared in constant time.
	AuthToken string
	// Database, when not empty, is the only database name the OpenMLDB
	// routes (/dbs/{db}/...) answer to; when empty they answer to any.
	Database string
	// Logger receives a line per failed request (Error for 5xx, with the
	// stack of panics; Debug for others) — silent when nil.
	Logger *slog.Logger
	// Routes are read-only routes served beside the Server's own (the
	// web console's, package console), through the router: the compute
	// route never goes through them.
	Routes []Route
}

// Route is a read-only route a Server serves beside its own
// (ServerOptions.Routes): GET and HEAD only, any other method is
// refused with 405. Its requests are recorded under the route label
// "extra" and recovered from panics as the Server's own are.
type Route struct {
	// Path is the path served; with Prefix, every path starting with
	// it.
	Path   string
	Prefix bool
	// Auth makes the route need the bearer token the API's routes need
	// (ServerOptions.AuthToken); without it the route is public.
	Auth bool
	// Serve answers a request with the Server's Service (a Catalog's
	// current one).
	Serve func(svc *Service, w http.ResponseWriter, r *http.Request)
}

// Server is the HTTP adapter of a Service (gorilla/mux routes):
//
//	POST /v1/views/{view}:compute       {"rows": [...], "store": false} -> {"view","version","columns","rows"}
//	GET  /v1/views                      {"views": [view descriptions]}
//	GET  /v1/views/{view}               a view's description, with its plan ({view}: name, or db.name)
//	GET  /v1/deployments                the deployments and whether each is served (see Catalog)
//	PUT  /v1/tables/{table}/rows        {"rows": [...]} -> {"table", "rows": n}
//	POST /dbs/{db}/deployments/{name}   OpenMLDB APIServer: {"input": [...], "need_schema": bool}
//	GET  /dbs/{db}/deployments/{name}   OpenMLDB APIServer: the deployment's schemas
//	PUT  /dbs/{db}/tables/{table}       OpenMLDB APIServer: {"value": [[...]]}
//	GET  /healthz                       {"status": "ok"} (no auth; does not touch storage): liveness
//	GET  /readyz                        {"status": "ready"}, or 503 {"status": "not ready", "error": why} (no auth; Service.Ready)
//	GET  /metrics                       Prometheus text format
//	GET  ServerOptions.Routes            read-only routes added by the caller (the web console)
//
// Errors of the native routes are {"error": message, "field": ...,
// "request_id": ...} with the status of Status; those of the OpenMLDB
// routes are OpenMLDB's {"code": -1, "msg": message} with the same HTTP
// status (OpenMLDB's APIServer answers 200 to everything; a client that
// reads code works with both, one that checks the status learns more
// here). A panic is answered 500 with a request id and logged with its
// stack. A Server is safe for concurrent use.
type Server struct {
	svc     *Service
	maxBody int64
	auth    bool
	token   [sha256.Size]byte // SHA-256 of the token: compared in constant time, whatever its length
	db      string
	log     *slog.Logger
	router  *mux.Router
	compute func(w http.ResponseWriter, r *http.Request, view string) // the compute route, without the router
	scrape  http.Handler
	catalog *Catalog // the catalog this server is a build of, if any
	extra   []Route
}

// NewServer returns the HTTP adapter of svc.
func NewServer(svc *Service, opts ServerOptions) *Server {
	s := &Server{svc: svc, maxBody: opts.MaxBody, db: opts.Database, log: opts.Logger, extra: opts.Routes}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBody
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if opts.AuthToken != "" {
		s.auth, s.token = true, sha256.Sum256([]byte(opts.AuthToken))
	}
	s.scrape = promhttp.HandlerFor(svc.Registry(), promhttp.HandlerOpts{})
	s.router = s.routes()
	s.compute = s.endpointFunc(routeCompute, true, s.computeView)
	return s
}

// routes builds the router. View and table names exclude '/' and ':', so
// "/v1/views/x:compute" can only mean view x.
func (s *Server) routes() *mux.Router {
	r := mux.NewRouter()
	r.Handle("/v1/views/{view:[^/:]+}:compute", s.endpoint(routeCompute, true, s.computeView)).Methods(http.MethodPost)
	r.Handle("/v1/views", s.endpoint(routeViews, true, s.listViews)).Methods(http.MethodGet)
	r.Handle("/v1/deployments", s.endpoint(routeDeploys, true, s.listDeployments)).Methods(http.MethodGet)
	r.Handle("/v1/views/{view:[^/:]+}", s.endpoint(routeView, true, s.describeView)).Methods(http.MethodGet)
	r.Handle("/v1/tables/{table:[^/:]+}/rows", s.endpoint(routeIngest, true, s.ingest)).Methods(http.MethodPut)
	r.Handle("/dbs/{db}/deployments/{name}", s.endpoint(routeDeploy, true, s.deploy)).Methods(http.MethodPost)
	r.Handle("/dbs/{db}/deployments/{name}", s.endpoint(routeDeployInfo, true, s.deployInfo)).Methods(http.MethodGet)
	r.Handle("/dbs/{db}/tables/{table}", s.endpoint(routePut, true, s.put)).Methods(http.MethodPut)
	r.Handle("/healthz", s.endpoint(routeHealth, false, s.health)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/readyz", s.endpoint(routeReady, false, s.readyz)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/metrics", s.endpoint(routeScrape, true, s.metrics)).Methods(http.MethodGet)
	for _, rt := range s.extra {
		m := r.NewRoute()
		if rt.Prefix {
			m.PathPrefix(rt.Path)
		} else {
			m.Path(rt.Path)
		}
		m.Handler(s.endpoint(routeExtra, rt.Auth, s.extraRoute(rt))).Methods(http.MethodGet, http.MethodHead)
	}
	r.NotFoundHandler = s.endpoint(routeUnknown, true, func(ex *exchange) error {
		return fmt.Errorf("%w: no route %s %s", ErrNotFound, ex.r.Method, ex.r.URL.Path)
	})
	r.MethodNotAllowedHandler = s.endpoint(routeUnknown, true, func(ex *exchange) error {
		return fmt.Errorf("%w: %s %s", ErrMethod, ex.r.Method, ex.r.URL.Path)
	})
	return r
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil { // outside an endpoint (in the router): endpoints recover their own
			if v == http.ErrAbortHandler {
				panic(v)
			}
			ex := &exchange{s: s, w: w, r: r, start: time.Now(), route: s.svc.metrics.fallbacks[routeUnknown]}
			ex.fail(recovered(v))
			ex.route.observe(ex.status, time.Since(ex.start))
		}
	}()
	if s.svc.draining() { // shutting down: clients should open their next connection elsewhere
		w.Header().Set("Connection", "close")
	}
	if view, ok := computePath(r); ok { // the hot route, without the router's matching
		s.compute(w, r, view)
		return
	}
	s.router.ServeHTTP(w, r)
}

// computePath returns the view of a POST /v1/views/{view}:compute whose
// path the router would match as it is (no cleaning, no redirect).
func computePath(r *http.Request) (string, bool) {
	const prefix, suffix = "/v1/views/", ":compute"
	p := r.URL.Path
	if r.Method != http.MethodPost || !strings.HasPrefix(p, prefix) || !strings.HasSuffix(p, suffix) || r.URL.RawPath != "" {
		return "", false
	}
	view := p[len(prefix) : len(p)-len(suffix)]
	if view == "" || strings.ContainsAny(view, "/:") {
		return "", false
	}
	return view, true
}

// exchange is one request being served.
type exchange struct {
	s       *Server
	w       http.ResponseWriter
	r       *http.Request
	start   time.Time
	route   *routeMetrics // narrowed to the view or table once known
	status  int           // 0 until a response is written
	id      string        // the request id, once needed
	in      *[]byte       // the body, pooled
	out     *[]byte       // the response, pooled
	viewVar string        // the path's {view}, when the router did not match it
}

// endpoint wraps a route's handler: authentication, panics, errors,
// metrics and buffers.
func (s *Server) endpoint(route string, auth bool, h func(*exchange) error) http.Handler {
	f := s.endpointFunc(route, auth, h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { f(w, r, "") })
}

// endpointFunc is endpoint for a route whose {view} the caller found
// (view; "": the router's variables hold the path's).
func (s *Server) endpointFunc(route string, auth bool, h func(*exchange) error) func(http.ResponseWriter, *http.Request, string) {
	fallback := s.svc.metrics.fallbacks[route]
	return func(w http.ResponseWriter, r *http.Request, view string) {
		ex := &exchange{s: s, w: w, r: r, start: time.Now(), route: fallback, viewVar: view}
		defer ex.finish()
		var err error
		if auth && !s.authorized(r) {
			err = ErrUnauthorized
		} else {
			err = h(ex)
		}
		if err != nil {
			ex.fail(err)
		}
	}
}

// pathVar returns the path variable name: the one the exchange was
// given, else the router's.
func (ex *exchange) pathVar(name string) string {
	if name == "view" && ex.viewVar != "" {
		return ex.viewVar
	}
	return mux.Vars(ex.r)[name]
}

// authorized checks the bearer token, if one is required.
func (s *Server) authorized(r *http.Request) bool {
	if !s.auth {
		return true
	}
	h := r.Header.Get("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "Bearer ") {
		return false
	}
	got := sha256.Sum256([]byte(h[7:]))
	return subtle.ConstantTimeCompare(got[:], s.token[:]) == 1
}

// finish recovers a panic of the handler, records the request and
// returns the buffers to their pool.
func (ex *exchange) finish() {
	if v := recover(); v != nil {
		if v == http.ErrAbortHandler {
			panic(v)
		}
		ex.fail(recovered(v))
	}
	ex.route.observe(ex.status, time.Since(ex.start))
	putBuf(ex.in)
	putBuf(ex.out)
}

// recovered turns a recovered panic value into a *PanicError.
func recovered(v any) *PanicError {
	return &PanicError{Value: v, Stack: stack()}
}

// fail answers err: its status (Status), a body in the route's style,
// and a log line.
func (ex *exchange) fail(err error) {
	status := Status(err)
	if status >= 500 {
		ex.logError(err, status)
	} else if ex.s.log.Enabled(ex.r.Context(), slog.LevelDebug) {
		ex.s.log.Debug("request refused", "method", ex.r.Method, "path", ex.r.URL.Path, "status", status, "err", err)
	}
	if ex.status != 0 { // the response has started: nothing more to say
		return
	}
	msg, field, id := publicMessage(err, status), fieldOf(err), ex.requestID()
	if status == http.StatusUnauthorized {
		ex.w.Header().Set("WWW-Authenticate", "Bearer")
		msg, field, id = "unauthorized", "", ""
	}
	b := ex.buffer()
	if ex.openmldb() {
		if field != "" {
			msg = field + ": " + msg
		}
		b = appendOpenMLDBError(b, msg, id)
	} else {
		b = appendError(b, msg, field, id)
	}
	ex.reply(status, b)
}

// logError logs a 5xx answer, with the stack when it was a panic.
func (ex *exchange) logError(err error, status int) {
	attrs := []any{"request_id", ex.requestID(), "method", ex.r.Method, "path", ex.r.URL.Path, "status", status, "err", err}
	var p *PanicError
	if errors.As(err, &p) {
		attrs = append(attrs, "stack", string(p.Stack))
	}
	ex.s.log.Error("request failed", attrs...)
}

// openmldb reports whether the request is for an OpenMLDB route, whose
// errors take OpenMLDB's form.
func (ex *exchange) openmldb() bool { return strings.HasPrefix(ex.r.URL.Path, "/dbs/") }

// requestID returns the request's id: the client's X-Request-Id when it
// is a plausible id, else a random one; it is also set on the response.
func (ex *exchange) requestID() string {
	if ex.id != "" {
		return ex.id
	}
	ex.id = ex.r.Header.Get("X-Request-Id")
	if !plausibleID(ex.id) {
		ex.id = strconv.FormatUint(rand.Uint64(), 16)
	}
	if ex.status == 0 {
		ex.w.Header().Set("X-Request-Id", ex.id)
	}
	return ex.id
}

// plausibleID accepts up to 128 letters, digits and -_.:
func plausibleID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

// reply writes a JSON response.
func (ex *exchange) reply(status int, body []byte) {
	h := ex.w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	ex.w.WriteHeader(status)
	ex.status = status
	if ex.r.Method != http.MethodHead {
		ex.w.Write(body) // a client gone away is not an error of ours
	}
}

// Buffers: bodies are read into, and responses written from, pooled
// byte slices; slices grown past maxPooled are dropped, not pooled.
const maxPooled = 256 << 10

var bufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func putBuf(b *[]byte) {
	if b != nil && cap(*b) <= maxPooled {
		*b = (*b)[:0]
		bufs.Put(b)
	}
}

// buffer returns the exchange's (empty) response buffer.
func (ex *exchange) buffer() []byte {
	if ex.out == nil {
		ex.out = bufs.Get().(*[]byte)
	}
	return (*ex.out)[:0]
}

// body reads the request body, up to the server's limit.
func (ex *exchange) body() ([]byte, error) {
	max := ex.s.maxBody
	if ex.r.ContentLength > max {
		return nil, fmt.Errorf("%w: %d bytes; the limit is %d", ErrTooLarge, ex.r.ContentLength, max)
	}
	ex.in = bufs.Get().(*[]byte)
	b, err := readAll((*ex.in)[:0], io.LimitReader(ex.r.Body, max+1))
	*ex.in = b
	switch {
	case int64(len(b)) > max:
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)
	case err != nil:
		return nil, inputErr("", "reading the body: %v", err)
	}
	return b, nil
}

// readAll appends what r holds to b.
func readAll(b []byte, r io.Reader) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// The native routes.

// view finds the view named by the path's {view} (its name, or db.name:
// Service.Lookup), and narrows the exchange's metrics to it.
func (ex *exchange) view(routes func(*View) *routeMetrics) (*View, error) {
	v, err := ex.s.svc.Lookup(ex.pathVar("view"))
	if err != nil {
		return nil, err
	}
	ex.route = routes(v)
	return v, nil
}

var computeMembers = []string{"rows", "store"}

// computeView serves POST /v1/views/{view}:compute.
func (s *Server) computeView(ex *exchange) error {
	v, err := ex.view(func(v *View) *routeMetrics { return v.http.compute })
	if err != nil {
		return err
	}
	body, err := ex.body()
	if err != nil {
		return err
	}
	return ex.computeBody(v, body, computeMembers)
}

// computeBody serves a compute request whose body has the members names
// (among them rows and store, the first two).
func (ex *exchange) computeBody(v *View, body []byte, names []string) (err error) {
	ctx := ex.r.Context()
	if tr := ex.s.svc.tracer; tr != nil {
		var span trace.Span
		ctx, span = startServerSpan(tr, ex.r, ex.r.Method+" "+computeRoute(ex.r.URL.Path))
		defer func() { endSpan(span, err) }()
	}
	rows, store, err := decodeCompute(body, v, names)
	if err != nil {
		return err
	}
	res, err := ex.s.svc.compute(ctx, v, rows, store, nil)
	if err != nil {
		return err
	}
	body = appendCompute(ex.buffer(), v, res)
	ex.serverTiming(res)
	ex.reply(http.StatusOK, body)
	return nil
}

// serverTiming sets the Server-Timing header of a compute response: the
// time spent reading storage (summed over the reads) and the time since
// the request came in, in milliseconds, e.g.
// "storage;dur=0.412, total;dur=0.735".
func (ex *exchange) serverTiming(res *ComputeResult) {
	var buf [48]byte
	b := append(buf[:0], "storage;dur="...)
	b = strconv.AppendFloat(b, float64(res.StorageTime)/1e6, 'f', 3, 64)
	b = append(b, ", total;dur="...)
	b = strconv.AppendFloat(b, float64(time.Since(ex.start))/1e6, 'f', 3, 64)
	ex.w.Header()["Server-Timing"] = []string{string(b)}
}

// decodeCompute decodes a compute body: rows of the view's request
// table, and the store flag.
func decodeCompute(body []byte, v *View, names []string) (*types.Block, bool, error) {
	d := decoders.Get().(*decoder)
	defer decoders.Put(d)
	spans := make([]span, len(names))
	if err := d.members(body, names, spans, false); err != nil {
		return nil, false, err
	}
	spec := v.inputSpec
	spec.name = names[0]
	rows, _, err := d.rows(body, spans[0], spec)
	if err != nil {
		return nil, false, err
	}
	store, err := flag(body, spans[1], names[1])
	return rows, store, err
}

// listViews serves GET /v1/views.
func (s *Server) listViews(ex *exchange) error {
	b := append(ex.buffer(), `{"views":[`...)
	for i, v := range s.svc.views {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendViewInfo(b, v, false)
	}
	ex.reply(http.StatusOK, append(b, "]}"...))
	return nil
}

// listDeployments serves GET /v1/deployments:
//
//	{"deployments":[{"db":...,"name":...,"version":...,"created":...,"status":"serving"},
//	                {..., "status":"failed","error":"why it is not served"}],
//	 "poll":{"interval_ms":2000,"last":"2024-01-01T00:00:00.123Z","error":"..."}}
//
// For a Catalog's server: every stored deployment as last listed, and the
// last list (poll; error only when it failed). For a feature file's
// server: its views, all serving, without db (when empty), created and
// poll.
func (s *Server) listDeployments(ex *exchange) error {
	b := append(ex.buffer(), `{"deployments":[`...)
	if s.catalog == nil {
		for i, v := range s.svc.views {
			b = appendDeployment(b, i, &DeploymentStatus{DB: v.DB, Name: v.Name, Version: v.Version})
		}
		ex.reply(http.StatusOK, append(b, "]}"...))
		return nil
	}
	for i, d := range s.catalog.Deployments() {
		b = appendDeployment(b, i, &d)
	}
	at, err := s.catalog.LastList()
	b = append(b, `],"poll":{"interval_ms":`...)
	b = strconv.AppendInt(b, s.catalog.opts.Poll.Milliseconds(), 10)
	b = append(b, `,"last":`...)
	b = appendJSONString(b, at.UTC().Format(time.RFC3339Nano))
	if err != nil {
		b = append(b, `,"error":`...)
		b = appendJSONString(b, err.Error())
	}
	ex.reply(http.StatusOK, append(b, "}}"...))
	return nil
}

// appendDeployment appends the i-th element of the deployments list.
func appendDeployment(b []byte, i int, d *DeploymentStatus) []byte {
	if i > 0 {
		b = append(b, ',')
	}
	b = append(b, '{')
	if d.DB != "" {
		b = append(b, `"db":`...)
		b = appendJSONString(b, d.DB)
		b = append(b, ',')
	}
	b = append(b, `"name":`...)
	b = appendJSONString(b, d.Name)
	b = append(b, `,"version":`...)
	b = appendJSONString(b, d.Version)
	if !d.Created.IsZero() {
		b = append(b, `,"created":`...)
		b = appendJSONString(b, d.Created.UTC().Format(time.RFC3339Nano))
	}
	if d.Err != nil {
		b = append(b, `,"status":"failed","error":`...)
		b = appendJSONString(b, d.Err.Error())
	} else {
		b = append(b, `,"status":"serving"`...)
	}
	return append(b, '}')
}

// describeView serves GET /v1/views/{view}.
func (s *Server) describeView(ex *exchange) error {
	v, err := ex.view(func(v *View) *routeMetrics { return v.http.describe })
	if err != nil {
		return err
	}
	ex.reply(http.StatusOK, appendViewInfo(ex.buffer(), v, true))
	return nil
}

// computeRoute names the route of a compute path, for its span.
func computeRoute(path string) string {
	if strings.HasPrefix(path, "/dbs/") {
		return "/dbs/{db}/deployments/{name}"
	}
	return "/v1/views/{view}:compute"
}

// ingest serves PUT /v1/tables/{table}/rows.
func (s *Server) ingest(ex *exchange) (err error) {
	ctx := ex.r.Context()
	if tr := s.svc.tracer; tr != nil {
		var span trace.Span
		ctx, span = startServerSpan(tr, ex.r, "PUT /v1/tables/{table}/rows")
		defer func() { endSpan(span, err) }()
	}
	t, err := ex.table(mux.Vars(ex.r)["table"], func(t *Table) *routeMetrics { return t.http.ingest })
	if err != nil {
		return err
	}
	body, err := ex.body()
	if err != nil {
		return err
	}
	rows, err := decodeRows(body, t, []string{"rows"}, false)
	if err != nil {
		return err
	}
	if err := s.svc.ingest(ctx, t, rows, nil); err != nil {
		return err
	}
	b := append(ex.buffer(), `{"table":`...)
	b = appendJSONString(b, t.Def.Name)
	b = append(b, `,"rows":`...)
	b = appendInt(b, rows.Len)
	ex.reply(http.StatusOK, append(b, '}'))
	return nil
}

// table finds the table named name and narrows the exchange's metrics.
func (ex *exchange) table(name string, routes func(*Table) *routeMetrics) (*Table, error) {
	t := ex.s.svc.byTable[name]
	if t == nil {
		return nil, fmt.Errorf("%w: no table named %q", ErrNotFound, name)
	}
	ex.route = routes(t)
	return t, nil
}

// decodeRows decodes a body whose only member (names[0]) holds rows of
// t; with openmldb set, unknown members and columns are skipped as
// OpenMLDB's APIServer skips them.
func decodeRows(body []byte, t *Table, names []string, openmldb bool) (*types.Block, error) {
	d := decoders.Get().(*decoder)
	defer decoders.Put(d)
	spans := make([]span, len(names))
	if err := d.members(body, names, spans, openmldb); err != nil {
		return nil, err
	}
	rows, _, err := d.rows(body, spans[0], rowsSpec{name: names[0], table: t.Def.Name, schema: t.Def.Schema, allowUnknown: openmldb})
	return rows, err
}

// health serves GET /healthz: the process is up. It does not touch
// storage, whose outages the other routes report as 503.
func (s *Server) health(ex *exchange) error {
	ex.reply(http.StatusOK, append(ex.buffer(), `{"status":"ok"}`...))
	return nil
}

// readyz serves GET /readyz: 200 {"status":"ready"} when the service is
// ready (Service.Ready), else 503 {"status":"not ready","error":...} with
// the reason in the words of an error's answer (publicMessage). Its
// failures are not logged per probe: Ready logs each change.
func (s *Server) readyz(ex *exchange) error {
	ex.reply(readyAnswer(ex.buffer(), s.svc.Ready(ex.r.Context())))
	return nil
}

// metrics serves GET /metrics.
func (s *Server) metrics(ex *exchange) error {
	rec := &statusRecorder{ResponseWriter: ex.w, status: http.StatusOK}
	s.scrape.ServeHTTP(rec, ex.r)
	ex.status = rec.status
	return nil
}

// extraRoute serves a Route of ServerOptions.Routes.
func (s *Server) extraRoute(rt Route) func(*exchange) error {
	return func(ex *exchange) error {
		rec := &statusRecorder{ResponseWriter: ex.w, status: http.StatusOK}
		rt.Serve(s.svc, rec, ex.r)
		ex.status = rec.status
		return nil
	}
}

// statusRecorder remembers the status a wrapped handler writes.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}
