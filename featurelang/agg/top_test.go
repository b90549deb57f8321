package agg

import (
	"bytes"
	"math"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

func TestTop(t *testing.T) {
	t.Parallel()
	top := func(name string, typ types.Type, k int, vals []any, want string) aggCase {
		return aggCase{name: name, fn: "top", args: []types.Type{typ, tI32},
			consts: []*types.Value{nil, constant(tI32, k)}, cols: [][]any{vals, nil}, hi: -1, want: str(want)}
	}
	negNaN := math.Copysign(math.NaN(), -1)
	// udaf_test.cc (TopkTest) lists the values newest first.
	seven := newestFirst(1, 6, 3, 4, 5, 2, 6)
	runCases(t, []aggCase{
		// The doc's example (udfs_8h.md, top).
		top("doc", tI32, 3, []any{1, 2, 3, 4, 4}, "4,4,3"),
		top("udaf_test int32", tI32, 4, seven, "6,6,5,4"),
		top("udaf_test float", tF32, 4, newestFirst(1.1, 6.6, 3.3, 4.4, 5.5, 2.2, 6.6), "6.600000,6.600000,5.500000,4.400000"),
		top("udaf_test string", tStr, 4, newestFirst("1", "6", "3", "4", "5", "2", "6"), "6,6,5,4"),
		top("udaf_test NULLs, too few values", tI32, 4, newestFirst(1, nil, 3, nil, 5), "5,3,1"),
		{name: "udaf_test empty", fn: "top", args: []types.Type{tI32, tI32}, consts: []*types.Value{nil, constant(tI32, 4)},
			cols: [][]any{{1}, nil}, hi: 0, want: str("")},
		// Date(1..6) and Timestamp(1000..6000) of udaf_test.cc, at
		// Asia/Shanghai as its expectations.
		top("udaf_test date", tDate, 4, newestFirst(-25567, -25562, -25565, -25564, -25563, -25566, -25562), "1900-01-06,1900-01-06,1900-01-05,1900-01-04"),
		top("udaf_test timestamp", tTS, 4, newestFirst(1000, 6000, 3000, 4000, 5000, 2000, 6000),
			"1970-01-01 08:00:06,1970-01-01 08:00:06,1970-01-01 08:00:05,1970-01-01 08:00:04"),
		top("only NULL", tI64, 2, []any{nil, nil}, ""),
		top("k = 0", tI32, 0, seven, ""),
		top("k < 0", tI32, -3, seven, ""),
		top("double", tF64, 2, []any{0.5, 1e10, -3.0}, "10000000000.000000,0.500000"),
		top("negative", tI16, 5, []any{-1, -7, 3}, "3,-1,-7"),
		// -0 and +0 are one key, printed as the newest zero.
		top("zero newest -0", tF64, 3, []any{0.0, 1.0, negZero}, "1.000000,-0.000000,-0.000000"),
		top("zero newest +0", tF64, 3, []any{negZero, 1.0, 0.0}, "1.000000,0.000000,0.000000"),
		top("NaN lowest", tF64, 3, []any{math.NaN(), 2.0, negNaN, 1.0}, "2.000000,1.000000,-nan"),
		{name: "sliding", fn: "top", args: []types.Type{tI64, tI64}, consts: []*types.Value{nil, constant(tI64, 2)},
			cols: [][]any{{9, 1, 5, 3, 8}, nil}, lo: 1, hi: 4, want: str("5,3")},
	})
}

// newestFirst returns the values of a list OpenMLDB's tests give newest
// first as rows, oldest first.
func newestFirst(vals ...any) []any {
	rows := make([]any, len(vals))
	for i, v := range vals {
		rows[len(vals)-1-i] = v
	}
	return rows
}

// TestTopPartialEncoding pins top's tile state: only the k greatest values.
func TestTopPartialEncoding(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		typ  types.Type
		k    int
		col  []any
		want []byte
	}{
		{"k greatest", tI32, 3, []any{1, 9, nil, 4, 9, 2}, []byte{1, 0, 0, 2, 8, 1, 5, 2}},
		{"last count cut", tI64, 2, []any{5, 5, 5}, []byte{1, 0, 0, 1, 10, 2}},
		{"k = 0", tI32, 0, []any{1}, []byte{1, 0, 0, 0}},
		{"newest zero -0", tF64, 2, []any{0.0, negZero}, []byte{1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2}},
		{"zero cut off", tF64, 1, []any{negZero, 1.0}, []byte{1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := Resolve("top", []types.Type{tt.typ, tI32}, []*types.Value{nil, constant(tI32, tt.k)})
			if err != nil {
				t.Fatal(err)
			}
			col := column(tt.typ, tt.col...)
			k := column(tI32)
			for range tt.col {
				k.Append(i32(int64(tt.k)))
			}
			got := encode(t, partialOf(f, rowValues([]*types.Column{col, k}, col.Len())))
			if !bytes.Equal(got, tt.want) {
				t.Errorf("%v: %x, want %x", tt.col, got, tt.want)
			}
		})
	}
}
