package verify

import (
	"math"
	"strings"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// TestCompare: identical rows pass; a difference (value, NULL, NaN, -0)
// is counted per feature with its largest differences and first rows; a
// request filtered out online leaves its training row missing, an answer
// past the training rows is extra.
func TestCompare(t *testing.T) {
	t.Parallel()
	schema := types.Schema{{Name: "id", Type: types.Int64}, {Name: "sum", Type: types.Double}, {Name: "name", Type: types.String}}
	row := func(id int64, sum types.Value, name string) []types.Value {
		return []types.Value{types.Int64Value(id), sum, types.StringValue(name)}
	}
	d := types.DoubleValue
	training := types.BlockOf(schema, [][]types.Value{row(1, d(10), "a"), row(2, d(20), "b"), row(3, d(0), "c"), row(4, d(math.NaN()), "d")})
	who := func(i int) string { return "request " + string(rune('1'+i)) }
	for _, c := range []struct {
		name                                     string
		answers                                  [][]types.Value
		ok                                       bool
		identical, compared, missing, extra, sum int
		maxAbs, maxRel                           float64
		first                                    string
	}{
		{"identical", [][]types.Value{row(1, d(10), "a"), row(2, d(20), "b"), row(3, d(0), "c"), row(4, d(math.NaN()), "d")}, true, 4, 4, 0, 0, 0, 0, 0, ""},
		{"a value off", [][]types.Value{row(1, d(10), "a"), row(2, d(25), "b"), row(3, d(0), "c"), row(4, d(math.NaN()), "d")}, false, 3, 4, 0, 0, 1, 5, 0.2, "request 2: online 25, training 20"},
		{"NULL for a value, -0 for 0", [][]types.Value{row(1, types.NullOf(types.Double), "a"), row(2, d(20), "b"), row(3, d(math.Copysign(0, -1)), "c"), row(4, d(math.NaN()), "d")}, false, 2, 4, 0, 0, 2, 0, 0, "request 1: online NULL, training 10"},
		{"filtered online", [][]types.Value{row(1, d(10), "a"), row(2, d(20), "b"), row(3, d(0), "c"), nil}, false, 3, 3, 1, 0, 0, 0, 0, ""},
		{"extra online", [][]types.Value{row(1, d(10), "a"), row(2, d(20), "b"), row(3, d(0), "c"), row(4, d(math.NaN()), "d"), row(5, d(1), "e")}, false, 4, 4, 0, 1, 0, 0, 0, ""},
	} {
		r := Compare(c.answers, training, who)
		sum := r.Features[1]
		if r.OK() != c.ok || r.Identical != c.identical || r.Compared != c.compared || r.Missing != c.missing || r.Extra != c.extra ||
			sum.Mismatches != c.sum || sum.MaxAbs != c.maxAbs || math.Abs(sum.MaxRel-c.maxRel) > 1e-12 {
			t.Errorf("%s: %+v", c.name, r)
		}
		if c.first != "" && (len(sum.First) == 0 || sum.First[0] != c.first) {
			t.Errorf("%s: first mismatches %q, want %q first", c.name, sum.First, c.first)
		}
		var out strings.Builder
		r.Print(&out)
		if verdict := "online == offline"; c.ok != strings.Contains(out.String(), verdict) {
			t.Errorf("%s: the report says\n%s", c.name, out.String())
		}
	}
}
