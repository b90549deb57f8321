package agg

import "github.com/fenestra-dev/fenestra/featurelang/types"

// Aggregates over a list. In OpenMLDB an aggregate's argument is a list:
// the window's values of a column, or the list a window aggregate nested in
// it returns, such as window_split_by_key(c, ",", ":"), whose elements it
// then aggregates (test_feature_zero_function.yaml#1: count of the keys,
// distinct_count of the keys). Here a nested aggregate's value is computed
// once over the frame, and every row of the frame holds it while the
// outer aggregate runs over the frame, so an array argument is read as
// follows:
//
//   - distinct_count, topn_frequency and top1_ratio count the elements of
//     every row's array (freqAcc): the list counted once per row, which
//     leaves the distinct values, their order by frequency and their
//     ratios as OpenMLDB has them;
//   - count counts the non-NULL elements of the newest row's array (a NULL
//     array has none, an empty frame gives 0): the list, counted once.
//
// An array computed per row (count(split_array(s, ",")) over w) is read
// the same way: distinct_count counts the distinct elements of all the
// frame's arrays, count the elements of the newest row's.

// listCountAcc is count over an array argument.
type listCountAcc struct {
	col    *types.Column
	rows   int // rows held
	newest int // the newest row held, when rows > 0
}

func (a *listCountAcc) Rebind(c []*types.Column) { a.col, a.rows = c[0], 0 }

func (a *listCountAcc) Reset() { a.rows = 0 }

func (a *listCountAcc) Add(row int) { a.rows, a.newest = a.rows+1, row }

func (a *listCountAcc) AddRange(lo, hi int) {
	if hi > lo {
		a.rows, a.newest = a.rows+hi-lo, hi-1
	}
}

func (a *listCountAcc) Remove(int) { a.rows-- }

func (a *listCountAcc) Result() types.Value {
	if a.rows == 0 {
		return types.Int64Value(0)
	}
	return a.ResultWith(a.newest)
}

// ResultWith counts the elements of row's array, the newest.
func (a *listCountAcc) ResultWith(row int) types.Value {
	var n int64
	if !a.col.IsNull(row) {
		elems, _ := a.col.X[row].([]types.Value)
		for _, e := range elems {
			if !e.Null {
				n++
			}
		}
	}
	return types.Int64Value(n)
}

// listElem returns the element type of an array type, or t itself.
func listElem(t types.Type) types.Type {
	if t.Kind() == types.KindArray {
		return t.Elem()
	}
	return t
}
