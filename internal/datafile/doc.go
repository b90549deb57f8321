// Package datafile reads and writes typed rows as CSV and JSON Lines files:
// users' source tables on the way into the batch pipelines, training sets
// on the way out. It moves rows between files and columnar types.Block
// values without per-field allocations (other than the values of string
// columns) and with exact round trips: whatever a Writer writes, a Reader
// reads back identically, bit for bit.
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
// order (names trimmed, case-sensitive). A UTF-8 byte order mark at the
// start is skipped, CRLF line ends are accepted, quoted fields may span
// lines, and blank lines are skipped — except in a one-column file, where
// an empty line is a row whose value is NULL (there is no other way to
// write that row). Unquoted fields are trimmed of spaces and tabs; quoted
// fields are taken as they are. An unquoted empty field is NULL in every
// column; a quoted empty field is an empty string, and an error in any
// other column.
//
// Values: integers must fit the column's width (no wrapping). Floats are
// read by strconv.ParseFloat at the column's width (so NaN, Inf, Infinity,
// hexadecimal forms are accepted); a value beyond the width's range is an
// error, not an infinity. Timestamps are epoch milliseconds (so 20240102
// is a time in 1970, not a date) or text as CAST('...' AS timestamp) reads
// it: "YYYY-MM-DD" (midnight) or "YYYY-MM-DD HH:MM:SS" with an optional
// fraction, in types.Zone. A T may replace the space and an offset may
// follow (Z, +08:00, -0530, +08), so RFC 3339 is read too. Sub-millisecond
// digits must be zeros. Unlike CAST, times before 1970 are read (as
// negative milliseconds). Dates are YYYY-MM-DD (or the longer or negative
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
package datafile
