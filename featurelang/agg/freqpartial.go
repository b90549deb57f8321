package agg

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"math"
	"slices"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// freqPartial is the Partial of distinct_count, topn_frequency and
// top1_ratio: the counts by key of a freqAcc, fed with Values, and the
// same output function. Their results depend only on the counts (ties
// are broken by key, never by arrival), so partials merge in any order.
type freqPartial[K cmp.Ordered] struct {
	freqCounts[K]
	keyOf  func(v types.Value) K // the key of a non-NULL, non-NaN value
	float  bool                  // the keys are floats; NaN is counted apart
	elems  bool                  // the argument is an array; its elements are counted
	counts bool                  // the encoding holds counts (else the set of keys)
	out    func(freqSummary) types.Value
	codec  keyCodec[K]
}

// keyCodec writes and reads the ascending keys of a freqPartial: put
// appends k, read reads the key after prev (first: the first key) and
// fails the decoder unless it is a valid key above prev.
type keyCodec[K cmp.Ordered] struct {
	put  func(b []byte, prev, k K, first bool) []byte
	read func(r *decoder, prev K, first bool) K
}

// newFreqPartial returns the Partial over an argument of type arg (an
// array's elements are counted), counting NULLs as nulls says; counts
// says whether the counts matter to out or only the set of keys.
func newFreqPartial(arg types.Type, nulls nullsMode, counts bool, out func(freqSummary) types.Value) Partial {
	t, elems := arg, arg.Kind() == types.KindArray
	if elems {
		t = t.Elem()
	}
	switch {
	case t == types.String:
		return &freqPartial[string]{freqCounts: newFreqCounts[string](nulls), keyOf: stringKey,
			elems: elems, counts: counts, out: out, codec: stringCodec}
	case t.IsFloat():
		return &freqPartial[float64]{freqCounts: newFreqCounts[float64](nulls), keyOf: floatKey, float: true,
			elems: elems, counts: counts, out: out, codec: floatCodec(t == types.Float)}
	}
	return &freqPartial[int64]{freqCounts: newFreqCounts[int64](nulls), keyOf: intKey,
		elems: elems, counts: counts, out: out, codec: intCodec(t)}
}

// Add counts the value, or each element of an array (a NULL array adds
// none), as freqAcc does.
func (p *freqPartial[K]) Add(args []types.Value) {
	v := args[0]
	if !p.elems {
		p.countOne(v)
		return
	}
	if v.Null {
		return
	}
	elems, _ := v.X.([]types.Value)
	for _, e := range elems {
		p.countOne(e)
	}
}

func (p *freqPartial[K]) countOne(v types.Value) {
	nan := !v.Null && p.float && math.IsNaN(v.F)
	var k K
	if !v.Null && !nan {
		k = p.keyOf(v)
	}
	p.countValue(v.Null, nan, k, 1)
}

func (p *freqPartial[K]) Merge(o Partial) {
	q := o.(*freqPartial[K])
	for k, n := range q.m {
		p.m[k] += n
	}
	p.nan += q.nan
	p.null += q.null
	p.rows += q.rows
}

// additive reports that decode adds to what p holds (MergeBinary).
func (p *freqPartial[K]) additive() bool { return true }

func (p *freqPartial[K]) Result() types.Value { return p.out(p.summary()) }

// AppendBinary writes distinct_count's set (flags, NaNs, keys) or the
// frequency aggregates' counts (values, NaNs, keys and counts), keys in
// ascending order.
func (p *freqPartial[K]) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, partialVersion)
	if p.counts {
		b = binary.AppendUvarint(b, uint64(p.rows))
	} else {
		var flags byte
		if p.null > 0 {
			flags = 1
		}
		b = append(b, flags)
	}
	b = binary.AppendUvarint(b, uint64(p.nan))
	b = binary.AppendUvarint(b, uint64(len(p.m)))
	keys := make([]K, 0, len(p.m))
	for k := range p.m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var prev K
	for i, k := range keys {
		b = p.codec.put(b, prev, k, i == 0)
		if p.counts {
			b = binary.AppendUvarint(b, uint64(p.m[k]))
		}
		prev = k
	}
	return b, nil
}

