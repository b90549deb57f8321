// Package storage is where fenestra keeps the rows that request-time
// features read: a narrow Store interface, an in-memory implementation for
// tests and local runs (Mem), and, in storage/bigtable, the Bigtable one.
//
// A table's rows are stored once per INDEX of the table (OpenMLDB indexes:
// KEY columns + a TS column), each index keeping them ordered by key, then
// time, then arrival. Reading a key's rows in a time range is then one
// range scan — which is what a window needs — and the row a LAST JOIN picks
// is the newest row of a key.
//
// Every written row carries an arrival sequence number chosen by the
// writer (an offset in the source it was read from, a line number): rows
// at equal times keep sequence order, and writing a row again with the same
// sequence lands on the same stored row, so replays are idempotent.
//
// TTLs come from the index: an absolute TTL drops rows older than the
// clock's now minus the TTL, a latest TTL keeps the newest N rows of each
// key. Both are enforced at read time; implementations may also reclaim the
// space (Bigtable's garbage collection for absolute TTLs).
//
// Every Store is an eval.Source, so the evaluator reads through it directly.
//
// A Store may also be a TileStore, keeping pre-aggregated tiles of long
// windows (partial aggregate states per key and time bucket) next to the
// rows they aggregate; Mem and the Bigtable store are, and are
// eval.TileSources through QueryTiles. A tile is valid only while its
// bucket's rows are those it was built from: every tile carries the token
// of its bucket's stored state when its builder read the rows
// (ReadBuckets), any write into the bucket changes the token, and
// ReadTiles returns only tiles whose token is current.
//
// A Store may also be a DeploymentStore, the catalog of stored DEPLOY
// statements (database, name, SQL, the plan's JSON and version), which a
// server lists to serve what was deployed; Mem and the Bigtable store are.
package storage
