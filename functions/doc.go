// Package functions is the online host of the evaluator: a feature view
// as a function. A caller sends the request row (the transaction being
// scored); the function reads the key's stored rows through a
// storage.Store, evaluates the view in request mode with the same
// evaluator as batch mode, and answers. It has one core, two thin
// adapters and a host of stored deployments:
//
//   - Service, the core, plain Go: built from a compiled feature file
//     (featurelang.Module) and a storage.Store, it builds each DEPLOY
//     view's evaluator once and computes request rows (Compute, with
//     OpenMLDB's request-then-insert as an option; the rows of a call in
//     parallel, each answered as if alone) and ingests rows (Ingest,
//     with fresh arrival sequence numbers, or Write, with the caller's),
//     each under a deadline, with Prometheus metrics in a registry of its
//     own. When the store reads many queries in one call (the Bigtable
//     store's ScanMany), the reads of concurrent requests, and of a
//     call's rows, are gathered into shared calls (coalescer).
//   - Server, the HTTP adapter (gorilla/mux): the native routes
//     (/v1/views/{view}:compute, /v1/views, /v1/tables/{table}/rows),
//     OpenMLDB's APIServer routes (/dbs/{db}/deployments/{name},
//     /dbs/{db}/tables/{table}), /healthz and /metrics; body limits,
//     bearer-token authentication, panics recovered.
//   - Lambda, the AWS Lambda adapter (aws-lambda-go): API Gateway REST
//     and HTTP API proxy events go through the Server's http.Handler;
//     direct invocations carry {"view": ..., "rows": [...]}; Kafka events
//     of an MSK or self-managed Kafka event source mapping carry records
//     whose values are rows of the table their topic is mapped to
//     (LambdaOptions.Topics), decoded and numbered as the streaming
//     pipeline does (package internal/records), with a bad-records
//     policy of fail or skip.
//   - Catalog, the host of stored deployments (storage.DeploymentStore,
//     what a script's DEPLOY stores): it lists them every poll interval
//     and swaps in a Service and Server built from them when they change,
//     so new deployments are served and dropped ones stopped without a
//     restart; one that cannot be served is reported, not fatal.
//
// # Requests and answers
//
// Rows are JSON: objects keyed by column name (every column given, null
// for NULL) or arrays in the table's column order, values as
// internal/datafile reads JSON Lines (timestamps as epoch milliseconds or
// text, dates "YYYY-MM-DD"). Decoding is strict: a malformed body, an
// unknown, missing, repeated or mistyped column, a row of the wrong
// width, text after the body are errors (*InputError) that name the
// field, such as rows[0].amount. Answers are written in the same encoding
// (NULL as null, NaN and infinities as strings), so they read back bit for
// bit; a row a WHERE clause filters out is null. A compute answer over
// HTTP carries a Server-Timing header: the milliseconds spent reading
// storage and in the server ("storage;dur=0.412, total;dur=0.735").
//
// Errors map to HTTP statuses in one function, Status: 400 bad input,
// 401 authentication, 404 unknown view, table or route, 409 a view name
// several databases' views share, 413 body too
// large or too many rows, 503 storage unavailable, 504 deadline passed, 500 otherwise (a
// panic included: the client gets a request id, the log the stack).
//
// # Arrival order
//
// Rows written online (Ingest, and request rows stored after their
// answer) get arrival sequence numbers from a Sequencer: the wall clock in
// microseconds, with the top bit set so they sort after every batch-loaded
// row of the same time (loads number rows file<<40 | line), and a random
// instance number so that processes writing at once do not collide.
//
// Rows of Kafka records are numbered by where the record sits in Kafka,
// records.Seq(partition, offset) (bit 62 set: after loaded rows, before
// online ones), by the Lambda's Kafka trigger and the streaming pipeline
// alike. A record delivered twice, in one event, in a retried batch, or
// to both, is written twice with the same key, time and number, and
// storage keeps one row.
package functions
