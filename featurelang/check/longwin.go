package check

import (
	"math"
	"strconv"
	"strings"

	"github.com/fenestra-dev/fenestra/featurelang/ast"
	"github.com/fenestra-dev/fenestra/featurelang/diag"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
)

// LongWindow is one entry of DEPLOY ... OPTIONS(long_windows="w1:1d,w2"):
// a window whose aggregates may be served from pre-aggregated tiles, and
// its bucket.
type LongWindow struct {
	Name  string
	Tiles plan.Tiles
	src   *diag.Source
	at    diag.Pos // the entry's name, in src
}

// DefaultBucket is the bucket of a long window listed without one
// ("long_windows='w1'"): OpenMLDB's default, its bucket_size flag.
const DefaultBucket = "1d"

// deployOptions are the OPTIONS OpenMLDB documents for DEPLOY. Only
// long_windows has an effect here; the others are accepted and ignored.
var deployOptions = map[string]bool{
	"long_windows": true, "skip_index_check": true, "range_bias": true, "rows_bias": true, "sync": true,
}

// DeployOptions checks the OPTIONS of a DEPLOY statement and returns its
// long windows (nil when there are none). Errors go to errs: an unknown
// or repeated option, a long_windows value that is not a string or not
// "name[:bucket],...".
func DeployOptions(src *diag.Source, opts []*ast.Option, errs *diag.List) []LongWindow {
	var out []LongWindow
	seen := map[string]bool{}
	for _, o := range opts {
		switch {
		case !deployOptions[o.Key]:
			errs.Add(src, o.At, "unknown DEPLOY option %q; OpenMLDB's are long_windows, skip_index_check, range_bias, rows_bias and sync", o.Key)
			continue
		case seen[o.Key]:
			errs.Add(src, o.At, "DEPLOY option %s is given twice", o.Key)
			continue
		}
		seen[o.Key] = true
		if o.Key != "long_windows" {
			continue
		}
		lit, ok := o.Value.(*ast.Literal)
		if !ok || lit.Kind != ast.StringLit {
			errs.Add(src, o.Value.Pos(), `long_windows takes a string such as "w1:1d,w2:1h"`)
			continue
		}
		out = parseLongWindows(src, lit.S, lit.SourcePos, errs)
	}
	return out
}

// LongWindows parses text, a long_windows value given outside any SQL
// file (featurelang.Options.LongWindows): errors point into text itself,
// as a source named "long_windows".
func LongWindows(text string, errs *diag.List) []LongWindow {
	src := diag.NewSource("long_windows", text)
	return parseLongWindows(src, text, func(k int) diag.Pos { return diag.Pos(k) }, errs)
}

// parseLongWindows parses "name[:bucket],...". pos maps a byte offset of
// text to its position in src. As in OpenMLDB (sql_cluster_router.cc,
// HandleLongWindows; storage/aggregator.cc, CreateAggregator), a bucket is
// a positive number of rows or a positive integer with unit s, m, h or d,
// and a name without a bucket gets DefaultBucket.
func parseLongWindows(src *diag.Source, text string, pos func(int) diag.Pos, errs *diag.List) []LongWindow {
	var out []LongWindow
	seen := map[string]bool{}
	off := 0
	for _, entry := range strings.Split(text, ",") {
		start := off + len(entry) - len(strings.TrimLeft(entry, " \t"))
		off += len(entry) + 1
		parts := strings.Split(entry, ":")
		name := strings.TrimSpace(parts[0])
		switch {
		case name == "":
			errs.Add(src, pos(start), `long_windows: want "window[:bucket]", e.g. "w1:1d", got %q`, strings.TrimSpace(entry))
			continue
		case len(parts) > 2:
			errs.Add(src, pos(start), "long_windows: %q has more than one ':'", strings.TrimSpace(entry))
			continue
		case seen[strings.ToLower(name)]:
			errs.Add(src, pos(start), "long_windows lists window %s twice", name)
			continue
		}
		seen[strings.ToLower(name)] = true
		bucket, bucketAt := DefaultBucket, start
		if len(parts) == 2 {
			bucket = strings.TrimSpace(parts[1])
			bucketAt = start + len(parts[0]) + 1 + len(parts[1]) - len(strings.TrimLeft(parts[1], " \t"))
		}
		tiles, ok := parseBucket(bucket)
		if !ok {
			errs.Add(src, pos(bucketAt), "long window %s: bucket %q must be a positive number of rows or a duration with unit s, m, h or d (e.g. 1d)", name, bucket)
			continue
		}
		out = append(out, LongWindow{Name: name, Tiles: tiles, src: src, at: pos(start)})
	}
	return out
}

// bucketUnits are the duration units of a bucket, in milliseconds.
var bucketUnits = map[byte]int64{'s': 1000, 'm': 60_000, 'h': 3_600_000, 'd': 86_400_000}

// parseBucket reads "100" (rows) or "1d" (a duration).
func parseBucket(s string) (plan.Tiles, bool) {
	if n, ok := positive(s); ok {
		return plan.Tiles{BucketRows: n}, true
	}
	if s == "" {
		return plan.Tiles{}, false
	}
	mult, ok := bucketUnits[strings.ToLower(s[len(s)-1:])[0]]
	if !ok {
		return plan.Tiles{}, false
	}
	n, ok := positive(strings.TrimSpace(s[:len(s)-1]))
	if !ok || n > math.MaxInt64/mult {
		return plan.Tiles{}, false
	}
	return plan.Tiles{BucketMs: n * mult}, true
}

// positive parses a string of decimal digits with a value above zero.
func positive(s string) (int64, bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}
