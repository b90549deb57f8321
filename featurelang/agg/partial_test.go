package agg

import (
	"bytes"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// tileableAggregates returns the aggregates featurelang/check/tiles.go
// calls tileable: the keys of its maps tileable and preAggregated (its
// init adds the second to the first), read from the source, since the
// check package imports this one.
func tileableAggregates(t testing.TB) []string {
	t.Helper()
	const path = "../check/tiles.go"
	file, err := parser.ParseFile(token.NewFileSet(), filepath.FromSlash(path), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	found, names := map[string]bool{}, map[string]bool{}
	ast.Inspect(file, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		for i, id := range vs.Names {
			if id.Name != "tileable" && id.Name != "preAggregated" || i >= len(vs.Values) {
				continue
			}
			lit, ok := vs.Values[i].(*ast.CompositeLit)
			if !ok {
				t.Fatalf("%s: %s is no map literal", path, id.Name)
			}
			found[id.Name] = true
			for _, el := range lit.Elts {
				kv, ok := el.(*ast.KeyValueExpr)
				key, ok2 := kv.Key.(*ast.BasicLit)
				val, ok3 := kv.Value.(*ast.Ident)
				if !ok || !ok2 || !ok3 || key.Kind != token.STRING || val.Name != "true" {
					t.Fatalf("%s: an entry of %s is not \"name\": true", path, id.Name)
				}
				name, _ := strconv.Unquote(key.Value)
				names[name] = true
			}
		}
		return true
	})
	if !found["tileable"] || !found["preAggregated"] {
		t.Fatalf("%s declares no maps tileable and preAggregated; update this test", path)
	}
	list := make([]string, 0, len(names))
	for n := range names {
		list = append(list, n)
	}
	slices.Sort(list)
	return list
}

// listCount reports count of a list, which reads the newest row's list
// (list.go): it has no Partial, and no long window takes it, since count
// over a long window must take a column (check.openMLDBShape).
func listCount(name string, s sig) bool {
	return name == "count" && len(s.args) == 1 && s.args[0].Kind() == types.KindArray
}

// TestPartialsMatchTiles keeps agg and check in agreement: an aggregate
// has a Partial, for every signature, exactly when tiles.go calls it
// tileable.
func TestPartialsMatchTiles(t *testing.T) {
	t.Parallel()
	tileable := map[string]bool{}
	for _, name := range tileableAggregates(t) {
		tileable[name] = true
		if !IsAggregate(name) {
			t.Errorf("tiles.go calls %s tileable, which is no aggregate", name)
		}
	}
	for name, ss := range signatures() {
		for _, s := range ss {
			f, err := Resolve(name, s.args, s.consts)
			if err != nil {
				t.Fatal(err)
			}
			if has := f.NewPartial() != nil; has != (tileable[name] && !listCount(name, s)) {
				t.Errorf("%s: has a Partial: %v; tileable: %v", sigName(name, s), has, tileable[name])
			}
		}
	}
}

// TestPartials checks the tile state of every tileable aggregate and
// signature over random rows (NULLs, NaN, -0, ties): split into random
// consecutive buckets, each bucket's Partial encoded and decoded, merged
// oldest first, in other groupings and, where the aggregate is order
// independent, in any order; a prefix merged with the rest. Every result
// equals the sliding accumulator's over all the rows, bit for bit, and
// the encodings are deterministic and canonical.
func TestPartials(t *testing.T) {
	t.Parallel()
	sigs := signatures()
	for _, name := range tileableAggregates(t) {
		for si, s := range sigs[name] {
			if listCount(name, s) {
				continue
			}
			t.Run(sigName(name, s), func(t *testing.T) {
				t.Parallel()
				rng := rand.New(rand.NewPCG(7, uint64(si)))
				f, err := Resolve(name, s.args, s.consts)
				if err != nil {
					t.Fatal(err)
				}
				for range 40 {
					n := rng.IntN(60)
					checkPartials(t, f, randomColumns(rng, s, n), n, rng)
				}
			})
		}
	}
}

// orderFree reports whether f's Partial gives the same state for the
// same rows in any order: all but min and max, which keep the first of
// equal values (-0, +0), and top over floats, which prints the zero and
// NaN keys as the newest ones.
func orderFree(f *Func) bool {
	if f.Name == "top" {
		return !f.Args[0].IsFloat()
	}
	return !strings.HasPrefix(f.Name, "min") && !strings.HasPrefix(f.Name, "max")
}

func checkPartials(t *testing.T, f *Func, cols []*types.Column, n int, rng *rand.Rand) {
	t.Helper()
	acc := f.Bind(cols)
	acc.AddRange(0, n)
	want := acc.Result()
	rows := rowValues(cols, n)
	check := func(how string, p Partial) {
		t.Helper()
		if got := p.Result(); !types.Identical(got, want) {
			t.Fatalf("%s: %s, accumulator %s", how, show(got), show(want))
		}
	}
	whole := partialOf(f, rows)
	check("one partial", whole)
	wholeBytes := encode(t, whole)

	cuts := randomCuts(rng, n)
	enc := make([][]byte, len(cuts)-1)
	for i := range enc {
		bucket := rows[cuts[i]:cuts[i+1]]
		p := partialOf(f, bucket)
		enc[i] = encode(t, p)
		if again := encode(t, partialOf(f, bucket)); !bytes.Equal(again, enc[i]) {
			t.Fatalf("same rows, different bytes: %x, %x", enc[i], again)
		}
		if orderFree(f) {
			shuffled := slices.Clone(bucket)
			rng.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
			if other := encode(t, partialOf(f, shuffled)); !bytes.Equal(other, enc[i]) {
				t.Fatalf("same rows shuffled, different bytes: %x, %x", enc[i], other)
			}
		}
		d := decode(t, f, enc[i])
		if again := encode(t, d); !bytes.Equal(again, enc[i]) {
			t.Fatalf("decoded and encoded again: %x, want %x", again, enc[i])
		}
		if got, want := d.Result(), p.Result(); !types.Identical(got, want) {
			t.Fatalf("decoded bucket %s, encoded %s", show(got), show(want))
		}
	}
	decodeAll := func() []Partial {
		ps := make([]Partial, len(enc))
		for i, b := range enc {
			ps[i] = decode(t, f, b)
		}
		return ps
	}

	merged := f.NewPartial()
	for _, p := range decodeAll() {
		merged.Merge(p)
	}
	check("buckets merged oldest first", merged)
	if b := encode(t, merged); !bytes.Equal(b, wholeBytes) {
		t.Fatalf("merged buckets encode to %x, all rows to %x", b, wholeBytes)
	}

	// MergeBinary, as the tile reader merges: into a partial holding rows
	// already, straight from the bytes.
	head := cuts[1] / 2
	byBytes := partialOf(f, rows[:head])
	rest := partialOf(f, rows[head:cuts[1]])
	byBytes.Merge(rest)
	for _, b := range enc[1:] {
		if err := MergeBinary(byBytes, f, b); err != nil {
			t.Fatal(err)
		}
	}
	check("buckets merged from their bytes", byBytes)
	if b := encode(t, byBytes); !bytes.Equal(b, wholeBytes) {
		t.Fatalf("buckets merged from their bytes encode to %x, all rows to %x", b, wholeBytes)
	}
	check("merged buckets decoded", decode(t, f, wholeBytes))

	ps := decodeAll()
	right := ps[len(ps)-1]
	for i := len(ps) - 2; i >= 0; i-- {
		ps[i].Merge(right)
		right = ps[i]
	}
	check("buckets merged newest first into older", right)

	ps = decodeAll()
	for len(ps) > 1 {
		i := rng.IntN(len(ps) - 1)
		ps[i].Merge(ps[i+1])
		ps = slices.Delete(ps, i+1, i+2)
	}
	check("neighbouring buckets merged at random", ps[0])

	if orderFree(f) {
		ps = decodeAll()
		rng.Shuffle(len(ps), func(a, b int) { ps[a], ps[b] = ps[b], ps[a] })
		anyOrder := f.NewPartial()
		for _, p := range ps {
			anyOrder.Merge(p)
		}
		check("buckets merged in any order", anyOrder)
		if b := encode(t, anyOrder); !bytes.Equal(b, wholeBytes) {
			t.Fatalf("buckets merged in any order encode to %x, all rows to %x", b, wholeBytes)
		}
	}

	cut := rng.IntN(n + 1)
	prefix := decode(t, f, encode(t, partialOf(f, rows[:cut])))
	prefix.Merge(decode(t, f, encode(t, partialOf(f, rows[cut:]))))
	check("prefix merged with the rest", prefix)
}

// rowValues returns the argument values of rows 0..n-1 of cols.
func rowValues(cols []*types.Column, n int) [][]types.Value {
	rows := make([][]types.Value, n)
	for r := range rows {
		rows[r] = make([]types.Value, len(cols))
		for i, c := range cols {
			rows[r][i] = c.Value(r)
		}
	}
	return rows
}

// partialOf returns f's Partial over rows.
func partialOf(f *Func, rows [][]types.Value) Partial {
	p := f.NewPartial()
	for _, args := range rows {
		p.Add(args)
	}
	return p
}

// randomCuts returns 0 = c0 <= c1 <= ... <= ck = n: up to 7 consecutive
// buckets of rows, some of them possibly empty.
func randomCuts(rng *rand.Rand, n int) []int {
	cuts := []int{0, n}
	for range rng.IntN(7) {
		cuts = append(cuts, rng.IntN(n+1))
	}
	slices.Sort(cuts)
	return cuts
}

func encode(t testing.TB, p Partial) []byte {
	t.Helper()
	b, err := p.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decode(t testing.TB, f *Func, b []byte) Partial {
	t.Helper()
	p, err := DecodePartial(f, b)
	if err != nil {
		t.Fatalf("DecodePartial(%x): %v", b, err)
	}
	return p
}

func TestDecodePartialErrors(t *testing.T) {
	t.Parallel()
	resolve := func(name string, s sig) *Func {
		f, err := Resolve(name, s.args, s.consts)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	sum := resolve("sum", plain(tI32))
	topn := resolve("topn_frequency", plain(tI32, tI32).withConst(1, constant(tI32, 2)))
	dc := resolve("distinct_count", plain(tStr))
	top2 := resolve("top", plain(tI32, tI32).withConst(1, constant(tI32, 2)))
	topF := resolve("top", plain(tF64, tI64).withConst(1, constant(tI64, 2)))
	for _, tt := range []struct {
		name string
		f    *Func
		data []byte
		want error
	}{
		{"no partial", resolve("median", plain(tI32)), []byte{1}, ErrNoPartial},
		{"empty", sum, nil, ErrCorruptPartial},
		{"version", sum, []byte{2, 0}, ErrPartialVersion},
		{"truncated", sum, []byte{1, 1}, ErrCorruptPartial},
		{"trailing", sum, []byte{1, 0, 0}, ErrCorruptPartial},
		{"long varint", sum, []byte{1, 0x81, 0}, ErrCorruptPartial},
		{"int32 out of range", resolve("max", plain(tI32)), []byte{1, 0x80, 0x80, 0x80, 0x80, 0x10}, ErrCorruptPartial},
		{"keys out of order", topn, []byte{1, 2, 0, 2, 4, 1, 0, 1}, ErrCorruptPartial},
		{"counts over values", topn, []byte{1, 1, 0, 1, 4, 2}, ErrCorruptPartial},
		{"zero count", topn, []byte{1, 1, 0, 1, 4, 0}, ErrCorruptPartial},
		{"many keys", topn, []byte{1, 1, 0, 0xff, 0x7f}, ErrCorruptPartial},
		{"duplicate strings", dc, []byte{1, 0, 0, 2, 1, 'a', 1, 'a'}, ErrCorruptPartial},
		{"NULL flag", dc, []byte{1, 1, 0, 0}, ErrCorruptPartial},
		{"bad exact sum", resolve("avg", plain(tF64)), []byte{1, 1, 9}, ErrCorruptPartial},
		{"no partial: drawdown", resolve("drawdown", plain(tF64)), []byte{1}, ErrNoPartial},
		{"no partial: ew_avg", resolve("ew_avg", plain(tF64, tF64).withConst(1, constant(tF64, 0.5))), []byte{1}, ErrNoPartial},
		{"top over k", top2, []byte{1, 0, 0, 2, 2, 1, 2, 2}, ErrCorruptPartial},
		{"top zero count", top2, []byte{1, 0, 0, 1, 2, 0}, ErrCorruptPartial},
		{"top keys out of order", resolve("top", plain(tStr, tI32).withConst(1, constant(tI32, 5))), []byte{1, 0, 0, 2, 1, 'b', 1, 1, 'a', 1}, ErrCorruptPartial},
		{"top flags on ints", top2, []byte{1, 1, 0, 1, 0, 1}, ErrCorruptPartial},
		{"top sign of absent zero", topF, []byte{1, 1, 0, 0}, ErrCorruptPartial},
		{"top sign of absent NaN", topF, []byte{1, 2, 0, 0}, ErrCorruptPartial},
		{"top unknown flag", topF, []byte{1, 4, 0, 0}, ErrCorruptPartial},
		{"top NaNs over k", topF, []byte{1, 0, 3, 0}, ErrCorruptPartial},
		{"entropy counts over values", resolve("entropy", plain(tI32)), []byte{1, 1, 0, 1, 4, 2}, ErrCorruptPartial},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := DecodePartial(tt.f, tt.data); !errors.Is(err, tt.want) {
				t.Errorf("DecodePartial(%x) = %v, want %v", tt.data, err, tt.want)
			}
		})
	}
}

// TestPartialEncodings pins a few encodings byte for byte.
func TestPartialEncodings(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		fn   string
		s    sig
		col  []any
		want []byte
	}{
		{"count", plain(tI32), []any{1, nil, 3}, []byte{1, 2}},
		{"sum", plain(tI64), []any{5, -8, nil}, []byte{1, 2, 5}},
		{"sum", plain(tI64), []any{nil}, []byte{1, 0}},
		{"max", plain(tStr), []any{"a", "b", nil}, []byte{1, 1, 'b'}},
		{"min", plain(tI32), []any{}, []byte{1}},
		{"distinct_count", plain(tI32), []any{7, 5, 7, nil}, []byte{1, 0, 0, 3, 0, 5, 2}},
		{"distinct_count", plain(tDate), []any{nil, 3}, []byte{1, 1, 0, 1, 6}},
		{"top1_ratio", plain(tI64), []any{9, nil, 9, 2}, []byte{1, 4, 0, 2, 4, 1, 7, 2}},
		{"entropy", plain(tStr), []any{"b", nil, "a", "b"}, []byte{1, 4, 0, 2, 1, 'a', 1, 1, 'b', 2}},
	} {
		t.Run(sigName(tt.fn, tt.s), func(t *testing.T) {
			t.Parallel()
			f, err := Resolve(tt.fn, tt.s.args, tt.s.consts)
			if err != nil {
				t.Fatal(err)
			}
			col := column(tt.s.args[0], tt.col...)
			if got := encode(t, partialOf(f, rowValues([]*types.Column{col}, col.Len()))); !bytes.Equal(got, tt.want) {
				t.Errorf("%v: %x, want %x", tt.col, got, tt.want)
			}
		})
	}
}

