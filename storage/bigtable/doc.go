// Package bigtable implements storage.Store on Cloud Bigtable, through the
// official client (cloud.google.com/go/bigtable). Tests run it over gRPC
// against the in-process emulator (package emulators).
//
// Each fenestra table is one Bigtable table, named Config.Prefix + name.
// Every row is stored once per INDEX of the table, in the index's own
// column family, under a row key that orders a key's rows newest first:
//
//	index ordinal u8 | encoded KEY values | ^ts (8 bytes) | ^seq (8 bytes)
//
// so reading a window is one range scan, a Limit of N reads N rows, and
// writing a row again (same key, time and sequence number) overwrites it.
// The cell value is the row in a compact binary encoding (Codec) that
// carries its schema's fingerprint; a metadata row holds the table's
// definition. docs/storage-format.md describes the layout byte by byte.
//
// Tables are created by Init (and fenestra storage init), never on the
// request path. TTLs are enforced at read time exactly as storage.Mem does;
// absolute TTLs also become a maximum-age garbage-collection policy of the
// index's column family, which reclaims the space.
//
// Errors wrap the storage sentinels: storage.ErrNoTable for a table Init
// never created, storage.ErrSchema for a definition or row of another
// schema, storage.ErrUnavailable (naming the address) for a server that
// cannot be reached within Config.Timeout.
package bigtable
