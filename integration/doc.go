// Package integration holds the end-to-end tests across hosts: the proof
// that what a data scientist computes offline is what production serves.
//
// Each test starts its own emulators (Bigtable, the Lambda Runtime API),
// computes the training set with the Beam backfill on prism, loads the
// tables with the Beam materialize pipeline, and replays the request
// table, row by row in time order, through the online path — the feature
// function over HTTP, the built Lambda binary, the functions core in
// process — storing each request after its answer (verify). Every
// answer must equal its training row, bit for bit. The data is the cards
// example's and randomized tables: random keys (NULL among them), equal
// timestamps, NULLs, rows arriving out of time order, several windows and a
// point-in-time LAST JOIN.
//
// The tests are slow (they build binaries and run pipelines) and are
// skipped with -short; `go test ./...` and .ci/run run them.
package integration
