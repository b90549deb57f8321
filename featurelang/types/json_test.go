package types

import (
	"encoding/json"
	"math"
	"testing"
)

// TestValueJSONRoundTrip checks that values survive JSON exactly: floats
// by their bits (NaN, infinities, -0), NULLs, strings that are not UTF-8,
// arrays and maps.
func TestValueJSONRoundTrip(t *testing.T) {
	t.Parallel()
	vals := []Value{
		NullOf(Int32), NullOf(Null), BoolValue(true), IntValue(Int16, -7), Int64Value(math.MinInt64),
		DoubleValue(math.NaN()), DoubleValue(math.Inf(-1)), DoubleValue(math.Copysign(0, -1)), DoubleValue(0.1),
		FloatValue(1.1), StringValue(""), StringValue("héllo"), StringValue("\x89\xff bad"),
		TimestampValue(1700000000123), DateValue(-1),
		{Type: ArrayOf(String), X: []Value{StringValue("a"), NullOf(String), StringValue("\xc3")}},
		{Type: MapOf(Int32, String), X: &Map{Keys: []Value{IntValue(Int32, 1)}, Vals: []Value{StringValue("x")}}},
	}
	for _, v := range vals {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		var got Value
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if !Identical(got, v) || got.Type != v.Type {
			t.Errorf("%s: round trip gave %s (%s)", v, got, b)
		}
	}
}
