package wire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

var schema = types.Schema{
	{Name: "i16", Type: types.Int16}, {Name: "i32", Type: types.Int32}, {Name: "i64", Type: types.Int64},
	{Name: "f", Type: types.Float}, {Name: "d", Type: types.Double}, {Name: "s", Type: types.String},
	{Name: "ts", Type: types.Timestamp}, {Name: "day", Type: types.Date}, {Name: "b", Type: types.Bool},
}

// randomBlock returns n rows with extreme values, NULLs and empty strings.
func randomBlock(r *rand.Rand, n int, nullRate float64) *types.Block {
	b := types.NewBlock(schema, n)
	ints := []int64{0, 1, -1, math.MaxInt64, math.MinInt64, 1_700_000_000_000}
	floats := []float64{0, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1), 0.1, 1e300, 5e-324}
	strs := []string{"", "a", "é\x00,\"\n", "long string value"}
	for range n {
		row := make([]types.Value, len(schema))
		for j, f := range schema {
			if r.Float64() < nullRate {
				row[j] = types.NullOf(f.Type)
				continue
			}
			switch f.Type {
			case types.Int16:
				row[j] = types.IntValue(f.Type, int64(int16(r.Int64())))
			case types.Int32:
				row[j] = types.IntValue(f.Type, int64(int32(r.Int64())))
			case types.Int64:
				row[j] = types.Int64Value(ints[r.IntN(len(ints))] + r.Int64N(3))
			case types.Float:
				row[j] = types.FloatValue(float64(float32(floats[r.IntN(len(floats))] * r.Float64())))
			case types.Double:
				row[j] = types.DoubleValue(floats[r.IntN(len(floats))])
			case types.String:
				row[j] = types.StringValue(strs[r.IntN(len(strs))])
			case types.Timestamp:
				row[j] = types.TimestampValue(ints[r.IntN(len(ints))])
			case types.Date:
				row[j] = types.DateValue(r.Int64N(100000))
			case types.Bool:
				row[j] = types.BoolValue(r.IntN(2) == 1)
			}
		}
		b.AppendRow(row)
	}
	return b
}

// TestRoundTrip encodes random chunks, whole and as row subsets, decodes
// them one after another into one block and compares value by value.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for _, nullRate := range []float64{0, 0.3, 1} {
		src := randomBlock(r, 300, nullRate)
		seqs := make([]uint64, src.Len)
		for i := range seqs {
			seqs[i] = uint64(i)<<20 + uint64(r.IntN(1000))
		}
		seqs[0] = math.MaxUint64
		idx := []int32{5, 1, 299, 7}
		var data [][]byte
		data = append(data, Append(nil, 3, src, nil, seqs), Append(nil, 3, src, idx, seqs), Append(nil, 3, src, []int32{}, seqs))
		got := types.NewBlock(schema, 0)
		var gotSeqs []uint64
		for _, d := range data {
			h, err := Peek(d)
			if err != nil || h.Table != 3 {
				t.Fatalf("peek: %+v, %v", h, err)
			}
			if err := Decode(d, got, &gotSeqs); err != nil {
				t.Fatal(err)
			}
		}
		wantRows := append(slices.Clone(src.Rows()), src.Gather([]int{5, 1, 299, 7}).Rows()...)
		wantSeqs := append(slices.Clone(seqs), seqs[5], seqs[1], seqs[299], seqs[7])
		if got.Len != len(wantRows) || !slices.Equal(gotSeqs, wantSeqs) {
			t.Fatalf("null rate %v: %d rows, seqs equal %v", nullRate, got.Len, slices.Equal(gotSeqs, wantSeqs))
		}
		for i, row := range wantRows {
			for j, v := range row {
				if g := got.Cols[j].Value(i); !types.Identical(g, v) {
					t.Fatalf("null rate %v, row %d col %s: %v, want %v", nullRate, i, schema[j].Name, g, v)
				}
			}
		}
	}
}

