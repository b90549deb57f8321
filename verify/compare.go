package verify

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// Report is the outcome of a comparison of online answers with the
// training set.
type Report struct {
	// Requests is the number of requests replayed; Compared the answers
	// that had a training row to compare with.
	Requests, Compared int
	// Missing counts training rows no answer came for (the online path
	// filtered their request out); Extra answers without a training row.
	Missing, Extra int
	// Identical counts the answers equal to their training row in every
	// column, bit for bit.
	Identical int
	// Features has a line per output column.
	Features []Feature
}

// Feature is the comparison of one output column.
type Feature struct {
	Name       string
	Type       types.Type
	Mismatches int
	// MaxAbs and MaxRel are the largest absolute and relative differences
	// of mismatching numeric values (both non-NULL); a mismatch of NULL
	// against a value, or of non-numbers, counts without a difference.
	MaxAbs, MaxRel float64
	// First lists the first mismatches: the request's key, the online and
	// the training value.
	First []string
}

// maxExamples is how many mismatches a feature lists.
const maxExamples = 3

// OK reports whether every answer equals its training row and none is
// missing or extra.
func (r *Report) OK() bool {
	return r.Missing == 0 && r.Extra == 0 && r.Identical == r.Compared
}

// Compare compares the answers to the requests (in the request table's
// arrival order; nil for a request the view filters out) with the
// training set (one row per request the view keeps, in that order).
// describe names a request in the report: its key, its row.
func Compare(answers [][]types.Value, training *types.Block, describe func(i int) string) *Report {
	r := &Report{Requests: len(answers)}
	for _, f := range training.Schema {
		r.Features = append(r.Features, Feature{Name: f.Name, Type: f.Type})
	}
	next := 0
	for i, a := range answers {
		if a == nil {
			continue
		}
		if next >= training.Len {
			r.Extra++
			continue
		}
		r.Compared++
		same := len(a) == len(training.Cols)
		for j := range r.Features {
			var got types.Value
			if j < len(a) {
				got = a[j]
			}
			want := training.Cols[j].Value(next)
			if types.Identical(got, want) {
				continue
			}
			same = false
			r.Features[j].mismatch(got, want, describe(i))
		}
		if same {
			r.Identical++
		}
		next++
	}
	r.Missing = training.Len - next
	return r
}

func (f *Feature) mismatch(got, want types.Value, who string) {
	f.Mismatches++
	if !got.Null && !want.Null && got.Type.IsNumeric() && want.Type.IsNumeric() {
		a, b := got.AsFloat(), want.AsFloat()
		if d := math.Abs(a - b); !math.IsNaN(d) { // NaN against a number has no difference to tell
			f.MaxAbs = max(f.MaxAbs, d)
			if m := max(math.Abs(a), math.Abs(b)); m > 0 && !math.IsInf(m, 0) {
				f.MaxRel = max(f.MaxRel, d/m)
			}
		}
	}
	if len(f.First) < maxExamples {
		f.First = append(f.First, fmt.Sprintf("%s: online %s, training %s", who, got, want))
	}
}

// Print writes the report as a table, a line per feature, then the
// verdict.
func (r *Report) Print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "feature\ttype\tcompared\tmismatches\tmissing\textra\tmax abs diff\tmax rel diff\tfirst mismatches")
	for _, f := range r.Features {
		first := strings.Join(f.First, "; ")
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%s\t%s\t%s\n", f.Name, f.Type, r.Compared, f.Mismatches, r.Missing, r.Extra,
			diff(f.MaxAbs, f.Mismatches), diff(f.MaxRel, f.Mismatches), first)
	}
	tw.Flush()
	if r.OK() {
		fmt.Fprintf(w, "online == offline: %d of %d rows identical\n", r.Identical, r.Compared)
		return
	}
	fmt.Fprintf(w, "online != offline: %d of %d rows identical, %d differ, %d missing online, %d extra online\n",
		r.Identical, r.Compared, r.Compared-r.Identical, r.Missing, r.Extra)
}

func diff(d float64, mismatches int) string {
	if mismatches == 0 {
		return "0"
	}
	return fmt.Sprintf("%.6g", d)
}
