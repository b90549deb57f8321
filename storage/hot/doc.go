// Package hot is an in-memory serving tier over a storage.Store: Store
// wraps a back store (in production the Bigtable store), takes tables into
// memory (Load) and answers reads from memory, so an online server makes no
// remote read per request. Its answers are storage.Mem's for the same rows,
// bit for bit and in the same order: online must equal offline.
//
// # Layout
//
// For each loaded table and each of its indexes, memory holds a map from
// the encoded KEY values (a NULL flag, then 8 bytes for a value held as
// an integer or a float, -0 and every NaN written as one, or a
// length-prefixed string) to that key's rows: a columnar block kept in window order (TS
// ascending, NULL first, then sequence number), with the rows' TS values
// and sequence numbers beside it. A read encodes its key once, finds the
// key's rows, binary-searches the TTL's first live row and the [From, To]
// range and copies that stretch out. A row lives once per index (each
// index keeps its own order and TTL); per index, a map from sequence
// number to the row's key and time makes a rewrite replace the old copy,
// wherever its key or time moved it.
//
// The reads memory does not index are answered by copying the rows of
// the index storage.Mem would use into a storage.Mem and asking it
// (slower, and exact by construction): a Scan without keys or through no
// index on its keys, a key value of another type than its column (which
// types.Compare may find equal to several stored values), and a Scan
// without TS through an index with a timestamp KEY column (whose rows Mem
// ranks for the TTL by the key's second).
//
// # Loading and applying
//
// Until Load has taken a table into memory, its reads go to the back
// store. Load describes the table and reads every stored row through the
// back store's storage.Dumper, keeping of the copies of one sequence
// number the one of the greatest stamp. Init only creates tables in the
// back store: a server calls Load for each table it serves. Rows also
// reach memory by Write (the back store first, then memory) and by Apply
// (memory only: rows another writer, such as the stream from Kafka,
// stores in the back store). Rows written or applied before or during
// Load are kept: a copy Load reads never replaces one of the same
// sequence number written or applied, and among those, the last one wins.
//
// # Pruning
//
// On each Apply, Write and block of a Load, an index drops the rows whose
// absolute TTL expired more than Options.Keep before the clock's now
// (TS + TTL < now - Keep): among the new rows, and the oldest rows of
// each key they touch. Only an index whose absolute TTL expires a row
// whatever its rank prunes (TTL_TYPE absolute or absandlat, or an age
// with no type): absorlat keeps a too-old row among its key's newest, and
// a latest TTL alone never prunes, as a rewrite moving a newer row to
// another key can lift an older row back into the newest N. A table's
// horizon is the latest now - Keep at which it dropped a row; a read
// whose time (its AsOf, else now) is before the horizon goes to the back
// store. From the horizon on, a dropped row is expired, and older than
// every row a read can return, so it changes neither what a read returns
// nor the ranks a latest TTL counts: memory's answers stay exact. With a
// clock that only moves forward, every read as of now - Keep or later is
// answered from memory.
//
// Store is safe for concurrent use: reads share a table's lock, and an
// Apply, a Write or a block of a Load holds it alone while it changes
// memory, so a read sees a block applied whole or not at all.
package hot
