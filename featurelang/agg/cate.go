package agg

import (
	"cmp"
	"slices"
	"strings"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// The category family aggregates a value per category key and prints the
// result as a string "k1:v1,k2:v2" (hybridse/src/udf/default_defs/
// *_by_category_def.cc, aggregate_def.cc and udf/containers.h):
//
//	count_cate(v, k)  sum_cate  avg_cate  min_cate  max_cate
//	count_cate_where(v, cond, k)  and the other *_cate_where
//	top_n_key_count_cate_where(v, cond, k, n)  and sum, avg, min, max
//	top_n_value_count_cate_where(v, cond, k, n)  and sum, avg, min, max
//	top_n_key_ratio_cate(v, cond, k, n)  top_n_value_ratio_cate(v, cond, k, n)
//
// Rules, as OpenMLDB has them:
//   - v is int16, int32, int64, float or double (any scalar for the ratio
//     forms); k is int16, int32, int64, date, timestamp or string; cond is
//     bool; n is an integer constant.
//   - A row counts when k and v are not NULL and cond is true. The ratio
//     forms count every row with non-NULL k and v, and the value of a
//     category is (rows whose cond is true) / (rows).
//   - count is an integer; sum keeps v's type (integers wrap); min and max
//     keep v's type; avg and ratio are doubles. Floats print with C's "%f"
//     ("2.500000"), integers in decimal, dates as 2006-01-02, timestamps as
//     2006-01-02 15:04:05 (UTC+8).
//   - *_cate and *_cate_where list every category by ascending key.
//     top_n_key_* lists the n largest keys, descending; top_n_value_* the n
//     largest values, descending, ties by descending key. A negative n lists
//     all; 0 lists none.
//   - The output stops before the first entry that would take the string
//     (entries counted with a trailing comma) beyond 4096 bytes. With no
//     category the result is "" (never NULL).
//
// Each category keeps the state of its core aggregate: a count, an exact
// sum (float sums and averages are exact, so results do not depend on row
// order), or min/max's monotonic deque. Add and Remove are O(1) amortized;
// Result sorts the categories.

func init() {
	for _, k := range []string{"count", "sum", "avg", "min", "max"} {
		register(resolveCate, k+"_cate", k+"_cate_where", "top_n_key_"+k+"_cate_where", "top_n_value_"+k+"_cate_where")
	}
	register(resolveCate, "top_n_key_ratio_cate", "top_n_value_ratio_cate")
}

// cateKind is the aggregate applied per category.
type cateKind uint8

const (
	cateCount cateKind = iota
	cateSum
	cateAvg
	cateMin
	cateMax
	cateRatio
)

var cateKinds = map[string]cateKind{
	"count": cateCount, "sum": cateSum, "avg": cateAvg, "min": cateMin, "max": cateMax, "ratio": cateRatio,
}

// cateOrder is how the categories are listed.
type cateOrder uint8

const (
	byKeyAsc  cateOrder = iota // *_cate, *_cate_where: all, ascending keys
	topKeys                    // top_n_key_*: n largest keys, descending
	topValues                  // top_n_value_*: n largest values, descending
)

// cateFunc is a resolved category aggregate.
type cateFunc struct {
	kind     cateKind
	order    cateOrder
	n        int64 // top_n_*: how many; negative: all
	hasCond  bool
	val, key types.Type
}

// parseCateName splits a registered name into its kind and form.
func parseCateName(name string) (f cateFunc, arity int) {
	rest := name
	switch {
	case strings.HasPrefix(rest, "top_n_key_"):
		f.order, rest = topKeys, strings.TrimPrefix(rest, "top_n_key_")
	case strings.HasPrefix(rest, "top_n_value_"):
		f.order, rest = topValues, strings.TrimPrefix(rest, "top_n_value_")
	}
	rest = strings.TrimSuffix(rest, "_where")
	f.kind = cateKinds[strings.TrimSuffix(rest, "_cate")]
	f.hasCond = strings.HasSuffix(name, "_where") || f.kind == cateRatio
	switch {
	case f.order != byKeyAsc:
		return f, 4
	case f.hasCond:
		return f, 3
	}
	return f, 2
}

// isCateKey reports whether category keys may have type t.
func isCateKey(t types.Type) bool {
	return t.IsInteger() || t == types.Date || t == types.Timestamp || t == types.String
}

func resolveCate(name string, args []types.Type, consts []*types.Value) (*Func, error) {
	f, arity := parseCateName(name)
	if len(args) != arity {
		want := map[int]string{2: "(value, category)", 3: "(value, condition, category)", 4: "(value, condition, category, n)"}[arity]
		return nil, argError(name, "takes %s, got %d argument%s", want, len(args), plural(len(args)))
	}
	keyArg := min(arity-1, 2) // (v, k), (v, cond, k) or (v, cond, k, n)
	f.val, f.key = args[0], args[keyArg]
	if f.kind == cateRatio {
		if !f.val.IsScalar() || f.val == types.Null {
			return nil, argError(name, "cannot aggregate %s", f.val)
		}
	} else if !f.val.IsNumeric() {
		return nil, argError(name, "cannot aggregate %s; expected int16, int32, int64, float or double", f.val)
	}
	if !isCateKey(f.key) {
		return nil, argError(name, "cannot group by %s; the category must be int16, int32, int64, date, timestamp or string", f.key)
	}
	if f.hasCond {
		if err := checkCond(name, args, 1); err != nil {
			return nil, err
		}
	}
	if arity == 4 {
		n, err := constInt(name, args, consts, 3, "n")
		if err != nil {
			return nil, err
		}
		f.n = n
	}
	return newFunc(name, args, types.String, consts, func(c []*types.Column) Acc {
		var cond *types.Column
		if f.hasCond {
			cond = c[1]
		}
		kc := c[keyArg]
		if f.key == types.String {
			return newCateAcc(&f, c[0], cond, kc, func(r int) string { return kc.S[r] })
		}
		return newCateAcc(&f, c[0], cond, kc, func(r int) int64 { return kc.I[r] })
	}), nil
}

// cateAcc is the Acc of a category aggregate with keys of type K.
type cateAcc[K cmp.Ordered] struct {
	f               *cateFunc
	val, cond, keyc *types.Column
	key             func(row int) K
	m               map[K]*cateEntry
}

// cateEntry is one category: the rows it holds and its aggregate state.
type cateEntry struct {
	n  int64
	st cateState
}

func newCateAcc[K cmp.Ordered](f *cateFunc, val, cond, keyc *types.Column, key func(int) K) *cateAcc[K] {
	return &cateAcc[K]{f: f, val: val, cond: cond, keyc: keyc, key: key, m: map[K]*cateEntry{}}
}

// counts reports whether row enters the aggregate.
func (a *cateAcc[K]) counts(row int) bool {
	if a.keyc.IsNull(row) || a.val.IsNull(row) {
		return false
	}
	return a.cond == nil || a.f.kind == cateRatio || isTrue(a.cond, row)
}

func (a *cateAcc[K]) Reset() { clear(a.m) }

func (a *cateAcc[K]) Add(row int) {
	if !a.counts(row) {
		return
	}
	k := a.key(row)
	e := a.m[k]
	if e == nil {
		e = &cateEntry{st: newCateState(a.f, a.val, a.cond)}
		a.m[k] = e
	}
	e.n++
	e.st.add(row)
}

func (a *cateAcc[K]) AddRange(lo, hi int) {
	for i := lo; i < hi; i++ {
		a.Add(i)
	}
}

func (a *cateAcc[K]) Remove(row int) {
	if !a.counts(row) {
		return
	}
	k := a.key(row)
	e := a.m[k]
	if e == nil {
		return
	}
	e.n--
	e.st.remove(row)
	if e.n == 0 {
		delete(a.m, k)
	}
}

func (a *cateAcc[K]) Result() types.Value { return a.output(a.items(0, false)) }

func (a *cateAcc[K]) ResultWith(row int) types.Value {
	if !a.counts(row) {
		return a.Result()
	}
	return a.output(a.items(row, true))
}

// cateItem is a category and its aggregate.
type cateItem[K cmp.Ordered] struct {
	k K
	m metric
}

// items returns every category with its aggregate, with row added as the
// newest row when with is set.
func (a *cateAcc[K]) items(row int, with bool) []cateItem[K] {
	items := make([]cateItem[K], 0, len(a.m)+1)
	var extra K
	if with {
		extra = a.key(row)
		if _, ok := a.m[extra]; !ok {
			st := newCateState(a.f, a.val, a.cond)
			items = append(items, cateItem[K]{extra, st.metricWith(0, row)})
		}
	}
	for k, e := range a.m {
		if with && k == extra {
			items = append(items, cateItem[K]{k, e.st.metricWith(e.n, row)})
		} else {
			items = append(items, cateItem[K]{k, e.st.metric(e.n)})
		}
	}
	return items
}

// output orders, selects and prints the categories.
func (a *cateAcc[K]) output(items []cateItem[K]) types.Value {
	switch a.f.order {
	case byKeyAsc:
		slices.SortFunc(items, func(x, y cateItem[K]) int { return cmp.Compare(x.k, y.k) })
	case topKeys:
		slices.SortFunc(items, func(x, y cateItem[K]) int { return cmp.Compare(y.k, x.k) })
	case topValues:
		slices.SortFunc(items, func(x, y cateItem[K]) int {
			if c := y.m.compare(x.m); c != 0 {
				return c
			}
			return cmp.Compare(y.k, x.k)
		})
	}
	if a.f.order != byKeyAsc && a.f.n >= 0 && int64(len(items)) > a.f.n {
		items = items[:a.f.n]
	}
	var b, entry []byte
	total := 0
	for _, it := range items {
		entry = a.appendKey(entry[:0], it.k)
		entry = append(entry, ':')
		entry = it.m.append(entry)
		if total+len(entry)+1 > maxCateOutput {
			break
		}
		if total > 0 {
			b = append(b, ',')
		}
		b = append(b, entry...)
		total += len(entry) + 1
	}
	return types.StringValue(string(b))
}

func (a *cateAcc[K]) appendKey(b []byte, k K) []byte {
	switch k := any(k).(type) {
	case string:
		return append(b, k...)
	case int64:
		return appendKey(b, a.f.key, k, 0, "")
	}
	return b
}
