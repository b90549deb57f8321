package celexpr

import (
	"errors"
	"math"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

var testVars = []Var{
	{Name: "amount", Type: types.Double},
	{Name: "n", Type: types.Int32},
	{Name: "city", Type: types.String},
	{Name: "ok", Type: types.Bool},
	{Name: "ts", Type: types.Timestamp},
	{Name: "t2.tags", Type: types.ArrayOf(types.String)},
}

func testRow(null bool) func(i int) types.Value {
	row := []types.Value{
		types.DoubleValue(12.5), types.IntValue(types.Int32, 3), types.StringValue("Paris"),
		types.BoolValue(true), types.TimestampValue(1_700_000_000_000),
		{Type: types.ArrayOf(types.String), X: []types.Value{types.StringValue("a"), types.StringValue("b")}},
	}
	if null {
		for i := range row {
			row[i] = types.NullOf(row[i].Type)
		}
	}
	return func(i int) types.Value { return row[i] }
}

func TestEval(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src  string
		null bool // evaluate on a row of NULLs
		out  types.Type
		want types.Value
		refs int
	}{
		{src: "amount * 2.0", out: types.Double, want: types.DoubleValue(25), refs: 1},
		{src: "n + 1", out: types.Int64, want: types.Int64Value(4), refs: 1},
		{src: "amount > 10", out: types.Bool, want: types.BoolValue(true), refs: 1}, // int vs double compares
		{src: "city.startsWith('Pa') && ok", out: types.Bool, want: types.BoolValue(true), refs: 2},
		{src: "ts.getFullYear('UTC')", out: types.Int64, want: types.Int64Value(2023), refs: 1},
		{src: "t2.tags.size()", out: types.Int64, want: types.Int64Value(2), refs: 1},
		{src: "t2.tags.map(x, x + '!')", out: types.ArrayOf(types.String),
			want: types.Value{Type: types.ArrayOf(types.String), X: []types.Value{types.StringValue("a!"), types.StringValue("b!")}}, refs: 1},
		{src: "amount == null", null: true, out: types.Bool, want: types.BoolValue(true), refs: 1},
		{src: "amount * 2.0", null: true, out: types.Double, want: types.NullOf(types.Double), refs: 1}, // runtime error -> NULL
		{src: "1.0 / 0.0", out: types.Double, want: types.DoubleValue(math.Inf(1)), refs: 0},
		{src: "{'a': 1}['b']", out: types.Int64, want: types.NullOf(types.Int64), refs: 0}, // missing key -> NULL
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			p, issues := Compile(tt.src, testVars, 0)
			if len(issues) > 0 {
				t.Fatalf("compile: %v", issues)
			}
			if p.Out != tt.out || len(p.Refs) != tt.refs {
				t.Errorf("type %s with %d refs, want %s with %d", p.Out, len(p.Refs), tt.out, tt.refs)
			}
			got, err := p.Eval(testRow(tt.null))
			if err != nil {
				t.Fatal(err)
			}
			if !types.Identical(got, tt.want) {
				t.Errorf("got %s, want %s", got, tt.want)
			}
			row := make([]types.Value, len(testVars))
			for i := range row {
				row[i] = testRow(tt.null)(i)
			}
			byRow, byCol, err := evalRow(p, testVars, row)
			if err != nil || !types.Identical(byRow, tt.want) || !types.Identical(byCol, tt.want) {
				t.Errorf("EvalRow %s, EvalColumn %s (%v), want %s", byRow, byCol, err, tt.want)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src    string
		offset int // byte offset of the first issue in src
	}{
		{src: "amount + ", offset: 9},
		{src: "amount + city", offset: 7},
		{src: "a\n  + nope", offset: 0},      // undeclared 'a' at the start
		{src: "'héllo' + amount", offset: 9}, // columns count runes; offsets bytes
		{src: "{'k': amount}", offset: 0},    // a map is not a feature type
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			_, issues := Compile(tt.src, testVars, 0)
			if len(issues) == 0 {
				t.Fatal("compiled")
			}
			if issues[0].Offset != tt.offset {
				t.Errorf("first issue at %d (%s), want %d", issues[0].Offset, issues[0].Msg, tt.offset)
			}
		})
	}
}

func TestOffsetsOnLaterLines(t *testing.T) {
	t.Parallel()
	src := "amount > 1.0 &&\n   city > 2"
	_, issues := Compile(src, testVars, 0)
	if len(issues) == 0 {
		t.Fatal("compiled")
	}
	if got := src[issues[0].Offset:]; got != "> 2" {
		t.Errorf("issue points at %q, want the '>' of the second line", got)
	}
}

// TestCostLimit checks that expressions whose work can outgrow their size
// stop at the cost limit: nested comprehensions, and chained replace calls
// that multiply a string's length.
func TestCostLimit(t *testing.T) {
	t.Parallel()
	for _, src := range []string{
		"[1,2,3,4,5,6,7,8,9,10].map(a, [1,2,3,4,5,6,7,8,9,10].map(b, a*b)).size()",
		"city.replace('a', 'aaaaaaaaaa').replace('a', 'aaaaaaaaaa').replace('a', 'aaaaaaaaaa').replace('a', 'aaaaaaaaaa').size()",
	} {
		p, issues := Compile(src, testVars, 50)
		if len(issues) > 0 {
			t.Fatal(issues)
		}
		row := func(i int) types.Value {
			if testVars[i].Name == "city" {
				return types.StringValue("banana")
			}
			return testRow(false)(i)
		}
		if _, err := p.Eval(row); !errors.Is(err, ErrCostLimit) {
			t.Errorf("%s: got %v, want ErrCostLimit", src, err)
		}
		vals := make([]types.Value, len(testVars))
		for i := range vals {
			vals[i] = row(i)
		}
		if _, _, err := evalRow(p, testVars, vals); !errors.Is(err, ErrCostLimit) {
			t.Errorf("%s: EvalRow and EvalColumn give %v, want ErrCostLimit", src, err)
		}
	}
}

// TestLinearNeedsNoTracking checks which expressions run without cost
// tracking (the fast path) and which keep it.
func TestLinearNeedsNoTracking(t *testing.T) {
	t.Parallel()
	for src, want := range map[string]bool{
		"amount > 10.0 && city.startsWith('P')":    true,
		"ts.getHours('UTC') < 6 ? 'night' : 'day'": true,
		"t2.tags.exists(x, x == 'a')":              false,
		"city.replace('a', 'b')":                   false,
	} {
		c, issues := Compile(src, testVars, 0)
		if len(issues) > 0 {
			t.Fatal(issues)
		}
		if got := c.tracked; got == want {
			t.Errorf("%s: tracked=%v", src, got)
		}
	}
}