// partialSig is one tileable aggregate call, for the fuzzer.
type partialSig struct {
	name string
	s    sig
}

func partialSigs(t testing.TB) []partialSig {
	var out []partialSig
	sigs := signatures()
	for _, name := range tileableAggregates(t) {
		for _, s := range sigs[name] {
			if !listCount(name, s) {
				out = append(out, partialSig{name, s})
			}
		}
	}
	return out
}

// FuzzDecodePartial decodes arbitrary bytes as the Partial of a tileable
// aggregate. Nothing may panic; an error wraps one of the package's
// sentinels; bytes that decode are canonical (encoding the Partial gives
// them back) and the Partial merges and gives a result of its type.
func FuzzDecodePartial(f *testing.F) {
	ps := partialSigs(f)
	rng := rand.New(rand.NewPCG(1, 2))
	for i, ps := range ps {
		fn, err := Resolve(ps.name, ps.s.args, ps.s.consts)
		if err != nil {
			f.Fatal(err)
		}
		for _, n := range []int{0, 1, 5, 30} {
			cols := randomColumns(rng, ps.s, n)
			b := encode(f, partialOf(fn, rowValues(cols, n)))
			f.Add(uint16(i), b)
			if len(b) > 2 {
				f.Add(uint16(i), b[:len(b)-1])
			}
		}
	}
	f.Fuzz(func(t *testing.T, i uint16, data []byte) {
		s := ps[int(i)%len(ps)]
		fn, err := Resolve(s.name, s.s.args, s.s.consts)
		if err != nil {
			t.Fatal(err)
		}
		p, err := DecodePartial(fn, data)
		if err != nil {
			if !errors.Is(err, ErrCorruptPartial) && !errors.Is(err, ErrPartialVersion) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			return
		}
		if again := encode(t, p); !bytes.Equal(again, data) {
			t.Fatalf("%s: decoded %x, encoded again %x", sigName(s.name, s.s), data, again)
		}
		if got := p.Result(); got.Type != fn.Result {
			t.Fatalf("result type %s, want %s", got.Type, fn.Result)
		}
		q := fn.NewPartial()
		q.Merge(p)
		q.Merge(p)
		q.Result()
		_, _ = q.AppendBinary(nil) // may exceed exactsum's range; must not panic
	})
}