// TestDecimalDoubles round-trips double columns of decimals (amounts,
// integers, values near 2^53 and of many places, mixed with values that
// are no decimal), bit for bit, and checks that amounts of two places
// take at most 4 bytes each.
func TestDecimalDoubles(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(9, 10))
	gens := []func() float64{
		func() float64 { return float64(r.IntN(10_000_000)) / 100 },
		func() float64 { return float64(r.Int64N(1<<53)) * float64(1-2*r.IntN(2)) },
		func() float64 { return float64(r.Int64N(1<<53)) / 1e10 },
		func() float64 { return float64(r.IntN(1000)) / 1e7 },
		func() float64 { return r.NormFloat64() * 1e3 },
		func() float64 {
			return []float64{0, math.Copysign(0, -1), 0.1, 0.3, 1.0 / 3, 1e-10, 9007199254740993, math.NaN()}[r.IntN(8)]
		},
	}
	sch := types.Schema{{Name: "d", Type: types.Double}}
	for trial := range 500 {
		n := 1 + r.IntN(50)
		b := types.NewBlock(sch, n)
		mix := 1 + r.IntN(len(gens))
		for range n {
			b.AppendRow([]types.Value{types.DoubleValue(gens[r.IntN(mix)]())})
		}
		data := Append(nil, 0, b, nil, make([]uint64, n))
		got := types.NewBlock(sch, 0)
		var s []uint64
		if err := Decode(data, got, &s); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			if g, w := got.Cols[0].F[i], b.Cols[0].F[i]; math.Float64bits(g) != math.Float64bits(w) {
				t.Fatalf("trial %d, row %d: %v (%x), want %v (%x)", trial, i, g, math.Float64bits(g), w, math.Float64bits(w))
			}
		}
		if mix == 1 && len(data) > 6+n*5 {
			t.Fatalf("trial %d: %d amounts take %d bytes", trial, n, len(data))
		}
	}
}

// TestCorrupt checks that every truncation of a chunk is an error, never a
// panic.
func TestCorrupt(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	src := randomBlock(r, 20, 0.2)
	seqs := make([]uint64, src.Len)
	data := Append(nil, 0, src, nil, seqs)
	for cut := 0; cut < len(data); cut++ {
		var s []uint64
		if err := Decode(data[:cut], types.NewBlock(schema, 0), &s); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("cut at %d of %d: %v", cut, len(data), err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	r := rand.New(rand.NewPCG(5, 6))
	src := randomBlock(r, 10, 0.2)
	f.Add(Append(nil, 0, src, nil, make([]uint64, src.Len)))
	f.Fuzz(func(t *testing.T, data []byte) {
		var s []uint64
		_ = Decode(data, types.NewBlock(schema, 0), &s)
	})
}

func BenchmarkRoundTrip(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	src := randomBlock(r, 4096, 0.05)
	seqs := make([]uint64, src.Len)
	for i := range seqs {
		seqs[i] = uint64(i)
	}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = Append(buf[:0], 0, src, nil, seqs)
		var s []uint64
		if err := Decode(buf, types.NewBlock(schema, src.Len), &s); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*src.Len), "ns/row")
	b.ReportMetric(float64(len(buf))/float64(src.Len), "bytes/row")
}

func TestRecords(t *testing.T) {
	t.Parallel()
	seqs := []uint64{0, 3, 10, 1 << 50}
	lines := []string{"x\n", "a,b\n", "", "c,,d\n"}
	var data []byte
	prev := uint64(0)
	for i, s := range seqs {
		data = AppendRecord(data, prev, s, []byte(lines[i]))
		prev = s
	}
	rr := NewRecordReader(bufio.NewReader(bytes.NewReader(data)))
	for i := range seqs {
		if err := rr.Next(); err != nil {
			t.Fatal(err)
		}
		if rr.Seq() != seqs[i] || string(rr.Line()) != lines[i] {
			t.Fatalf("record %d: %d %q", i, rr.Seq(), rr.Line())
		}
	}
	if err := rr.Next(); err != io.EOF {
		t.Fatalf("after the last record: %v", err)
	}
	for cut := 1; cut < len(data); cut++ {
		rr := NewRecordReader(bufio.NewReader(bytes.NewReader(data[:cut])))
		var err error
		for err == nil {
			err = rr.Next()
		}
		if err == io.EOF && cut != len(data) {
			// a cut between two records is a shorter valid run
			continue
		}
		if !errors.Is(err, ErrCorrupt) && err != io.EOF {
			t.Fatalf("cut at %d: %v", cut, err)
		}
	}
}

func TestFrames(t *testing.T) {
	t.Parallel()
	data := AppendFrame(AppendFrame(AppendFrame(nil, []byte("ab")), nil), []byte("xyz"))
	got, err := Frames(data, nil)
	if err != nil || len(got) != 3 || string(got[0]) != "ab" || len(got[1]) != 0 || string(got[2]) != "xyz" {
		t.Fatalf("%q %v", got, err)
	}
	if _, err := Frames(data[:len(data)-1], nil); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("truncated: %v", err)
	}
}
