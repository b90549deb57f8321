package exactsum

import (
	"bytes"
	"encoding"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

var (
	_ encoding.BinaryMarshaler   = (*Acc)(nil)
	_ encoding.BinaryAppender    = (*Acc)(nil)
	_ encoding.BinaryUnmarshaler = (*Acc)(nil)
)

func TestMarshalRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tt := range accTests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var a Acc
			for _, p := range tt.ops {
				p.apply(&a, &oracle{})
			}
			checkRoundTrip(t, &a)
		})
	}
	t.Run("random", func(t *testing.T) {
		t.Parallel()
		r := rand.New(rand.NewPCG(4, 4))
		for _, g := range generators {
			for range 200 {
				var a Acc
				for _, p := range script(r, g.gen, 1+r.IntN(50)) {
					p.apply(&a, &oracle{})
				}
				checkRoundTrip(t, &a)
			}
		}
	})
}

// checkRoundTrip checks that a unmarshals to an Equal Acc that encodes the
// same, and that a typical sum encodes compactly.
func checkRoundTrip(t *testing.T, a *Acc) {
	t.Helper()
	enc, err := a.MarshalBinary()
	if err != nil {
		t.Fatalf("MarshalBinary() error = %v", err)
	}
	var b Acc
	b.Add(42) // UnmarshalBinary replaces the sum
	if err := b.UnmarshalBinary(enc); err != nil {
		t.Fatalf("UnmarshalBinary(%x) error = %v", enc, err)
	}
	checkSame(t, "unmarshaled", &b, a)
	if app, err := a.AppendBinary([]byte("prefix")); err != nil || string(app) != "prefix"+string(enc) {
		t.Errorf("AppendBinary() = %x, %v, want prefix, %x", app, err, enc)
	}
}

func TestMarshalSize(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		xs   []float64
		want int
	}{
		{nil, 3},
		{[]float64{1}, 8},                   // one digit
		{[]float64{0.1, 0.2, 12.5}, 4 + 12}, // three digits
		{[]float64{-1.5, nan, inf}, 11},     // counts: 3 bytes
		{[]float64{maxF, tiny}, 4 + 4*66},   // the whole range
	} {
		var a Acc
		for _, x := range tt.xs {
			a.Add(x)
		}
		if enc, _ := a.MarshalBinary(); len(enc) != tt.want {
			t.Errorf("%v: MarshalBinary() = %x, %d bytes, want %d", tt.xs, enc, len(enc), tt.want)
		}
	}
}

func TestUnmarshalCorrupt(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrCorrupt},
		{"short", []byte{1}, ErrCorrupt},
		{"version 0", []byte{0, 0, 0}, ErrVersion},
		{"version 2", []byte{2, 0, 0}, ErrVersion},
		{"unknown flag", []byte{1, 4, 0}, ErrCorrupt},
		{"no digit count", []byte{1, 0}, ErrCorrupt},
		{"negative zero", []byte{1, flagNeg, 0}, ErrCorrupt},
		{"trailing byte", []byte{1, 0, 0, 0}, ErrCorrupt},
		{"zero counts", []byte{1, flagSpecial, 0, 0, 0, 0}, ErrCorrupt},
		{"truncated counts", []byte{1, flagSpecial, 2, 0}, ErrCorrupt},
		{"long varint", []byte{1, flagSpecial, 0x82, 0, 0, 0, 0}, ErrCorrupt},
		{"long uvarint", []byte{1, 0, 0x80, 0}, ErrCorrupt},
		{"varint overflow", append([]byte{1, 0}, bytes.Repeat([]byte{0xFF}, 11)...), ErrCorrupt},
		{"no lo", []byte{1, 0, 1}, ErrCorrupt},
		{"truncated digits", []byte{1, 0, 1, 33, 1, 0, 0}, ErrCorrupt},
		{"extra digit bytes", []byte{1, 0, 1, 33, 1, 0, 0, 0, 0}, ErrCorrupt},
		{"zero digit", []byte{1, 0, 1, 33, 0, 0, 0, 0}, ErrCorrupt},
		{"leading zero digit", []byte{1, 0, 2, 33, 1, 0, 0, 0, 0, 0, 0, 0}, ErrCorrupt},
		{"trailing zero digit", []byte{1, 0, 2, 33, 0, 0, 0, 0, 1, 0, 0, 0}, ErrCorrupt},
		{"too many digits", append([]byte{1, 0, 69, 0}, bytes.Repeat([]byte{1, 0, 0, 0}, 69)...), ErrCorrupt},
		{"digit too high", []byte{1, 0, 1, 68, 1, 0, 0, 0}, ErrCorrupt},
		{"huge digit count", []byte{1, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 1}, ErrCorrupt},
		{"huge lo", []byte{1, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 1, 0, 0, 0}, ErrCorrupt},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var a Acc
			a.Add(1)
			if err := a.UnmarshalBinary(tt.data); !errors.Is(err, tt.want) {
				t.Errorf("UnmarshalBinary(%x) error = %v, want %v", tt.data, err, tt.want)
			}
			if !a.Equal(&Acc{}) {
				t.Errorf("UnmarshalBinary(%x) failed but left %v", tt.data, a.Float64())
			}
		})
	}
}

func TestUnmarshalValid(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		data []byte
		want float64
	}{
		{"zero", []byte{1, 0, 0}, 0},
		{"one", []byte{1, 0, 1, 33, 0, 0, 8, 0}, 1},
		{"minus one", []byte{1, flagNeg, 1, 33, 0, 0, 8, 0}, -1},
		{"nan", []byte{1, flagSpecial, 2, 0, 0, 0}, math.NaN()},
		{"top digit", []byte{1, 0, 1, 67, 1, 0, 0, 0}, math.Inf(1)},
	} {
		var a Acc
		if err := a.UnmarshalBinary(tt.data); err != nil || !same64(a.Float64(), tt.want) {
			t.Errorf("%s: UnmarshalBinary(%x) = %v, Float64() = %v, want %v", tt.name, tt.data, err, a.Float64(), tt.want)
		}
	}
}

// FuzzUnmarshal checks that UnmarshalBinary never panics and that it
// accepts only canonical encodings: MarshalBinary gives back the input.
func FuzzUnmarshal(f *testing.F) {
	for _, tt := range accTests {
		var a Acc
		for _, p := range tt.ops {
			p.apply(&a, &oracle{})
		}
		enc, _ := a.MarshalBinary()
		f.Add(enc)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var a Acc
		if err := a.UnmarshalBinary(data); err != nil {
			return
		}
		enc, err := a.MarshalBinary()
		if err != nil || !bytes.Equal(enc, data) {
			t.Fatalf("MarshalBinary(UnmarshalBinary(%x)) = %x, %v", data, enc, err)
		}
		_, _ = a.Float64(), a.Float32()
		a.Add(1)
		a.Merge(&a)
	})
}
