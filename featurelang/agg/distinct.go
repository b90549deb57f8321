package agg

import (
	"cmp"
	"math"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// distinct_count(x) is the number of distinct values of x, an int64 (0 over
// an empty frame), as OpenMLDB counts them (DistinctCountDef in
// hybridse/src/udf/default_udf_library.cc):
//
//   - its argument is not Nullable, so a NULL reaches the set as the type's
//     zero value: NULL counts as 0, 0.0, false or "", one more distinct
//     value unless that value is present (the conformance cases
//     test_udaf_function.yaml#5 and #6 expect 2 for {4, 4, NULL} and for
//     {false, true, NULL}). A NULL date is OpenMLDB's date code 0, which is
//     no real date: NULL dates are one value of their own.
//   - floats compare as std::unordered_set<double> compares them: -0 equals
//     +0, and every NaN is distinct from every value, itself included, so
//     each NaN row counts once.
//   - over an array, such as a nested window_split_by_key's list, the
//     distinct elements are counted (list.go), NULL elements as above.

func init() {
	register(resolveDistinctCount, "distinct_count")
}

func resolveDistinctCount(name string, args []types.Type, consts []*types.Value) (*Func, error) {
	if err := wantArgs(name, args, 1); err != nil {
		return nil, err
	}
	if t := listElem(args[0]); !t.IsScalar() || t == types.Null {
		return nil, argError(name, "cannot count distinct values of %s", args[0])
	}
	nulls := distinctNulls(args[0])
	return newFunc(name, args, types.Int64, consts, func(c []*types.Column) Acc {
		return newFreqAcc(c[0], nulls, distinctCount, true)
	}), nil
}

// distinctNulls is how distinct_count of values of type t (or of an
// array of them) counts NULLs.
func distinctNulls(t types.Type) nullsMode {
	if listElem(t) == types.Date {
		return nullsApart
	}
	return nullsAsZero
}

// distinctCount is distinct_count's result: the keys, each NaN, and the
// NULLs when they are a value of their own.
func distinctCount(f freqSummary) types.Value {
	n := int64(f.keys) + f.nan
	if f.nulls > 0 {
		n++
	}
	return types.Int64Value(n)
}

// nullsMode is how a freqAcc counts NULLs.
type nullsMode uint8

const (
	nullsSkip   nullsMode = iota // NULLs are not counted
	nullsAsZero                  // a NULL counts as the zero value of the type
	nullsApart                   // NULLs are one key of their own
)

// freqAcc counts the values of a column by key, in O(1) per row: the state
// of distinct_count, topn_frequency and top1_ratio. NULLs are skipped or
// counted as nulls says. Float keys are canonical (-0 is +0) and NaNs are
// counted apart, since a NaN map key could never be found again. The result
// is computed by out from the counts.
//
// Over an array column each element is counted as a value (a NULL array
// adds none): topn_frequency(window_split(s, ","), n) sees the array of
// pieces a nested window_split computes over the frame, on every row of the
// frame, so every piece is counted once per row. That scales all counts
// alike and leaves the order of keys and their ratios as OpenMLDB, which
// counts the pieces of its list once, has them.
type freqAcc[K cmp.Ordered] struct {
	freqCounts[K]
	col   *types.Column
	key   func(row int) K       // a scalar column's key of a non-NULL, non-NaN row
	keyOf func(v types.Value) K // an array element's key
	isNaN func(row int) bool    // nil unless the column is float
	elems bool                  // the column is an array; its elements are counted
	out   func(freqSummary) types.Value
	// keysOnly says out reads only the summary's counts, not its entries
	// (distinct_count): the values may then be numbered (NumberValues).
	keysOnly bool
	// num, once NumberValues has run, holds the counts by value number.
	num *numbered
}

// freqCounts are the counts by key of a freqAcc or a freqPartial.
type freqCounts[K cmp.Ordered] struct {
	m     map[K]int64
	nan   int64 // NaN values
	nulls nullsMode
	null  int64 // NULLs, when nulls is nullsApart
	rows  int64 // values counted, NULLs included
}

// freqSummary is what an output function sees of a freqAcc.
type freqSummary struct {
	rows, nan, nulls int64
	keys             int
	src              interface{ entries() []freqEntry } // the counts
}

// entries returns the (key, count) pairs, NaN included, in no order. (An
// interface, not a method value, keeps the summary from allocating.)
func (f freqSummary) entries() []freqEntry { return f.src.entries() }

// freqEntry is one key and its count. The key is held as the payload of a
// types.Value of the column's type; nan marks the NaN key.
type freqEntry struct {
	i     int64
	f     float64
	s     string
	nan   bool
	count int64
}

// newFreqAcc returns a freqAcc over col with the key type of its storage
// (of its elements' storage for an array); keysOnly is set when out reads
// only the summary's counts.
func newFreqAcc(col *types.Column, nulls nullsMode, out func(freqSummary) types.Value, keysOnly bool) Acc {
	t, elems := col.Type, col.Type.Kind() == types.KindArray
	if elems {
		t = t.Elem()
	}
	switch {
	case t == types.String:
		return &freqAcc[string]{freqCounts: newFreqCounts[string](nulls), col: col, elems: elems, out: out, keysOnly: keysOnly,
			key:   func(r int) string { return col.S[r] },
			keyOf: stringKey,
		}
	case t.IsFloat():
		return &freqAcc[float64]{freqCounts: newFreqCounts[float64](nulls), col: col, elems: elems, out: out, keysOnly: keysOnly,
			key:   func(r int) float64 { return canonicalZero(col.F[r]) },
			keyOf: floatKey,
			isNaN: func(r int) bool { return math.IsNaN(col.F[r]) },
		}
	}
	return &freqAcc[int64]{freqCounts: newFreqCounts[int64](nulls), col: col, elems: elems, out: out, keysOnly: keysOnly,
		key:   func(r int) int64 { return col.I[r] },
		keyOf: intKey,
	}
}

// newFreqCounts returns empty counts that count NULLs as nulls says.
func newFreqCounts[K cmp.Ordered](nulls nullsMode) freqCounts[K] {
	return freqCounts[K]{m: map[K]int64{}, nulls: nulls}
}

// The keys of non-NULL, non-NaN values by key type.
func stringKey(v types.Value) string { return v.S }
func floatKey(v types.Value) float64 { return canonicalZero(v.F) }
func intKey(v types.Value) int64     { return v.I }

// canonicalZero returns f, with -0 as +0.
func canonicalZero(f float64) float64 {
	if f == 0 {
		return 0
	}
	return f
}

func (a *freqAcc[K]) Reset() {
	a.reset()
	if a.num != nil {
		a.num.reset()
	}
}

func (c *freqCounts[K]) reset() {
	clear(c.m)
	c.nan, c.null, c.rows = 0, 0, 0
}

// count adds (d = 1) or removes (d = -1) the values of row.
func (a *freqAcc[K]) count(row int, d int64) {
	if a.num != nil {
		a.countNumbered(row, d)
		return
	}
	if a.elems {
		if a.col.IsNull(row) {
			return
		}
		elems, _ := a.col.X[row].([]types.Value)
		for _, e := range elems {
			nan := !e.Null && e.Type.IsFloat() && math.IsNaN(e.F)
			a.countValue(e.Null, nan, a.keyOf(e), d)
		}
		return
	}
	var k K
	null := a.col.IsNull(row)
	nan := !null && a.isNaN != nil && a.isNaN(row)
	if !null && !nan {
		k = a.key(row)
	}
	a.countValue(null, nan, k, d)
}

// countValue counts one value with key k.
func (c *freqCounts[K]) countValue(null, nan bool, k K, d int64) {
	c.rows += d
	switch {
	case null && c.nulls == nullsSkip:
		return
	case null && c.nulls == nullsApart:
		c.null += d
		return
	case null:
		var zero K // the zero value of the type
		k = zero
	case nan:
		c.nan += d
		return
	}
	if n := c.m[k] + d; n != 0 {
		c.m[k] = n
	} else {
		delete(c.m, k)
	}
}

func (a *freqAcc[K]) Add(row int) { a.count(row, 1) }

func (a *freqAcc[K]) AddRange(lo, hi int) {
	for i := lo; i < hi; i++ {
		a.count(i, 1)
	}
}

func (a *freqAcc[K]) Remove(row int) { a.count(row, -1) }

func (a *freqAcc[K]) Result() types.Value {
	f := a.summary()
	if a.num != nil {
		f.keys = a.num.keys
	}
	return a.out(f)
}

// summary returns what an output function sees of the counts.
func (c *freqCounts[K]) summary() freqSummary {
	return freqSummary{rows: c.rows, nan: c.nan, nulls: c.null, keys: len(c.m), src: c}
}

// ResultWith counts row, computes and uncounts it: counting is exactly
// undone, so the state is unchanged.
func (a *freqAcc[K]) ResultWith(row int) types.Value {
	a.count(row, 1)
	r := a.Result()
	a.count(row, -1)
	return r
}

func (c *freqCounts[K]) entries() []freqEntry {
	es := make([]freqEntry, 0, len(c.m)+1)
	for k, n := range c.m {
		e := freqEntry{count: n}
		switch k := any(k).(type) {
		case int64:
			e.i = k
		case float64:
			e.f = k
		case string:
			e.s = k
		}
		es = append(es, e)
	}
	if c.nan > 0 {
		es = append(es, freqEntry{f: math.NaN(), nan: true, count: c.nan})
	}
	return es
}

// compareKeys orders two keys of type t: by value, NaN first.
func compareKeys(t types.Type, a, b freqEntry) int {
	switch {
	case t == types.String:
		return cmp.Compare(a.s, b.s)
	case t.IsFloat():
		return cmp.Compare(a.f, b.f)
	}
	return cmp.Compare(a.i, b.i)
}
