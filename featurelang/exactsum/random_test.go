package exactsum

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// generators produce finite float64s of various distributions.
var generators = []struct {
	name string
	gen  func(r *rand.Rand) float64
}{
	{"any", func(r *rand.Rand) float64 { // uniform over exponents and signs
		for {
			if x := math.Float64frombits(r.Uint64()); !math.IsNaN(x) && !math.IsInf(x, 0) {
				return x
			}
		}
	}},
	{"similar", func(r *rand.Rand) float64 { return (2*r.Float64() - 1) * 1000 }},
	{"positive", func(r *rand.Rand) float64 { return r.Float64() * 100 }},
	{"cents", func(r *rand.Rand) float64 { return float64(r.IntN(1e6)) / 100 }},
	{"wide", func(r *rand.Rand) float64 {
		return math.Ldexp(2*r.Float64()-1, r.IntN(200)-100)
	}},
	{"subnormal", func(r *rand.Rand) float64 { // subnormals and the two lowest binades
		b := r.Uint64()&(1<<63|1<<52-1) | uint64(r.IntN(3))<<52
		return math.Float64frombits(b)
	}},
	{"huge", func(r *rand.Rand) float64 { // the top binades: sums overflow
		b := r.Uint64()&(1<<63|1<<52-1) | uint64(2046-r.IntN(4))<<52
		return math.Float64frombits(b)
	}},
	{"float32", func(r *rand.Rand) float64 { // float32 values, float32 ties
		return float64(math.Float32frombits(r.Uint32()&^(0xFF<<23) | uint32(r.IntN(255))<<23))
	}},
	{"zeros and specials", func(r *rand.Rand) float64 {
		return []float64{0, math.Copysign(0, -1), 1, -1, tiny, -tiny, maxF, -maxF}[r.IntN(8)]
	}},
}

// script returns n random operations on values from gen: adds, later
// subtractions of some of the values added, integers, and now and then
// NaN and infinities.
func script(r *rand.Rand, gen func(*rand.Rand) float64, n int) []op {
	var ops []op
	var live []op // added and not yet subtracted
	for range n {
		var p op
		switch k := r.IntN(100); {
		case k < 60:
			p = op{kind: opAdd, f: gen(r)}
		case k < 85 && len(live) > 0:
			j := r.IntN(len(live))
			p = live[j]
			p.kind ^= 1 // opAdd <-> opSub, opAddInt <-> opSubInt
			live[j] = live[len(live)-1]
			live = live[:len(live)-1]
		case k < 90:
			p = op{kind: opSub, f: gen(r)}
		case k < 97:
			p = op{kind: opAddInt, i: int64(r.Uint64()) >> r.IntN(64)}
		default:
			p = op{kind: opAdd, f: []float64{nan, inf, -inf}[r.IntN(3)]}
		}
		if p.kind == opAdd || p.kind == opAddInt {
			live = append(live, p)
		}
		ops = append(ops, p)
	}
	return ops
}

func TestRandom(t *testing.T) {
	t.Parallel()
	for _, g := range generators {
		for _, n := range []int{10, 1000, 20000} {
			t.Run(fmt.Sprintf("%s/%d", g.name, n), func(t *testing.T) {
				t.Parallel()
				r := rand.New(rand.NewPCG(uint64(n), 1))
				for run := range 20000 / n {
					var a Acc
					var o oracle
					for i, p := range script(r, g.gen, n) {
						p.apply(&a, &o)
						if i&(i-1) == 0 || i%997 == 0 { // powers of two and more
							checkOracle(t, fmt.Sprintf("run %d, op %d", run, i), &a, &o)
						}
					}
					checkOracle(t, fmt.Sprintf("run %d, end", run), &a, &o)
					if t.Failed() {
						return
					}
				}
			})
		}
	}
}

