package agg

import (
	"cmp"
	"encoding/binary"
	"math"
	"slices"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// top(x, k) is the k greatest non-NULL values of the frame, repeats
// included, in descending order, printed and joined by "," (a string; ""
// when there is none), for x of int16, int32, int64, float, double, date,
// timestamp or string (TopKDef in hybridse/src/udf/default_udf_library.cc,
// on udf::container::TopKContainer; the doc's example {1, 2, 3, 4, 4} with
// k = 3 gives "4,4,3"). Values print as the *_cate keys do: integers in
// decimal, floats with C's "%f", dates and timestamps as text. (The doc
// calls k the number of "top n keys"; the implementation, and the doc's own
// example, count values with their repeats, as here.)
//
// k is an int32 or int64 constant; k <= 0 gives "". (OpenMLDB takes k per
// row and uses the first positive one, newest row first; with a constant
// k that is k. A k that varies by row, which makes top depend on the rows'
// order, is refused, as topn_frequency's n.)
//
// OpenMLDB keeps the values in a std::map bounded to k, fed newest row
// first: the result is the k greatest. Equal keys print as the key first
// stored: for -0 and +0 that is the newest zero of the frame (a zero key is
// never evicted while it is among the k greatest). NaN, which std::map
// cannot order, is here one key below every number (as in topn_frequency),
// printed with the sign of the newest NaN. The state is the count of each
// value plus those two signs, so top has a Partial: the counts of the k
// greatest values.

func init() {
	register(resolveTop, "top")
}

// topType reports whether top accepts values of type t.
func topType(t types.Type) bool {
	return t.IsNumeric() || t == types.Date || t == types.Timestamp || t == types.String
}

func resolveTop(name string, args []types.Type, consts []*types.Value) (*Func, error) {
	if err := wantArgs(name, args, 2); err != nil {
		return nil, err
	}
	t := args[0]
	if !topType(t) {
		return nil, argError(name, "cannot take the top values of %s", t)
	}
	if args[1] != types.Int32 && args[1] != types.Int64 {
		return nil, argError(name, "k must be a constant int32 or int64, got %s", args[1])
	}
	k, err := constInt(name, args, consts, 1, "k")
	if err != nil {
		return nil, err
	}
	return newFunc(name, args, types.String, consts, func(c []*types.Column) Acc {
		return newTopAcc(t, k, c[0])
	}), nil
}

// floatSigns are the sign bits of the values that print the zero key and
// the NaN key of a float top: the newest zero's and the newest NaN's.
type floatSigns struct {
	negZero, negNaN bool
}

// note records the sign of f if it is a zero or a NaN, f being the newest
// value so far.
func (s *floatSigns) note(f float64) {
	switch {
	case f == 0:
		s.negZero = math.Signbit(f)
	case f != f:
		s.negNaN = math.Signbit(f)
	}
}

// topAcc counts the frame's values by key in a freqAcc and notes the
// signs of the newest zero and NaN: rows leave oldest first, so the newest
// zero stays while any zero does.
type topAcc struct {
	counts Acc
	col    *types.Column
	float  bool
	signs  floatSigns
}

func newTopAcc(t types.Type, k int64, col *types.Column) *topAcc {
	a := &topAcc{col: col, float: t.IsFloat()}
	a.counts = newFreqAcc(col, nullsSkip, func(f freqSummary) types.Value {
		return topString(t, k, f.entries(), a.signs)
	}, false)
	return a
}

func (a *topAcc) note(row int) {
	if a.float && !a.col.IsNull(row) {
		a.signs.note(a.col.F[row])
	}
}

func (a *topAcc) Reset() {
	a.counts.Reset()
	a.signs = floatSigns{}
}

func (a *topAcc) Add(row int) {
	a.note(row)
	a.counts.Add(row)
}

func (a *topAcc) AddRange(lo, hi int) {
	for i := lo; i < hi; i++ {
		a.Add(i)
	}
}

func (a *topAcc) Remove(row int) { a.counts.Remove(row) }

func (a *topAcc) Result() types.Value { return a.counts.Result() }

func (a *topAcc) ResultWith(row int) types.Value {
	saved := a.signs
	a.note(row)
	r := a.counts.ResultWith(row)
	a.signs = saved
	return r
}

// topEntries returns the entries of the k greatest values, greatest first,
// the last one's count cut so that the counts add up to at most k.
func topEntries(t types.Type, k int64, es []freqEntry) []freqEntry {
	if k <= 0 {
		return nil
	}
	desc := func(a, b freqEntry) int { return compareKeys(t, b, a) }
	if k < int64(len(es))/4 {
		es = greatest(es, int(k), desc)
	}
	slices.SortFunc(es, desc)
	left := k
	for i := range es {
		if es[i].count >= left {
			es[i].count = left
			return es[:i+1]
		}
		left -= es[i].count
	}
	return es
}

// greatest returns the k first entries of es in the order desc, sorted:
// each entry counts a value once at least, so they hold the k greatest
// values. It keeps them in a sorted slice, inserting only entries that
// beat the last: O(len(es)·log k) for random keys.
func greatest(es []freqEntry, k int, desc func(a, b freqEntry) int) []freqEntry {
	best := make([]freqEntry, 0, k+1)
	for _, e := range es {
		if len(best) == k && desc(e, best[k-1]) >= 0 {
			continue
		}
		i, _ := slices.BinarySearchFunc(best, e, desc)
		best = slices.Insert(best, i, e)
		if len(best) > k {
			best = best[:k]
		}
	}
	return best
}

// topString formats top's result from the counts es (in any order).
func topString(t types.Type, k int64, es []freqEntry, signs floatSigns) types.Value {
	var b []byte
	for _, e := range topEntries(t, k, es) {
		f := e.f
		switch {
		case e.nan && signs.negNaN:
			f = math.Copysign(math.NaN(), -1)
		case !e.nan && f == 0 && signs.negZero:
			f = math.Copysign(0, -1)
		}
		for range e.count {
			if len(b) > 0 {
				b = append(b, ',')
			}
			b = appendKey(b, t, e.i, f, e.s)
		}
	}
	return types.StringValue(string(b))
}

// topPartial is top's Partial: the counts by key, NaNs apart, and the
// signs of the newest zero and NaN. Its encoding keeps only the k greatest
// values, enough for any merge: the k greatest of several runs of rows are
// among the k greatest of each.
type topPartial[K cmp.Ordered] struct {
	freqCounts[K]
	t     types.Type
	k     int64
	keyOf func(v types.Value) K
	float bool
	signs floatSigns
	codec keyCodec[K]
}

// newTopPartial returns the empty Partial of top over values of type t.
func newTopPartial(t types.Type, k int64) Partial {
	switch {
	case t == types.String:
		return &topPartial[string]{freqCounts: newFreqCounts[string](nullsSkip), t: t, k: k, keyOf: stringKey, codec: stringCodec}
	case t.IsFloat():
		return &topPartial[float64]{freqCounts: newFreqCounts[float64](nullsSkip), t: t, k: k, keyOf: floatKey,
			float: true, codec: floatCodec(t == types.Float)}
	}
	return &topPartial[int64]{freqCounts: newFreqCounts[int64](nullsSkip), t: t, k: k, keyOf: intKey, codec: intCodec(t)}
}

func (p *topPartial[K]) Add(args []types.Value) {
	v := args[0]
	if v.Null {
		return
	}
	nan := p.float && math.IsNaN(v.F)
	var key K
	if p.float {
		p.signs.note(v.F)
	}
	if !nan {
		key = p.keyOf(v)
	}
	p.countValue(false, nan, key, 1)
}

// hasZero reports whether a float partial counts a zero.
func (p *topPartial[K]) hasZero() bool {
	var zero K
	return p.float && p.m[zero] > 0
}

// Merge adds o's counts; o's rows are the newer, so its signs win where
// it has a zero or a NaN.
func (p *topPartial[K]) Merge(o Partial) {
	q := o.(*topPartial[K])
	for k, n := range q.m {
		p.m[k] += n
	}
	p.nan += q.nan
	p.rows += q.rows
	if q.hasZero() {
		p.signs.negZero = q.signs.negZero
	}
	if q.nan > 0 {
		p.signs.negNaN = q.signs.negNaN
	}
}

func (p *topPartial[K]) Result() types.Value { return topString(p.t, p.k, p.entries(), p.signs) }

// AppendBinary writes the k greatest values: flags (bit 0: the zero key
// prints as -0, bit 1: the NaN key prints with a sign; each set only when
// that key is written), uvarint NaNs, uvarint keys, then the keys
// ascending, each with its uvarint count.
func (p *topPartial[K]) AppendBinary(b []byte) ([]byte, error) {
	es := topEntries(p.t, p.k, p.entries())
	var flags byte
	var nan uint64
	keys := 0
	for _, e := range es {
		switch {
		case e.nan:
			nan = uint64(e.count)
			if p.signs.negNaN {
				flags |= 2
			}
		case p.float && e.f == 0 && p.signs.negZero:
			flags |= 1
			keys++
		default:
			keys++
		}
	}
	b = append(b, partialVersion, flags)
	b = binary.AppendUvarint(b, nan)
	b = binary.AppendUvarint(b, uint64(keys))
	var prev K
	first := true
	for i := len(es) - 1; i >= 0; i-- {
		e := es[i]
		if e.nan {
			continue
		}
		k := entryKey[K](e)
		b = p.codec.put(b, prev, k, first)
		b = binary.AppendUvarint(b, uint64(e.count))
		prev, first = k, false
	}
	return b, nil
}

// entryKey returns the key of a non-NaN entry.
func entryKey[K cmp.Ordered](e freqEntry) K {
	var k K
	switch p := any(&k).(type) {
	case *int64:
		*p = e.i
	case *float64:
		*p = e.f
	case *string:
		*p = e.s
	}
	return k
}

// decode reads AppendBinary's encoding into the empty p. It accepts only
// what AppendBinary writes: at most k values, ascending keys with
// non-zero counts, and flags only for keys present.
func (p *topPartial[K]) decode(r *decoder) {
	flags := r.byte()
	nan := r.count()
	n := r.uvarint()
	if n > uint64(len(r.data)) { // every key takes a byte at least
		r.fail("%d keys in %d bytes", n, len(r.data))
		return
	}
	total := nan
	var prev K
	for i := range n {
		key := p.codec.read(r, prev, i == 0)
		if i > 0 && !(prev < key) {
			r.fail("keys out of order")
		}
		c := r.count()
		if c == 0 {
			r.fail("zero count")
		}
		if total += c; total < c || total > max(p.k, 0) {
			r.fail("more than k = %d values", p.k)
		}
		if r.err != nil {
			return
		}
		p.m[key] = c
		prev = key
	}
	if total > max(p.k, 0) {
		r.fail("more than k = %d values", p.k)
	}
	switch {
	case flags&^3 != 0 || flags != 0 && !p.float:
		r.fail("top flags %#x", flags)
	case flags&1 != 0 && !p.hasZero():
		r.fail("sign of a zero key that is absent")
	case flags&2 != 0 && nan == 0:
		r.fail("sign of a NaN key that is absent")
	}
	if r.err != nil {
		return
	}
	p.nan, p.rows = nan, total
	p.signs = floatSigns{negZero: flags&1 != 0, negNaN: flags&2 != 0}
}
