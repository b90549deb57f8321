package hot

import (
	"math"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// TestKeyEncoding: two values of a column encode alike exactly when
// storage.Mem matches them (both NULL, or types.Compare finds them
// equal), and keys of several columns never run into each other.
func TestKeyEncoding(t *testing.T) {
	t.Parallel()
	arr := func(vs ...types.Value) types.Value { return types.Value{Type: types.ArrayOf(types.Int64), X: vs} }
	columns := [][]types.Value{
		{types.Int64Value(0), types.Int64Value(-1), types.Int64Value(math.MinInt64), types.Int64Value(math.MaxInt64), types.NullOf(types.Int64)},
		{types.DoubleValue(0), types.DoubleValue(math.Copysign(0, -1)), types.DoubleValue(math.NaN()),
			types.DoubleValue(math.Float64frombits(0xfff8000000000001)), types.DoubleValue(math.Inf(1)), types.DoubleValue(1.5), types.NullOf(types.Double)},
		{types.FloatValue(0.1), types.FloatValue(math.Copysign(0, -1)), types.FloatValue(0)},
		{types.StringValue(""), types.StringValue("a"), types.StringValue("a\x00"), types.StringValue("NULL"), types.NullOf(types.String)},
		{types.TimestampValue(1000), types.TimestampValue(1001), types.NullOf(types.Timestamp)},
		{types.BoolValue(true), types.BoolValue(false), types.DateValue(3)},
		{arr(types.Int64Value(1)), arr(types.Int64Value(1)), arr(), arr(types.NullOf(types.Int64)), types.NullOf(types.ArrayOf(types.Int64))},
	}
	for _, col := range columns {
		for _, a := range col {
			for _, b := range col {
				if a.Type != b.Type {
					continue
				}
				same := a.Null && b.Null || !a.Null && !b.Null && types.Compare(a, b) == 0
				if enc := string(appendKey(nil, a)) == string(appendKey(nil, b)); enc != same {
					t.Errorf("%v and %v: encoded alike %t, Mem matches them %t", a, b, enc, same)
				}
			}
		}
	}
	s := types.StringValue
	pairs := [][2][]types.Value{
		{{s("a"), s("bc")}, {s("ab"), s("c")}},
		{{s(""), s("a")}, {s("a"), s("")}},
		{{types.NullOf(types.String), s("")}, {s(""), types.NullOf(types.String)}},
	}
	for _, p := range pairs {
		var ka, kb []byte
		for i := range p[0] {
			ka, kb = appendKey(ka, p[0][i]), appendKey(kb, p[1][i])
		}
		if string(ka) == string(kb) {
			t.Errorf("keys %v and %v encode alike", p[0], p[1])
		}
	}
}