// TestRoundNarrow checks that both ways of rounding agree on narrow sums
// (see Acc.round), which Float64 and Float32 only round the narrow way.
func TestRoundNarrow(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 7))
	narrow := 0
	for _, g := range generators {
		for range 20 {
			var a Acc
			for i, p := range script(r, g.gen, 200) {
				p.apply(&a, &oracle{})
				lo, hi := a.span()
				if hi-lo > 4 || lo > numDigits-4 {
					continue
				}
				narrow++
				for _, f := range [][2]int{{52, 1023}, {23, 127}} {
					b1, neg1 := a.roundNarrow(lo, f[0], f[1])
					b2, neg2 := a.roundWide(lo, hi, f[0], f[1])
					if b1 != b2 || neg1 != neg2 {
						t.Fatalf("%s, op %d, format %v: roundNarrow() = %#x, %v; roundWide() = %#x, %v",
							g.name, i, f, b1, neg1, b2, neg2)
					}
				}
			}
		}
	}
	if narrow < 10000 {
		t.Errorf("only %d narrow sums", narrow)
	}
}

// TestTies rounds exact halfway cases, and the cases just above and below,
// to float64 and float32.
func TestTies(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(2, 2))
	for range 20000 {
		// float64: f + half an ulp, for f with a representable half ulp.
		f := math.Float64frombits(uint64(2+r.IntN(2044))<<52 | r.Uint64()&(1<<52-1))
		h := (math.Nextafter(f, inf) - f) / 2
		up := math.Nextafter(f, inf)
		even := f
		if math.Float64bits(f)&1 != 0 {
			even = up
		}
		checkTie(t, r, f, h, even, f, up)

		// float32: g + half a float32 ulp, g subnormal or normal.
		g := math.Float32frombits(uint32(r.IntN(254))<<23 | r.Uint32()&(1<<23-1))
		up32 := nextUp32(g)
		h32 := (float64(up32) - float64(g)) / 2
		even32 := g
		if math.Float32bits(g)&1 != 0 {
			even32 = up32
		}
		checkTie32(t, r, g, h32, even32, up32)
	}
}

// halves returns h split into a random number of parts that add up to h.
func halves(r *rand.Rand, h float64) []float64 {
	var parts []float64
	for r.IntN(3) > 0 && h/2 >= 2*tiny {
		h /= 2
		parts = append(parts, h)
	}
	return append(parts, h)
}

func checkTie(t *testing.T, r *rand.Rand, f, h, even, down, up float64) {
	t.Helper()
	for _, c := range []struct {
		extra []float64
		want  float64
	}{
		{nil, even},
		{[]float64{tiny}, up},
		{[]float64{-tiny}, down},
		{[]float64{1e300, tiny, -1e300}, up},
		{[]float64{-tiny, 1, -1}, down},
	} {
		for _, sign := range []float64{1, -1} {
			var a Acc
			var o oracle
			for _, x := range append(append([]float64{f}, halves(r, h)...), c.extra...) {
				a.Add(sign * x)
				o.add(sign*x, 1)
			}
			what := fmt.Sprintf("%v + %v + %v, sign %v", f, h, c.extra, sign)
			checkOracle(t, what, &a, &o)
			if got := a.Float64(); got != sign*c.want {
				t.Fatalf("%s: Float64() = %v, want %v", what, got, sign*c.want)
			}
		}
	}
}

func checkTie32(t *testing.T, r *rand.Rand, g float32, h float64, even, up float32) {
	t.Helper()
	for _, c := range []struct {
		extra float64
		want  float32
	}{
		{0, even},
		{h * 0x1p-60, up}, // lost in float64: float32(Float64()) rounds twice
		{-h * 0x1p-60, g},
		{tiny, up},
		{-tiny, g},
	} {
		var a Acc
		var o oracle
		for _, x := range append(halves(r, h), float64(g), c.extra) {
			a.Add(x)
			o.add(x, 1)
		}
		what := fmt.Sprintf("%v + %v + %v", g, h, c.extra)
		checkOracle(t, what, &a, &o)
		if got := a.Float32(); got != c.want && !(got == 0 && c.want == 0) {
			t.Fatalf("%s: Float32() = %v, want %v", what, got, c.want)
		}
	}
}

