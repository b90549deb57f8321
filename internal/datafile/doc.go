// Package datafile reads and writes typed rows as CSV, JSON Lines and
// Parquet files: users' source tables on the way into the batch pipelines,
// training sets on the way out. It moves rows between files and columnar
// types.Block values without per-field allocations (other than the values
// of string columns) and with exact round trips: whatever a Writer writes,
// a Reader reads back identically, bit for bit, and so for a
// ParquetWriter and a ParquetReader. RowReader and BlockWriter are what
// the readers and writers of every format have in common; Open,
// OpenFile, NewBlockWriter, CreateFile and WriteFile pick the format
// (FormatOf: by the file's extension). CSVOptions choose another CSV dialect than the
// default one (the ...Options variants, and RowEncoder).
//
// # Encoding
//
// The encoding is the project's conformance encoding:
//
//	integers     decimal
//	timestamp    epoch milliseconds, an integer
//	date         YYYY-MM-DD (years outside 0000-9999 as time.Format writes them)
//	bool         true, false
//	float        shortest round-trip form for 32 bits (types.FormatFloat(f, 32))
//	double       shortest round-trip form for 64 bits; NaN, Inf, -Inf; -0 stays -0
//	array, map   (outputs only) their JSON text
//
// CSV files start with a header row of column names. NULL is an empty
// unquoted field; an empty string is written "" so it stays distinct from
// NULL. A field holding a comma, a quote, CR or LF, starting or ending with
// a space or a tab, or (in the header) starting with a byte order mark is
// quoted RFC 4180 style, quotes doubled. Lines end with LF.
//
// That is the default CSV dialect, the zero CSVOptions. Others (OpenMLDB's
// LOAD DATA and INTO OUTFILE options header, delimiter, null_value and
// quote) have another delimiter (any byte but the quote, CR and LF, tab
// included), another quote, no header row, or a null value: a text that
// stands for NULL besides the empty unquoted field. A writer of another
// dialect quotes the fields that hold its delimiter or quote, numbers,
// dates and bools included, and every value whose text is the null value
// (the string NA is written "NA" when NULL is NA); it writes NULL as the
// null value. A file without a header starts with its first row, or with
// a byte order mark when that row starts with the bytes of one (the
// reader skips one). Round trips are exact in every dialect.
//
// JSON Lines files hold one object per line, keys being the column names in
// schema order. NULL is null, non-finite floats are the strings "NaN",
// "Inf" and "-Inf", dates are strings, timestamps integers, arrays JSON
// arrays and maps JSON objects with string keys. Strings are written with
// the escapes JSON requires (quote, backslash, control characters) and
// their other bytes as they are, so a string that is not valid UTF-8 keeps
// its bytes (strict JSON parsers may reject or replace them).
//
// NaN payloads are not kept: every NaN reads back as the NaN that
// strconv.ParseFloat returns (for float columns rounded to 32 bits).
//
// # Reading
//
// The reader is lenient where that is safe and strict where data could
// silently be lost.
//
// CSV: the header names every column of the table exactly once, in any
// order (names trimmed, case-sensitive). A file without a header
// (CSVOptions.NoHeader) has the table's columns in the schema's order, and
// a row of another number of fields is a *RowError ("3 fields, the table
// has 2 columns: id int64, name string"). A UTF-8 byte order mark at the
// start is skipped, CRLF line ends are accepted, quoted fields may span
// lines, and blank lines are skipped — except in a one-column file, where
// an empty line is a row whose value is NULL (there is no other way to
// write that row). Unquoted fields are trimmed of spaces and tabs (but not
// of a tab or space that is the delimiter or the quote); quoted fields are
// taken as they are. An unquoted empty field is NULL in every column, and
// so is an unquoted field equal to the null value, if the dialect has
// one; a quoted empty field is an empty string, and an error in any other
// column, and a quoted null value is its text.
//
// Values: integers must fit the column's width (no wrapping). Floats are
// read by strconv.ParseFloat at the column's width (so NaN, Inf, Infinity,
// hexadecimal forms are accepted); a value beyond the width's range is an
// error, not an infinity. Timestamps are epoch milliseconds (so 20240102
// is a time in 1970, not a date) or text as CAST('...' AS timestamp) reads
// it: "YYYY-MM-DD" (midnight) or "YYYY-MM-DD HH:MM:SS" with an optional
// fraction, in types.Zone() (--time-zone). A T may replace the space and an offset may
// follow (Z, +08:00, -0530, +08), so RFC 3339 is read too. Sub-millisecond
// digits must be zeros. Times before 1970 are negative milliseconds, and
// unlike CAST (NULL before 1900) any year is read. Dates are YYYY-MM-DD (or the longer or negative
// years written for dates outside 0000-9999). Bools are true or false in
// any case, or 1 or 0.
//
// JSON Lines: each non-blank line is one JSON object (a byte order mark at
// the start is skipped, CRLF line ends are accepted) whose keys are column
// names: an unknown or repeated key is an error, a missing key is NULL.
// Numbers go to numeric and timestamp columns; for integers and
// timestamps the number's exact value must be an integer in range (7, 7.0
// and 7e2 are; 7.5 is not). Strings go to string and date columns, and
// also to timestamp columns (as timestamp text) and float columns (numeric
// text, "NaN", "Inf", "-Inf"). true and false go to bool columns, null to
// any column. The bare tokens NaN, Infinity and -Infinity (which Python
// writes) are accepted in float columns. String escapes are decoded as
// encoding/json decodes them (an unpaired surrogate becomes U+FFFD); raw
// bytes that are not UTF-8 are kept.
//
// A bad row is reported as a *RowError naming the file, the line the row
// starts on and the column; the Reader then continues with the next row.
//
// A CSV Reader's rows can also be read in pieces of whole records, each
// by a Reader of its own, so that several pieces parse at once
// (Reader.Split): piece after piece, the rows, their lines and the bad
// rows are those of the one Reader.
//
// # Parquet
//
// A ParquetReader reads a table from a Parquet file, whoever wrote it
// (Spark, pyarrow, DuckDB, parquet-go), row group by row group and, in a
// row group, page by page: its memory is a page of each column (and the
// column's dictionary), however large the file. It takes the values out
// of the decoded pages as typed slices, with the definition levels (NULLs)
// beside them, and never goes row by row through reflection or maps.
//
// Columns are matched by name, exactly, else case-insensitively; the
// file's other columns are ignored. A missing column, a nested or
// repeated one, or one whose type may hold values the table's column
// cannot, is an error naming the column, its Parquet type and the
// column's type. What reads as what:
//
//	bool       BOOLEAN
//	int16      INT32 annotated INT(8|16, signed) or INT(8, unsigned)
//	int32      INT32 (plain, INT(8|16|32, signed), INT(8|16, unsigned))
//	int64      INT32 (any INT annotation, UINT(32) too); INT64 (plain or INT(64, signed))
//	float      FLOAT
//	double     DOUBLE, FLOAT
//	string     BYTE_ARRAY (plain, STRING, ENUM, JSON)
//	date       INT32 DATE (days since 1970-01-01, as dates are)
//	timestamp  INT64 TIMESTAMP(MILLIS|MICROS|NANOS); INT96 (Spark, Impala);
//	           INT64 plain or INT(64, signed), as epoch milliseconds
//
// Integers only widen, never narrow: INT64 into an int32 column is
// refused, whatever the values. A value out of its column's range all the
// same (an INT32 annotated INT(16) holding 70000) is a *RowError for its
// row. Timestamps become epoch milliseconds: micro- and nanoseconds are
// truncated toward negative infinity (-1 µs is -1 ms, 1.999 ms is 1 ms),
// and so are the nanoseconds of the day of an INT96 timestamp (a Julian
// day, 2440588 being 1970-01-01, and the nanoseconds into it, as Spark
// writes them). A TIMESTAMP with isAdjustedToUTC=false (a local time, as
// pyarrow writes pandas' times without a zone) is read as if it were UTC,
// its number unchanged, as pandas, pyarrow and DuckDB take it (not in
// types.Zone() (--time-zone), as timestamp text without an offset is). Floats keep their
// bits (NaN payloads, -0). Every codec and encoding parquet-go decodes is
// read (snappy, gzip, zstd, lz4, brotli, none; plain, dictionary, delta,
// byte stream split; data pages v1 and v2). Parquet files have no lines: a row's "line" is its number in the
// file (1 for the first), and its RowError says "file: row N" (ByRow).
// Parquet needs random access: Open takes an io.ReaderAt of known size
// (a local file); a stream (an object store's reader) must be copied to a
// temporary file first.
//
// A ParquetWriter writes every column optional, in the physical and
// logical types ParquetWriter lists (timestamps as TIMESTAMP(MILLIS) in
// UTC, strings dictionary-encoded), Snappy-compressed by default as Spark
// writes, in data pages of version 1 that every reader reads. It holds a
// row group in memory, encoded and compressed, until the group is
// complete: at most 128K rows or 64 MiB of values (ParquetOptions).
//
// Why parquet-go (github.com/parquet-go/parquet-go): it is pure Go, so
// the binaries Beam ships to workers still build with CGO_ENABLED=0; it
// reads what other writers write (every codec and encoding, INT96, the
// legacy converted types); and its page readers hand out a page's values
// as typed slices with their definition levels and dictionary, which fill
// types.Block columns directly, a page at a time, so reading needs no
// per-row reflection and its memory stays flat. Its writer takes a column
// of values at a time as well. Most of its dependencies were already in
// this module (klauspost/compress, pierrec/lz4, google/uuid, x/sys,
// protobuf). apache/arrow-go has typed column-chunk readers too, but its
// Parquet reading is built around the Arrow memory model (a second
// columnar representation to convert from) and brings a larger
// dependency graph, for nothing fenestra needs.
package datafile
