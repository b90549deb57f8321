package conformance

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// compare checks got against the case's expected columns and rows and
// returns why they differ, or "".
//
// A case with a row count (Expect.Count) and no rows checks the count
// only. Rows are sorted by the expected order column when the case names one and
// compared as multisets otherwise. Floats match within a relative 1e-5 (or
// absolute 1e-9 near zero) because expected values are often printed
// rounded; NaN matches NaN.
func compare(c *Case, got *types.Block) string {
	want, err := schemaOf(c.Expect.Columns)
	if err != nil {
		return "expected columns: " + err.Error()
	}
	if why := compareSchema(got.Schema, want); why != "" {
		return why
	}
	wantRows := make([][]types.Value, len(c.Expect.Rows))
	for i, raw := range c.Expect.Rows {
		if wantRows[i], err = decodeRow(raw, want); err != nil {
			return fmt.Sprintf("expected row %d: %v", i+1, err)
		}
	}
	if n := c.Expect.Count; n != nil {
		if got.Len != *n {
			return fmt.Sprintf("got %d rows, want %d (count)", got.Len, *n)
		}
		if len(wantRows) == 0 {
			return "" // the case lists no rows: the count is what it checks
		}
	}
	gotRows := got.Rows()
	if len(gotRows) != len(wantRows) {
		return fmt.Sprintf("got %d rows, want %d", len(gotRows), len(wantRows))
	}
	key := -1
	if c.Expect.Order != "" {
		key = want.Index(c.Expect.Order)
	}
	sortRows(gotRows, key)
	sortRows(wantRows, key)
	for i := range wantRows {
		for j, f := range want {
			if !sameValue(gotRows[i][j], wantRows[i][j]) {
				return fmt.Sprintf("row %d column %s: got %s, want %s", i+1, f.Name, show(gotRows[i][j]), show(wantRows[i][j]))
			}
		}
	}
	return ""
}

func compareSchema(got, want types.Schema) string {
	if len(got) != len(want) {
		return fmt.Sprintf("got %d columns %s, want %d %s", len(got), got, len(want), want)
	}
	for i := range want {
		if !strings.EqualFold(got[i].Name, want[i].Name) || got[i].Type != want[i].Type {
			return fmt.Sprintf("column %d: got %s %s, want %s %s", i+1, got[i].Name, got[i].Type, want[i].Name, want[i].Type)
		}
	}
	return ""
}

// sortRows sorts by column key (stable), or by the whole row when key < 0.
func sortRows(rows [][]types.Value, key int) {
	slices.SortStableFunc(rows, func(a, b []types.Value) int {
		if key >= 0 {
			return compareValues(a[key], b[key])
		}
		for i := range a {
			if c := compareValues(a[i], b[i]); c != 0 {
				return c
			}
		}
		return 0
	})
}

func compareValues(a, b types.Value) int {
	switch {
	case a.Null && b.Null:
		return 0
	case a.Null:
		return -1
	case b.Null:
		return 1
	}
	return types.Compare(a, b)
}

// sameValue compares a result with an expected value.
func sameValue(got, want types.Value) bool {
	if got.Null || want.Null {
		return got.Null == want.Null
	}
	if want.Type.IsFloat() {
		g, w := got.F, want.F
		switch {
		case math.IsNaN(w) || math.IsNaN(g):
			return math.IsNaN(w) && math.IsNaN(g)
		case math.IsInf(w, 0) || math.IsInf(g, 0):
			return g == w
		}
		diff := math.Abs(g - w)
		return diff <= 1e-9 || diff <= 1e-5*math.Max(math.Abs(g), math.Abs(w))
	}
	return types.Compare(got, want) == 0
}

func show(v types.Value) string {
	if v.Type == types.String && !v.Null {
		return fmt.Sprintf("%q", v.S)
	}
	return v.String()
}