// split returns the Accs of a random partition of ops, and their oracle.
func split(r *rand.Rand, ops []op, k int) ([]*Acc, *oracle) {
	accs := make([]*Acc, k)
	for i := range accs {
		accs[i] = new(Acc)
	}
	var o oracle
	for _, p := range ops {
		p.apply(accs[r.IntN(k)], &o)
	}
	return accs, &o
}

// TestOrderIndependence computes the same sum in three ways: in order, in a
// shuffled order interleaved with values added and subtracted again, and
// split across Accs merged in random order. The sums are Equal and round
// and encode identically.
func TestOrderIndependence(t *testing.T) {
	t.Parallel()
	for _, g := range generators {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			r := rand.New(rand.NewPCG(3, 3))
			for _, n := range []int{1, 2, 5, 100, 3000} {
				ops := script(r, g.gen, n)

				var inOrder Acc
				var o oracle
				for _, p := range ops {
					p.apply(&inOrder, &o)
				}
				checkOracle(t, "in order", &inOrder, &o)

				var shuffled Acc
				var pending []op
				for _, i := range r.Perm(len(ops)) {
					ops[i].apply(&shuffled, &oracle{})
					if r.IntN(3) == 0 {
						x := op{kind: opAdd, f: g.gen(r)}
						x.apply(&shuffled, &oracle{})
						pending = append(pending, x)
					}
					if len(pending) > 0 && r.IntN(3) == 0 {
						x := pending[0]
						x.kind = opSub
						x.apply(&shuffled, &oracle{})
						pending = pending[1:]
					}
				}
				for _, x := range pending {
					x.kind = opSub
					x.apply(&shuffled, &oracle{})
				}

				parts, _ := split(r, ops, 1+r.IntN(8))
				for len(parts) > 1 { // merge two random parts until one is left
					i, j := r.IntN(len(parts)), r.IntN(len(parts)-1)
					if j >= i {
						j++
					}
					parts[i].Merge(parts[j])
					parts[j] = parts[len(parts)-1]
					parts = parts[:len(parts)-1]
				}
				merged := parts[0]

				for name, a := range map[string]*Acc{"shuffled": &shuffled, "merged": merged} {
					what := fmt.Sprintf("%d ops %s", n, name)
					checkSame(t, what, a, &inOrder)
				}
			}
		})
	}
}

// checkSame fails t unless a and b hold the same sum.
func checkSame(t *testing.T, what string, a, b *Acc) {
	t.Helper()
	if !a.Equal(b) || !b.Equal(a) {
		t.Errorf("%s: not Equal", what)
	}
	if x, y := a.Float64(), b.Float64(); !same64(x, y) {
		t.Errorf("%s: Float64() = %v, want %v", what, x, y)
	}
	if x, y := a.Float32(), b.Float32(); !same32(x, y) {
		t.Errorf("%s: Float32() = %v, want %v", what, x, y)
	}
	x, err1 := a.MarshalBinary()
	y, err2 := b.MarshalBinary()
	if err1 != nil || err2 != nil || !bytes.Equal(x, y) {
		t.Errorf("%s: MarshalBinary() = %x, %v, want %x, %v", what, x, err1, y, err2)
	}
}

