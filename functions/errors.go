package functions

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/storage"
)

// Errors. Operations wrap them, so errors.Is identifies the kind; Status
// maps each kind to its HTTP status.
var (
	// ErrBadRequest: the request cannot be served as sent (malformed
	// JSON, a missing, unknown or mistyped column, a row of the wrong
	// width). *InputError wraps it and names the field.
	ErrBadRequest = errors.New("functions: bad request")
	// ErrNotFound: no view, table or route of that name.
	ErrNotFound = errors.New("functions: not found")
	// ErrTooLarge: the request body exceeds the configured limit.
	ErrTooLarge = errors.New("functions: request body too large")
	// ErrTooManyRows: a request of more rows than the configured limit
	// (Options.MaxRows), refused before any is evaluated.
	ErrTooManyRows = errors.New("functions: too many rows")
	// ErrUnauthorized: a missing or wrong bearer token.
	ErrUnauthorized = errors.New("functions: unauthorized")
	// ErrAmbiguous: a view name several views share (views of two
	// databases); the message lists them as db.name.
	ErrAmbiguous = errors.New("functions: ambiguous name")
	// ErrMethod: the route exists, not with this HTTP method.
	ErrMethod = errors.New("functions: method not allowed")
	// ErrPanic: the evaluation panicked; *PanicError wraps it.
	ErrPanic = errors.New("functions: internal error")
	// ErrDraining: the server is shutting down (Service.Drain); it
	// finishes the requests in flight and reports itself not ready.
	ErrDraining = errors.New("functions: draining: the server is shutting down")
)

// StatusClientClosed is the status recorded (in metrics and logs) for a
// request whose client went away before the answer: nobody reads it.
// nginx uses the same number.
const StatusClientClosed = 499

// InputError is a request that does not fit what it addresses. Field names
// the part of the request at fault, as a JSON path from the body's top
// level ("rows[0].amount", "rows[2]", "rows"), or is empty when the fault
// is the body as a whole (malformed JSON before any field).
type InputError struct {
	Field string
	Msg   string
}

// Error returns "functions: Field: Msg" (or "functions: Msg").
func (e *InputError) Error() string {
	if e.Field == "" {
		return "functions: " + e.Msg
	}
	return "functions: " + e.Field + ": " + e.Msg
}

// Unwrap returns ErrBadRequest.
func (e *InputError) Unwrap() error { return ErrBadRequest }

// inputErr returns an *InputError with a formatted message.
func inputErr(field, format string, args ...any) *InputError {
	return &InputError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// PanicError is a panic recovered while serving a request: its value and
// the goroutine's stack, for the log. Clients see ErrPanic's text only.
type PanicError struct {
	Value any
	Stack []byte
}

// Error describes the panic (for logs; never sent to clients).
func (e *PanicError) Error() string { return fmt.Sprintf("functions: panic: %v", e.Value) }

// Unwrap returns ErrPanic.
func (e *PanicError) Unwrap() error { return ErrPanic }

// Status returns the HTTP status of an error: the one place where error
// kinds become statuses, for the HTTP and Lambda adapters and the metrics.
//
//	nil                                   200
//	ErrBadRequest (*InputError), eval.ErrInput  400
//	ErrUnauthorized                       401
//	ErrNotFound                           404
//	ErrMethod                             405
//	ErrAmbiguous                          409
//	ErrTooLarge (*http.MaxBytesError)     413
//	ErrTooManyRows                        413
//	context.Canceled (client gone)        499
//	storage.ErrSchema                     500
//	storage.ErrUnavailable                503
//	storage.ErrNoTable, storage.ErrNoIndex  503
//	storage.ErrPermission                 503
//	ErrDraining                           503
//	context.DeadlineExceeded              504
//	anything else (ErrPanic, ...)         500
//
// An unknown view is 404, not the 400 the functions issue lists among bad
// inputs: the view is part of the path, and a path naming no resource is
// what 404 means (clients and load balancers treat it so: a 400 would say
// the body is at fault and invite no fix of the URL). A store that cannot
// serve (unreachable, tables not initialised or dropped, credentials
// refused) is 503: this process cannot serve now, another may, and it
// reports itself not ready (Service.Ready) until the store can. A schema
// mismatch is 500: the deployment and the stored tables disagree, and
// retrying elsewhere does not help. An ambiguous name is 409: the path is
// well formed, but the deployments served now give it several meanings
// (one goes away when a deployment is dropped); the message lists them,
// so the client can name one as db.name.
func Status(err error) int {
	var tooLarge *http.MaxBytesError
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrBadRequest), errors.Is(err, eval.ErrInput):
		return http.StatusBadRequest
	case errors.Is(err, ErrUnauthorized):
		return http.StatusUnauthorized
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrMethod):
		return http.StatusMethodNotAllowed
	case errors.Is(err, ErrAmbiguous):
		return http.StatusConflict
	case errors.Is(err, ErrTooLarge), errors.Is(err, ErrTooManyRows), errors.As(err, &tooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrPanic), errors.Is(err, storage.ErrSchema):
		return http.StatusInternalServerError
	case errors.Is(err, storage.ErrUnavailable), errors.Is(err, storage.ErrNoTable), errors.Is(err, storage.ErrNoIndex),
		errors.Is(err, storage.ErrPermission), errors.Is(err, ErrDraining):
		return http.StatusServiceUnavailable
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	case errors.Is(err, context.Canceled):
		return StatusClientClosed
	}
	return http.StatusInternalServerError
}

