// Package dataflow builds Apache Beam pipelines that host the evaluator
// (package featurelang/eval) offline:
//
//   - Backfill computes a feature view over source files (CSV, JSON Lines,
//     Parquet) in batch mode, point in time, and writes the training set
//     (CSV, JSON Lines or Parquet): one row per FROM-table row, in the FROM
//     table's order (for GROUP BY, a row per group, in order of first
//     appearance; for a whole-table aggregate, one row).
//   - Materialize loads source files into the online store (package
//     storage), idempotently.
//
// The pipelines run on any Beam runner: locally on prism (the default of
// beamx.Run, in process), at scale on Flink, Spark or Dataflow through the
// portable runner.
//
// # Blocks, buckets and memory
//
// Beam charges per element (on prism about 10–15 µs), so elements here are
// blocks of rows, never single rows. A reader parses a file into blocks of
// rows (a CSV file in pieces of whole records, several at once, added in
// file order; JSON Lines sequentially; a Parquet file row group by row
// group and page by page; one on an object store, whose reader is a
// stream, is first copied to a temporary file on the worker, since Parquet
// is read from its footer), routes each row to a bucket (package bucket:
// hashing the columns every window partitions by, so a window's rows meet
// in one bucket) and emits each bucket's rows as compact chunks (package
// internal/wire) of about 1 MiB. One GroupByKey brings a bucket's chunks
// together; they are put back in arrival order and the bucket is evaluated
// in one call of the batch evaluator, up to GOMAXPROCS buckets at a time
// per DoFn instance. Tables a view needs whole (a LAST JOIN that cannot be
// keyed) are written by their reader to a file beside the output, whose
// name reaches every bucket through the GroupByKey; each DoFn instance
// reads it once. (A side input would do, but prism polls, a core busy,
// for as long as a stage that reads one runs.)
//
// A bucket is evaluated in memory: its rows, decoded, take about the size
// of their CSV text, and the evaluator's working set is a few times that;
// a worker evaluates up to GOMAXPROCS buckets at once.
// Memory therefore grows with the largest bucket, which is the input size
// divided by the bucket count (--buckets; by default one bucket per 4 MiB
// of input), but never less than the largest key: all rows of a key (a
// card's whole history) are in one bucket, since a window may need them
// all. A key too large for a worker's memory makes that worker fail; the
// fix is more memory per worker, not more workers. Whole tables are held
// by every worker. A view whose windows share no partition column cannot
// be split (package bucket says why) and runs in a single bucket.
//
// A runner may also hold a shuffle's elements in memory: prism does, so
// on prism memory grows with the input too. RunWaves bounds it by
// evaluating the buckets in waves (WavesFor says how many a memory budget
// needs): each wave is the same pipeline keeping a share of the buckets
// (BackfillJob.Wave), which leaves its runs in a temporary directory, and
// the writer's merge then merges the runs of all the waves into the
// output, byte for byte the one pipeline's.
//
// A key larger than a wave may hold (a bot with millions of rows) is cut
// into parts (SplitKeys, run before the waves): its rows, in window
// order, into runs between order values, each evaluated as a bucket of
// its own with the rows before it that its windows reach back to (the
// view's eval.Lookback: the widest ROWS_RANGE frame, the most rows a ROWS
// frame or lag counts back) as context, whose output rows it drops. A
// part holds at most the limit (MaxKeyRows: half a wave's room), context
// included (WavesWithSplits gives the waves that hold them), and the
// output is byte for byte the key's evaluated whole.
// Finding such keys costs a read of the FROM table's files (counting
// frequent keys in bounded memory), and a second only when one may be
// that large. A view whose windows reach back without bound (an unbounded
// frame, a GROUP BY, lag IGNORE NULLS, a UNION, ...), or whose frames
// alone hold more of the key's rows than the limit, fails before the
// first wave with an error naming the key, its rows, the limit and why
// (ErrKeyTooLarge). A key's rows of a LAST JOIN's right side go to every
// part, so they must fit.
//
// A materialize's writers' GroupByKey is held by prism too (more of it:
// MaterializeWavesFor's model). RunMaterializeWaves loads the input in
// waves of the same pipeline, each storing the rows of a share of the
// keys (MaterializeJob.Wave: by the hash of a table's first-index key
// and the number of waves alone, bucket.Hasher.Place). Stored rows are
// idempotent and independent of the order of writes, so the waves need
// no merge: each stores its keys, and builds their tiles, as the one
// pipeline's writers do.
//
// Materialize routes a table's rows to its writers by the key of the
// table's first index, and a writer stores up to 262,144 rows of a table
// in one write, so that a key's rows of a day land in one storage segment
// or a few (see docs/storage-format.md); a writer holds that many rows in
// memory. A writer that builds tiles of long windows (MaterializeJob.Views)
// also keeps, for each tiled window, the keys its rows touched and their
// bucket starts, and at its end rebuilds those buckets' tiles from the
// store (one ReadBuckets per window and key); the stream does the same
// per batch (StreamJob.Views).
//
// Each bucket writes its output rows, encoded (as lines of the output's
// format, or, for a Parquet output, as one-row chunks of package
// internal/wire) and tagged with their FROM-table rows' sequence numbers,
// to a part file beside the output (so the output's directory must be one
// every worker can reach: a shared file system or an object store such as
// gs://). One writer then merges the part files by sequence number,
// streaming, into the output file and removes them (and the files of the
// tables read whole); its memory does not
// grow with the output (a Parquet output is written a block at a time and
// held a row group at a time). Files are written under a temporary name
// and renamed into place, so a failed or retried step never leaves a file
// that looks complete.
//
// # Arrival order and sequence numbers
//
// A row's arrival sequence number is its file's position among the table's
// files (in the order given) times 2^40 plus the line the row starts on
// (in a Parquet file, its row number).
// Rows of equal time are ordered by it, exactly as the evaluator orders a
// table's rows in arrival order, and storage keys use it, so loading the
// same files again writes the same stored rows.
package dataflow
