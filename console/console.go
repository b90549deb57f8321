package console

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fenestra-dev/fenestra/functions"
	"github.com/fenestra-dev/fenestra/storage"
)

// static holds the console's page, script, styles and uPlot.
//
//go:embed static
var static embed.FS

// Options configure a Console.
type Options struct {
	// Store is the store the served views read: the console reads a
	// key's stored rows from it (sample, timeline). Without it those
	// routes answer 404.
	Store storage.Store
	// SQL returns the text that defines a view (its DEPLOY statement),
	// or "" when it is not known. FileSQL and StoredSQL make one; nil
	// shows none.
	SQL func(ctx context.Context, v *functions.View) string
	// Keys are keys the console offers first (fenestra up: its busiest
	// card), as text.
	Keys []string
	// Metrics are registries the Live page reads besides the service's
	// own: dataflow.StreamMetrics when a stream runs in the process.
	Metrics []prometheus.Gatherer
	// Logger receives the console's failures (silent when nil).
	Logger *slog.Logger
	// Clock gives the time of the Live page's samples (time.Now when
	// nil).
	Clock func() time.Time
}

// Console serves the web console: its static files and its read-only
// data routes (see the package comment). A Console is safe for
// concurrent use; one serves the Servers a Catalog builds one after
// another, each request with the Service of the Server it came to.
type Console struct {
	opts  Options
	log   *slog.Logger
	files fs.FS
	state stateCache
	live  liveSamples
	// maxEvents is MaxEvents but in tests.
	maxEvents int
}

// New returns a console.
func New(opts Options) *Console {
	c := &Console{opts: opts, log: opts.Logger, maxEvents: MaxEvents}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.opts.Clock == nil {
		c.opts.Clock = time.Now
	}
	c.files, _ = fs.Sub(static, "static") // a constant path: cannot fail
	return c
}

// Routes returns the console's routes, to serve beside the API's
// (functions.ServerOptions.Routes): the page and its files are public,
// the data routes need the API's token when it has one.
func (c *Console) Routes() []functions.Route {
	return []functions.Route{
		{Path: "/", Serve: c.index},
		{Path: "/console/static/", Prefix: true, Serve: c.static},
		{Path: "/console/api/", Prefix: true, Auth: true, Serve: c.api},
	}
}

// index serves the page.
func (c *Console) index(_ *functions.Service, w http.ResponseWriter, r *http.Request) {
	b, err := fs.ReadFile(c.files, "index.html")
	if err != nil {
		c.fail(w, r, err)
		return
	}
	headers(w, "text/html; charset=utf-8")
	w.Write(b)
}

// static serves the files under /console/static/; not the directory.
func (c *Console) static(_ *functions.Service, w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/console/static/")
	if name == "" || strings.Contains(name, "/") {
		c.fail(w, r, fmt.Errorf("%w: no console file %q", functions.ErrNotFound, name))
		return
	}
	b, err := fs.ReadFile(c.files, name)
	if err != nil {
		c.fail(w, r, fmt.Errorf("%w: no console file %q", functions.ErrNotFound, name))
		return
	}
	headers(w, contentType(name))
	w.Write(b)
}

// headers sets the headers of the console's files: nothing is loaded
// from elsewhere (the Content-Security-Policy says so to the browser).
func headers(w http.ResponseWriter, ctype string) {
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-cache")
}

func contentType(name string) string {
	switch {
	case strings.HasSuffix(name, ".js"):
		return "text/javascript; charset=utf-8"
	case strings.HasSuffix(name, ".css"):
		return "text/css; charset=utf-8"
	case strings.HasSuffix(name, ".html"):
		return "text/html; charset=utf-8"
	}
	return "text/plain; charset=utf-8"
}

// api serves the data routes under /console/api/.
func (c *Console) api(svc *functions.Service, w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/console/api/"), "/")
	var (
		v   any
		err error
	)
	switch {
	case len(parts) == 1 && parts[0] == "views":
		v, err = c.views(r.Context(), svc)
	case len(parts) == 1 && parts[0] == "live":
		v, err = c.liveSummary(svc)
	case len(parts) == 3 && parts[0] == "views" && parts[2] == "sample":
		v, err = c.sample(r.Context(), svc, parts[1], r.URL.Query())
	case len(parts) == 3 && parts[0] == "views" && parts[2] == "timeline":
		v, err = c.timeline(r.Context(), svc, parts[1], r.URL.Query())
	default:
		err = fmt.Errorf("%w: no console route %s", functions.ErrNotFound, r.URL.Path)
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// writeJSON writes v as a JSON answer.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal error"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b)
}

// paramError is a query parameter the console cannot serve: Kind is
// functions.ErrBadRequest (400), ErrNotFound (404) or ErrTooManyRows
// (413).
type paramError struct {
	Kind  error
	Field string
	Msg   string
}

func (e *paramError) Error() string { return "console: " + e.Field + ": " + e.Msg }
func (e *paramError) Unwrap() error { return e.Kind }

func badParam(field, format string, args ...any) error {
	return &paramError{Kind: functions.ErrBadRequest, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// fail answers err as the API answers errors: {"error", "field"} with
// the status of functions.Status; a 5xx's detail goes to the log only.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := functions.Status(err)
	body := struct {
		Error string `json:"error"`
		Field string `json:"field,omitempty"`
	}{}
	var pe *paramError
	var in *functions.InputError
	switch {
	case status >= 500:
		c.log.Error("console request failed", "path", r.URL.Path, "status", status, "err", err)
		body.Error = http.StatusText(status)
	case errors.As(err, &pe):
		body.Error, body.Field = pe.Msg, pe.Field
	case errors.As(err, &in):
		body.Error, body.Field = in.Msg, in.Field
	default:
		body.Error = strings.TrimPrefix(err.Error(), "functions: ")
	}
	writeJSON(w, status, body)
}