// TestHugeSums doubles a sum by merging it into itself, up to 2^1131 (where
// the value wraps around), beyond the range where it can be marshaled.
func TestHugeSums(t *testing.T) {
	t.Parallel()
	for _, xs := range [][]float64{
		{1},
		{0.1, -3},
		{maxF, maxF, tiny},
		{-maxF, 1, -tiny},
		{1e-300, 0x1p-1000},
		{0x1p1023}, // 2^maxExp after 78 doublings
		{-0x1p1023},
	} {
		var a Acc
		var o oracle
		for _, x := range xs {
			a.Add(x)
			o.add(x, 1)
		}
		for k := 0; o.exact().MantExp(nil) <= 1131; k++ {
			what := fmt.Sprintf("%v times 2^%d", xs, k)
			checkOracle(t, what, &a, &o)
			inRange := o.exact().MantExp(nil) <= maxExp
			enc, err := a.MarshalBinary()
			if inRange != (err == nil) {
				t.Fatalf("%s: exponent %d: MarshalBinary() error = %v", what, o.exact().MantExp(nil), err)
			}
			if err == nil {
				var b Acc
				if err := b.UnmarshalBinary(enc); err != nil || !b.Equal(&a) {
					t.Fatalf("%s: UnmarshalBinary(MarshalBinary()) = %v, not Equal", what, err)
				}
			}
			a.Merge(&a)
			o.merge(&o)
		}
	}
}

// TestCarryBound merges Accs one addition short of a carry pass, holding the
// largest digits additions make (a significand of 53 ones shifted by 31
// bits), into each other and into themselves.
func TestCarryBound(t *testing.T) {
	t.Parallel()
	for _, x := range []float64{0x1.fffffffffffffp32, -0x1.fffffffffffffp32} {
		var a, b Acc
		var o, p oracle
		for range carryLimit - 1 {
			a.Add(x)
			b.Add(x)
			o.add(x, 1)
			p.add(x, 1)
		}
		if a.n != carryLimit-1 {
			t.Fatalf("%d additions after a carry pass, want %d", a.n, carryLimit-1)
		}
		c := a
		c.Merge(&c)
		a.Merge(&b)
		o.merge(&p)
		checkOracle(t, fmt.Sprint("merge of ", x), &a, &o)
		checkOracle(t, fmt.Sprint("self-merge of ", x), &c, &o)
	}
}

// TestAllocs checks that the hot methods do not allocate. It is not
// parallel: AllocsPerRun counts the allocations of every goroutine.
func TestAllocs(t *testing.T) {
	var a, b Acc
	b.Add(3)
	buf := make([]byte, 0, 64)
	for _, f := range []struct {
		name string
		f    func()
	}{
		{"Add", func() { a.Add(1.5) }},
		{"Sub", func() { a.Sub(1.5) }},
		{"AddInt", func() { a.AddInt(-7) }},
		{"SubInt", func() { a.SubInt(-7) }},
		{"Merge", func() { a.Merge(&b) }},
		{"Float64", func() { _ = a.Float64() }},
		{"Float32", func() { _ = a.Float32() }},
		{"IsZero", func() { _ = a.IsZero() }},
		{"Equal", func() { _ = a.Equal(&b) }},
		{"AppendBinary", func() { _, _ = a.AppendBinary(buf[:0]) }},
		{"Reset", func() { a.Reset() }},
	} {
		if n := testing.AllocsPerRun(1000, f.f); n != 0 {
			t.Errorf("%s: %v allocations, want 0", f.name, n)
		}
	}
}

func TestZeroValueAndReset(t *testing.T) {
	t.Parallel()
	var a Acc
	if !a.IsZero() || a.Float64() != 0 || math.Signbit(a.Float64()) {
		t.Fatalf("zero Acc: IsZero() = %v, Float64() = %v", a.IsZero(), a.Float64())
	}
	for _, x := range []float64{1e300, -tiny, nan, inf, 0.5} {
		a.Add(x)
	}
	a.AddInt(math.MinInt64)
	a.Reset()
	if !a.Equal(&Acc{}) || !a.IsZero() || a != (Acc{}) {
		t.Fatalf("after Reset: %+v", a)
	}
	a.Add(1e300)
	a.Sub(1e300)
	if !a.IsZero() {
		t.Fatalf("Add(x), Sub(x): IsZero() = false")
	}
	b := a // a copy is an independent Acc
	b.Add(2)
	if a.Float64() != 0 || b.Float64() != 2 {
		t.Fatalf("copy: a = %v, b = %v", a.Float64(), b.Float64())
	}
}
