package datafile

import (
	"fmt"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// Format is a file format.
type Format int

// The formats. The zero Format is invalid.
const (
	CSV     Format = iota + 1 // comma-separated values with a header row
	JSONL                     // JSON Lines: one JSON object per line
	Parquet                   // Apache Parquet: typed columns in row groups
)

// String returns "CSV", "JSONL", "Parquet" or "Format(n)".
func (f Format) String() string {
	switch f {
	case CSV:
		return "CSV"
	case JSONL:
		return "JSONL"
	case Parquet:
		return "Parquet"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// FormatOf returns the format of a file by its extension (case-insensitive):
// .csv is CSV; .jsonl, .ndjson and .json are JSONL; .parquet is Parquet.
// Any other extension is an error naming the path.
func FormatOf(path string) (Format, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return CSV, nil
	case ".jsonl", ".ndjson", ".json":
		return JSONL, nil
	case ".parquet":
		return Parquet, nil
	}
	return 0, fmt.Errorf("datafile: %s: unknown file format (want .csv, .jsonl, .ndjson, .json or .parquet)", path)
}

// RowError is a row that cannot be read: a malformed record, or a value
// that does not fit its column. Line is the line the row starts on (1 is
// the first line of the file), or, when ByRow is set (Parquet files, which
// have no lines), the row's number in the file (1 is the first row).
// Column is the column's name, or empty when the problem is the row as a
// whole.
type RowError struct {
	File   string
	Line   int64
	ByRow  bool
	Column string
	Msg    string
}

// Error returns "file:line: column name: msg", or "file:line: msg" when
// Column is empty; with ByRow, "file: row N: ..." instead of "file:line: ...".
func (e *RowError) Error() string {
	where := fmt.Sprintf("%s:%d", e.File, e.Line)
	if e.ByRow {
		where = fmt.Sprintf("%s: row %d", e.File, e.Line)
	}
	if e.Column == "" {
		return fmt.Sprintf("%s: %s", where, e.Msg)
	}
	return fmt.Sprintf("%s: column %s: %s", where, e.Column, e.Msg)
}

// maxQuoted is how many bytes of a bad value an error message shows.
const maxQuoted = 64

// clip returns b as a string, cut to maxQuoted bytes (on a rune
// boundary) with "..." after.
func clip(b []byte) string {
	if len(b) <= maxQuoted {
		return string(b)
	}
	return string(b[:runeStart(b, maxQuoted)]) + "..."
}

// runeStart returns the last rune boundary of b at or before n < len(b).
func runeStart(b []byte, n int) int {
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	return n
}

// quote renders a bad value for an error message: Go-quoted, cut to
// maxQuoted bytes (on a rune boundary) with "..." after.
func quote(b []byte) string {
	if len(b) <= maxQuoted {
		return fmt.Sprintf("%q", b)
	}
	return fmt.Sprintf("%q...", b[:runeStart(b, maxQuoted)])
}
