package bigtable

import (
	"bytes"
	"cmp"
	"encoding/hex"
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
)

// keyTypes are the types an index key can have.
var keyTypes = []types.Type{types.Bool, types.Int16, types.Int32, types.Int64, types.Float, types.Double, types.String, types.Timestamp, types.Date}

// randKeyValue returns a value of type t biased towards edge cases: NULL,
// extremes, zero and negative zero, NaN, and strings of the bytes that
// delimit encodings (0x00, 0x01, 0xFF).
func randKeyValue(rng *rand.Rand, t types.Type) types.Value {
	if rng.IntN(8) == 0 {
		return types.NullOf(t)
	}
	switch {
	case t == types.Bool:
		return types.BoolValue(rng.IntN(2) == 0)
	case t.IsInteger() || t == types.Timestamp || t == types.Date:
		edges := []int64{math.MinInt64, math.MinInt64 + 1, math.MinInt32, math.MinInt16, -256, -1, 0, 1, 255, 256, math.MaxInt16, math.MaxInt32, math.MaxInt64 - 1, math.MaxInt64}
		i := rng.Int64()
		if rng.IntN(2) == 0 {
			i = edges[rng.IntN(len(edges))]
		} else if rng.IntN(2) == 0 {
			i = rng.Int64N(7) - 3
		}
		if t.IsInteger() {
			return types.IntValue(t, i)
		}
		return types.Value{Type: t, I: i}
	case t.IsFloat():
		edges := []float64{math.NaN(), math.Float64frombits(0xFFF8000000000001), math.Inf(-1), -math.MaxFloat64, -1, -math.SmallestNonzeroFloat64, math.Copysign(0, -1), 0, math.SmallestNonzeroFloat64, 1, math.MaxFloat64, math.Inf(1)}
		f := rng.NormFloat64()
		if rng.IntN(2) == 0 {
			f = edges[rng.IntN(len(edges))]
		}
		if t == types.Float {
			return types.FloatValue(f)
		}
		return types.DoubleValue(f)
	}
	alphabet := []byte{0x00, 0x01, 0x02, 'a', 'b', ',', 0xFE, 0xFF}
	b := make([]byte, rng.IntN(5))
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return types.StringValue(string(b))
}

// compareKey orders key tuples as the encoding must: column by column,
// NULL first, then types.Compare.
func compareKey(a, b []types.Value) int {
	for i := range a {
		switch {
		case a[i].Null && b[i].Null:
			continue
		case a[i].Null:
			return -1
		case b[i].Null:
			return 1
		}
		if c := types.Compare(a[i], b[i]); c != 0 {
			return c
		}
	}
	return 0
}

func encodeKey(schema []types.Type, vals []types.Value) []byte {
	var out []byte
	for i, t := range schema {
		out = appendKey(out, t, vals[i])
	}
	return out
}

// TestKeyOrder: for random keys of one to three columns of every key type,
// the encodings order as the values do (NULL first), equal encodings mean
// equal keys, and no key's encoding is a proper prefix of another's, so a
// prefix scan of one key reads no other key.
func TestKeyOrder(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 11))
	for range 300 {
		schema := make([]types.Type, 1+rng.IntN(3))
		for i := range schema {
			schema[i] = keyTypes[rng.IntN(len(keyTypes))]
		}
		keys := make([][]types.Value, 60)
		for i := range keys {
			keys[i] = make([]types.Value, len(schema))
			for j, typ := range schema {
				keys[i][j] = randKeyValue(rng, typ)
			}
		}
		for _, a := range keys {
			ea := encodeKey(schema, a)
			for _, b := range keys {
				eb := encodeKey(schema, b)
				if got, want := bytes.Compare(ea, eb), compareKey(a, b); got != want {
					t.Fatalf("keys %v and %v of %v: encodings compare %d, values %d\n%x\n%x", a, b, schema, got, want, ea, eb)
				}
				if len(ea) < len(eb) && bytes.HasPrefix(eb, ea) {
					t.Fatalf("the encoding of %v is a prefix of that of %v: %x, %x", a, b, ea, eb)
				}
			}
		}
	}
}

// TestKeyWidths: a value looked up with another integer width, or as a
// float of integral value, encodes as the stored one; a fraction matches
// no integer.
func TestKeyWidths(t *testing.T) {
	t.Parallel()
	for _, col := range []types.Type{types.Int16, types.Int32, types.Int64} {
		want := appendKey(nil, col, types.IntValue(col, -7))
		for _, v := range []types.Value{types.IntValue(types.Int16, -7), types.IntValue(types.Int32, -7), types.Int64Value(-7), types.DoubleValue(-7), types.FloatValue(-7)} {
			kv, ok := keyValue(col, v)
			if got := appendKey(nil, col, kv); !ok || !bytes.Equal(got, want) {
				t.Errorf("%s column, %s %s: %x (%t), want %x", col, v.Type, v, got, ok, want)
			}
		}
		if _, ok := keyValue(col, types.DoubleValue(1.5)); ok {
			t.Errorf("%s column: 1.5 should match nothing", col)
		}
		if _, ok := keyValue(col, types.DoubleValue(math.Inf(1))); ok {
			t.Errorf("%s column: Inf should match nothing", col)
		}
	}
	if kv, ok := keyValue(types.Double, types.Int64Value(3)); !ok || !bytes.Equal(appendKey(nil, types.Double, kv), appendKey(nil, types.Double, types.DoubleValue(3))) {
		t.Error("an integer looked up in a double column")
	}
	if _, ok := keyValue(types.Timestamp, types.Int64Value(3)); ok {
		t.Error("an int64 must not match a timestamp, as types.Compare orders kinds apart")
	}
	if _, ok := keyValue(types.String, types.Int64Value(3)); ok {
		t.Error("an int64 must not match a string")
	}
}