// decode adds the encoded partial to p: on an empty p it decodes it, on
// one holding rows it merges it (MergeBinary) without building it apart.
func (p *freqPartial[K]) decode(r *decoder) {
	var rows, null int64
	if p.counts {
		rows = r.count()
	} else {
		switch flags := r.byte(); {
		case flags == 1 && p.nulls == nullsApart:
			null = 1
		case flags != 0:
			r.fail("distinct_count flags %#x", flags)
		}
	}
	nan := r.count()
	k := r.uvarint()
	if k > uint64(len(r.data)) { // every key takes a byte at least
		r.fail("%d keys in %d bytes", k, len(r.data))
		return
	}
	if p.counts && nan > rows {
		r.fail("more NaNs than values counted")
	}
	if p.m == nil || len(p.m) == 0 {
		p.m = make(map[K]int64, k)
	}
	if sm, ok := any(p.m).(map[string]int64); ok && !p.counts {
		decodeStringSet(sm, r, k)
		if r.err == nil {
			p.rows += rows
			p.null += null
			p.nan += nan
		}
		return
	}
	total := nan // the values counted in keys and NaNs
	var prev K
	for i := range k {
		key := p.codec.read(r, prev, i == 0)
		if i > 0 && !(prev < key) {
			r.fail("keys out of order")
		}
		n := int64(1)
		if p.counts {
			if n = r.count(); n == 0 {
				r.fail("zero count")
			}
			if total += n; total < n || total > rows {
				r.fail("counts exceed the values counted")
			}
		}
		if r.err != nil {
			return
		}
		p.m[key] += n
		prev = key
	}
	p.rows += rows
	p.null += null
	p.nan += nan
}

// decodeStringSet adds the k ascending string keys of a set encoding
// (distinct_count's: keys without counts, whose counts nothing reads) to
// m, allocating only for keys m does not hold yet: merging a day's tiles
// of the same few hundred values then costs lookups, not copies.
func decodeStringSet(m map[string]int64, r *decoder, k uint64) {
	var prev []byte
	for i := range k {
		b := r.bytes(r.uvarint())
		if r.err != nil {
			return
		}
		if i > 0 && bytes.Compare(prev, b) >= 0 {
			r.fail("keys out of order")
			return
		}
		if _, ok := m[string(b)]; !ok {
			m[string(b)] = 1
		}
		prev = b
	}
}

// stringCodec writes a key as its length and bytes.
var stringCodec = keyCodec[string]{
	put: func(b []byte, _, k string, _ bool) []byte {
		return append(binary.AppendUvarint(b, uint64(len(k))), k...)
	},
	read: func(r *decoder, _ string, _ bool) string { return r.string() },
}

// floatCodec writes a key as the 8 bytes of a float64, or the 4 of a
// float32 when narrow; a key is never NaN and 0 is +0.
func floatCodec(narrow bool) keyCodec[float64] {
	return keyCodec[float64]{
		put: func(b []byte, _, k float64, _ bool) []byte {
			if narrow {
				return binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(k)))
			}
			return binary.LittleEndian.AppendUint64(b, math.Float64bits(k))
		},
		read: func(r *decoder, _ float64, _ bool) float64 {
			var f float64
			if narrow {
				f = r.float32()
			} else {
				f = r.float64()
			}
			if math.IsNaN(f) || f == 0 && math.Signbit(f) {
				r.fail("float key %v", f)
			}
			return f
		},
	}
}

// intCodec writes the first key as a varint and each next one as a
// uvarint of its difference to the previous one; keys are values of t.
func intCodec(t types.Type) keyCodec[int64] {
	return keyCodec[int64]{
		put: func(b []byte, prev, k int64, first bool) []byte {
			if first {
				return appendVarint(b, k)
			}
			return binary.AppendUvarint(b, uint64(k-prev))
		},
		read: func(r *decoder, prev int64, first bool) int64 {
			var k int64
			if first {
				k = r.varint()
			} else {
				d := r.uvarint()
				if d == 0 || d > uint64(math.MaxInt64)-uint64(prev) {
					r.fail("key step %d after %d", d, prev)
					return 0
				}
				k = prev + int64(d)
			}
			if k != types.Wrap(t, k) {
				r.fail("%s key %d out of range", t, k)
			}
			return k
		},
	}
}
