// Package console is fenestra's web console: a handful of static files,
// embedded, and the read-only routes they need that the API does not
// give, served by fenestra serve and fenestra up beside the API
// (functions.ServerOptions.Routes). It has four pages:
//
//   - Deployments: each view's version, SQL, output schema, the tables and
//     indexes it reads, and whether each aggregate is served from tiles
//     or raw rows.
//   - Try a request: a form prefilled with a key's latest stored row of the
//     view's request table as a new request 1 ms later, sent to the public compute route
//     (POST /v1/views/{view}:compute); the answer with its types and its
//     Server-Timing header.
//   - A key over time: a key's stored events over a range, and each
//     feature's value as of each event, computed by functions.Service in
//     request mode over the history before the event (one point per
//     event, nothing interpolated).
//   - Live: request rate, latency percentiles and errors per view, from
//     the process's metrics registries, and the stream's lag and
//     freshness when a stream runs in the process.
//
// Its routes (Console.Routes), all GET:
//
//	/                                    the console's page (public)
//	/console/static/{file}               its scripts, styles and uPlot (public)
//	/console/api/views                   the views, described for the Deployments page
//	/console/api/views/{view}/sample     ?key=K: the key's latest stored row of the request table, 1 ms later
//	/console/api/views/{view}/timeline   ?key=K&from=T&to=T: the key's events and features over time
//	/console/api/live                    rates, percentiles, errors and stream health
//
// The /console/api/ routes need the API's bearer token when the server
// has one (the page asks for it and sends it, as API clients do). Errors
// are the API's: {"error": message, "field": name} with the status of
// functions.Status (404 for an unknown view or key, 400 for a bad
// parameter, 413 for a range of too many events).
package console
