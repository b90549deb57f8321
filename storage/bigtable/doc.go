// Package bigtable implements storage.Store on Cloud Bigtable, through the
// official client (cloud.google.com/go/bigtable). Tests run it over gRPC
// against the in-process emulator (package emulators).
//
// Each fenestra table is one Bigtable table, named Config.Prefix + name.
// Every row is stored once per INDEX of the table, in the index's own
// column family. A Bigtable row holds one key's rows of one day, newest
// first:
//
//	index ordinal u8 | encoded KEY values | ^day (8 bytes)
//
// in segments: a cell per write holding that write's rows of the Bigtable
// row, with their times and sequence numbers, under a qualifier (^ts |
// ^seq | digest) that makes a replayed write overwrite its own cells.
// Reading a window is one range scan of a few Bigtable rows; reads merge a
// row's segments, the latest copy of a sequence number winning.
// Rows are in a compact binary encoding (Codec) that
// carries its schema's fingerprint; a metadata row holds the table's
// definition. Pre-aggregated tiles (storage.TileStore) are rows of their
// own under the first byte 0xFE, in their index's family; a tile carries
// the token of its bucket (a hash of the day rows' days and version
// cells, which every write sets anew), and reads return it only while the
// token is unchanged. The stored deployments (storage.DeploymentStore)
// are a table of their own, Config.Prefix + "-deployments", a row per
// deployment keyed by database, a NUL byte and name.
// docs/storage-format.md describes the layout byte by byte.
//
// Tables are created by Init (and fenestra storage init), never on the
// request path. TTLs are enforced at read time exactly as storage.Mem does;
// absolute TTLs also become a maximum-age garbage-collection policy of the
// index's column family, which reclaims the space.
//
// Errors wrap the storage sentinels: storage.ErrNoTable for a table Init
// never created, storage.ErrSchema for a definition or row of another
// schema, storage.ErrUnavailable (naming the address) for a server that
// cannot be reached within Config.Timeout, storage.ErrPermission for
// credentials the server refuses. Probe (storage.Prober) is the readiness
// check: it reads the tables' definitions, uncached.
package bigtable