// publicMessage is what a client is told about err: the error's text
// (without the package prefix) for 4xx statuses; for 5xx ones, what an
// operator can act on, for every known cause (storage's, below), and
// "internal error" only for an unknown one (a panic), whose details
// (stack) stay in the log line carrying the same request id.
//
//	storage.ErrUnavailable  storage unavailable: bigtable at HOST:PORT: reading t1 ...: rpc error ...; retry later
//	storage.ErrNoTable      storage not initialised: table t1 (run fenestra storage init)
//	storage.ErrNoIndex      storage not initialised: table t1 has no index on KEY=(...) (run fenestra storage init)
//	storage.ErrSchema       storage schema mismatch: table t1 exists with columns (...); the new definition has (...)
//	storage.ErrPermission   storage permission denied: bigtable at HOST:PORT: ...; check the credentials ...
func publicMessage(err error, status int) string {
	var noTable *storage.NoTableError
	switch {
	case status < 500:
		var in *InputError
		if errors.As(err, &in) {
			return in.Msg
		}
		return strings.TrimPrefix(err.Error(), "functions: ")
	case errors.Is(err, ErrDraining):
		return strings.TrimPrefix(ErrDraining.Error(), "functions: ")
	case errors.Is(err, storage.ErrUnavailable):
		return "storage unavailable: " + after(err, storage.ErrUnavailable) + "; retry later"
	case errors.As(err, &noTable):
		return "storage not initialised: table " + noTable.Table + " (run fenestra storage init)"
	case errors.Is(err, storage.ErrNoTable), errors.Is(err, storage.ErrNoIndex):
		return "storage not initialised: " + after(err, storage.ErrNoTable, storage.ErrNoIndex) + " (run fenestra storage init)"
	case errors.Is(err, storage.ErrSchema):
		return "storage schema mismatch: " + after(err, storage.ErrSchema)
	case errors.Is(err, storage.ErrPermission):
		return "storage permission denied: " + after(err, storage.ErrPermission)
	case status == http.StatusGatewayTimeout:
		return "the request did not complete within its deadline"
	}
	return "internal error"
}

// after returns the text of err that follows the first of the sentinels
// it holds ("storage: unavailable: bigtable at ...": "bigtable at ..."),
// the store's own description of the fault; or the whole text, when none
// is found in it.
func after(err error, sentinels ...error) string {
	text := err.Error()
	for _, s := range sentinels {
		if i := strings.Index(text, s.Error()); i >= 0 {
			if rest := strings.TrimPrefix(text[i+len(s.Error()):], ": "); rest != "" {
				return rest
			}
		}
	}
	return strings.TrimPrefix(text, "functions: ")
}

// fieldOf returns the field an *InputError names, or "".
func fieldOf(err error) string {
	var in *InputError
	if errors.As(err, &in) {
		return in.Field
	}
	return ""
}