// BenchmarkPartialTiles encodes, and decodes and merges oldest first, 30
// daily partials of 1,000 rows each: a 30-day window over tiles.
func BenchmarkPartialTiles(b *testing.B) {
	const days, rowsPerDay = 30, 1000
	for _, bc := range []struct {
		name string
		s    sig
	}{
		{"sum", plain(tF64)},
		{"sum", plain(tI64)},
		{"count", plain(tF64)},
		{"avg", plain(tF64)},
		{"max", plain(tF64)},
		{"distinct_count", plain(tI64)},
		{"distinct_count", plain(tStr)},
	} {
		f, err := Resolve(bc.name, bc.s.args, bc.s.consts)
		if err != nil {
			b.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(3, 4))
		parts := make([]Partial, days)
		for d := range parts {
			parts[d] = partialOf(f, benchRows(rng, bc.s.args[0], rowsPerDay))
		}
		enc := make([][]byte, days)
		size := 0
		for d, p := range parts {
			enc[d] = encode(b, p)
			size += len(enc[d])
		}
		b.Run(sigName(bc.name, bc.s)+"/encode", func(b *testing.B) {
			var buf []byte
			for b.Loop() {
				for _, p := range parts {
					buf, _ = p.AppendBinary(buf[:0])
				}
			}
			b.ReportMetric(float64(size)/days, "B/partial")
		})
		b.Run(sigName(bc.name, bc.s)+"/decode+merge", func(b *testing.B) {
			for b.Loop() {
				m := f.NewPartial()
				for _, e := range enc {
					p, err := DecodePartial(f, e)
					if err != nil {
						b.Fatal(err)
					}
					m.Merge(p)
				}
				m.Result()
			}
		})
	}
}

// benchRows returns n rows of one value of type t: about 1% NULL, doubles
// spread, integers and strings from 500 distinct values.
func benchRows(rng *rand.Rand, t types.Type, n int) [][]types.Value {
	rows := make([][]types.Value, n)
	for r := range rows {
		v := types.NullOf(t)
		if rng.IntN(100) != 0 {
			switch t {
			case tF64:
				v = types.DoubleValue(rng.NormFloat64() * 100)
			case tStr:
				v = types.StringValue("merchant-" + strconv.Itoa(rng.IntN(500)))
			default:
				v = types.Int64Value(rng.Int64N(500))
			}
		}
		rows[r] = []types.Value{v}
	}
	return rows
}