// TestRowKeyOrder: one-row segments order by their Bigtable row key, then
// their qualifier, as key ascending, then time descending (NULL as the
// oldest), then sequence descending, so an ascending scan reads each key's
// days newest first.
func TestRowKeyOrder(t *testing.T) {
	t.Parallel()
	type row struct {
		key []types.Value
		ts  int64
		seq uint64
	}
	rng := rand.New(rand.NewPCG(3, 5))
	schema := []types.Type{types.String, types.Int64}
	times := []int64{math.MinInt64, math.MinInt64 + 1, -dayWidth - 1, -dayWidth, -1, 0, 1, dayWidth - 1, dayWidth, 1704038400000, 1704038400001, math.MaxInt64 - 1, math.MaxInt64}
	seqs := []uint64{0, 1, 2, 1 << 32, math.MaxInt64, math.MaxUint64}
	var rows []row
	for range 400 {
		k := []types.Value{randKeyValue(rng, types.String), randKeyValue(rng, types.Int64)}
		rows = append(rows, row{k, times[rng.IntN(len(times))], seqs[rng.IntN(len(seqs))]})
	}
	encode := func(r row) (key, qual []byte) {
		key = appendDay(append([]byte{3}, encodeKey(schema, r.key)...), r.ts)
		return key, appendSegmentQualifier(nil, []placed{{ts: r.ts, seq: r.seq}})
	}
	for _, a := range rows {
		ka, qa := encode(a)
		if len(qa) != qualifierLen {
			t.Fatalf("%x: %d bytes, want %d", qa, len(qa), qualifierLen)
		}
		for _, b := range rows {
			want := compareKey(a.key, b.key)
			if want == 0 {
				want = cmp.Or(cmp.Compare(b.ts, a.ts), cmp.Compare(b.seq, a.seq))
			}
			kb, qb := encode(b)
			if got := cmp.Or(bytes.Compare(ka, kb), bytes.Compare(qa, qb)); got != want {
				t.Fatalf("%+v vs %+v: %d, want %d", a, b, got, want)
			}
		}
	}
}

// TestDayOf: days are floor divisions, so every time falls in the day
// whose range holds it, negative times and the extremes included.
func TestDayOf(t *testing.T) {
	t.Parallel()
	for _, ts := range []int64{math.MinInt64, math.MinInt64 + 1, -dayWidth - 1, -dayWidth, -1, 0, 1, dayWidth - 1, dayWidth, math.MaxInt64} {
		d := dayOf(ts)
		// d*dayWidth <= ts < (d+1)*dayWidth, in big integers.
		lo := new(big.Int).Mul(big.NewInt(d), big.NewInt(dayWidth))
		hi := new(big.Int).Add(lo, big.NewInt(dayWidth))
		if v := big.NewInt(ts); lo.Cmp(v) > 0 || v.Cmp(hi) >= 0 {
			t.Errorf("dayOf(%d) = %d: [%v, %v) does not hold it", ts, d, lo, hi)
		}
	}
}

func TestPrefixSuccessor(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"a": "b", "a\xff": "b", "a\xff\xff": "b", "\xff\xff": "", "": "", "\x00\x01\xfe": "\x00\x01\xff"} {
		if got := prefixSuccessor([]byte(in)); got != want {
			t.Errorf("prefixSuccessor(%q) = %q, want %q", in, got, want)
		}
		if want != "" && !(strings.Compare(in+"\xff\xff\xff", want) < 0) {
			t.Errorf("%q does not bound the keys with prefix %q", want, in)
		}
	}
}

// TestDocumentedKeys pins the examples of docs/storage-format.md: the row
// key and qualifier of card "a" at 2024-01-01 00:00:01 (UTC+8), sequence
// 7, and of card "a\x00b" with a NULL ts.
func TestDocumentedKeys(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		card      string
		ts        int64
		key, qual string
	}{
		{"a", 1704038401000, "00" + "01610001" + "7fffffffffffb2f5", "7ffffe733f657c17" + "fffffffffffffff8"},
		{"a\x00b", math.MinInt64, "00" + "016100ff620001" + "80000018daea1d7f", "ffffffffffffffff" + "fffffffffffffff8"},
	} {
		key := appendDay(appendKey([]byte{0}, types.String, types.StringValue(c.card)), c.ts)
		qual := appendSegmentQualifier(nil, []placed{{ts: c.ts, seq: 7}})[:16] // without the digest
		if got := hex.EncodeToString(key); got != c.key {
			t.Errorf("%q: row key %s, the document says %s", c.card, got, c.key)
		}
		if got := hex.EncodeToString(qual); got != c.qual {
			t.Errorf("%q: qualifier %s, the document says %s", c.card, got, c.qual)
		}
	}
}

// TestOldLayoutRefused: a table whose metadata names layout 1 (a Bigtable
// row per fenestra row) is refused as a schema mismatch that says what to
// do, never read with the wrong layout.
func TestOldLayoutRefused(t *testing.T) {
	t.Parallel()
	_, err := decodeDef("tx", []byte("\x01{\"name\":\"tx\"}"))
	if !errors.Is(err, storage.ErrSchema) || !strings.Contains(err.Error(), "load it again") {
		t.Errorf("layout 1: %v, want storage.ErrSchema saying to load the table again", err)
	}
	if def, err := decodeDef("tx", []byte("\x02{\"name\":\"tx\"}")); err != nil || def.Name != "tx" {
		t.Errorf("layout 2: %v, %v", def, err)
	}
}
