package agg

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// TestSignaturesCoverRegistry keeps the property and fuzz tests exhaustive:
// every registered aggregate has signatures, and they all resolve.
func TestSignaturesCoverRegistry(t *testing.T) {
	t.Parallel()
	sigs := signatures()
	for name := range registry {
		if len(sigs[name]) == 0 {
			t.Errorf("aggregate %s has no test signatures", name)
		}
	}
	for name, ss := range sigs {
		for _, s := range ss {
			if _, err := Resolve(name, s.args, s.consts); err != nil {
				t.Errorf("%s: %v", sigName(name, s), err)
			}
		}
	}
}

// TestSlidingEqualsFresh is the batch == request guarantee for every
// aggregate: over random columns, a frame slid by FIFO Add/Remove gives
// results identical, bit for bit, to a fresh accumulator given AddRange over
// the same rows, and to ResultWith of the newest row; ResultWith and Reset
// leave no trace.
func TestSlidingEqualsFresh(t *testing.T) {
	t.Parallel()
	sigs := signatures()
	names := make([]string, 0, len(sigs))
	for name := range sigs {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		for si, s := range sigs[name] {
			t.Run(sigName(name, s), func(t *testing.T) {
				t.Parallel()
				for seed := range uint64(8) {
					checkSliding(t, name, s, rand.New(rand.NewPCG(seed, uint64(si))))
				}
			})
		}
	}
}

func checkSliding(t *testing.T, name string, s sig, rng *rand.Rand) {
	t.Helper()
	const n = 48
	f, err := Resolve(name, s.args, s.consts)
	if err != nil {
		t.Fatal(err)
	}
	cols := randomColumns(rng, s, n)
	acc := f.Bind(cols)
	lo, hi := 0, 0
	for step := 0; hi < n; step++ {
		for k := rng.IntN(4); k > 0 && hi < n; k-- {
			acc.Add(hi)
			hi++
		}
		for k := rng.IntN(4); k > 0 && lo < hi; k-- {
			acc.Remove(lo)
			lo++
		}
		got := acc.Result()
		if got.Type != f.Result {
			t.Fatalf("result type %s, want %s", got.Type, f.Result)
		}
		fresh := f.Bind(cols)
		fresh.AddRange(lo, hi)
		if want := fresh.Result(); !types.Identical(got, want) {
			t.Fatalf("step %d rows [%d,%d): sliding %s, fresh %s", step, lo, hi, show(got), show(want))
		}
		if hi > lo {
			req := f.Bind(cols)
			req.AddRange(lo, hi-1)
			if want := req.ResultWith(hi - 1); !types.Identical(got, want) {
				t.Fatalf("step %d rows [%d,%d): sliding %s, ResultWith %s", step, lo, hi, show(got), show(want))
			}
			prev := f.Bind(cols)
			prev.AddRange(lo, hi-1)
			if again, want := req.Result(), prev.Result(); !types.Identical(again, want) {
				t.Fatalf("ResultWith changed the state: %s, want %s", show(again), show(want))
			}
		}
		if hi < n {
			with := acc.ResultWith(hi)
			next := f.Bind(cols)
			next.AddRange(lo, hi+1)
			if want := next.Result(); !types.Identical(with, want) {
				t.Fatalf("step %d: ResultWith(%d) %s, want %s", step, hi, show(with), show(want))
			}
			if again := acc.Result(); !types.Identical(again, got) {
				t.Fatalf("step %d: ResultWith changed the state: %s, want %s", step, show(again), show(got))
			}
		}
	}
	acc.Reset()
	acc.AddRange(n/3, n)
	fresh := f.Bind(cols)
	for r := n / 3; r < n; r++ {
		fresh.Add(r)
	}
	if got, want := acc.Result(), fresh.Result(); !types.Identical(got, want) {
		t.Fatalf("after Reset: %s, want %s", show(got), show(want))
	}
}

// TestNumberedEqualsUnnumbered checks every Numberer: over random columns,
// an accumulator whose values are numbered gives the results of one that
// is not, bit for bit, through Add, Remove, ResultWith and Reset.
func TestNumberedEqualsUnnumbered(t *testing.T) {
	t.Parallel()
	for name, ss := range signatures() {
		for si, s := range ss {
			f, err := Resolve(name, s.args, s.consts)
			if err != nil {
				t.Fatal(err)
			}
			for seed := range uint64(8) {
				rng := rand.New(rand.NewPCG(seed, uint64(si)))
				cols := randomColumns(rng, s, 64)
				numbered, plain := f.Bind(cols), f.Bind(cols)
				nb, ok := numbered.(Numberer)
				if !ok {
					break
				}
				nb.NumberValues()
				lo, hi := 0, 0
				for step := 0; hi < 64; step++ {
					if rng.IntN(16) == 0 {
						numbered.Reset()
						plain.Reset()
						lo = hi
					}
					for k := rng.IntN(4); k > 0 && hi < 64; k-- {
						numbered.Add(hi)
						plain.Add(hi)
						hi++
					}
					for k := rng.IntN(4); k > 0 && lo < hi; k-- {
						numbered.Remove(lo)
						plain.Remove(lo)
						lo++
					}
					got, want := numbered.Result(), plain.Result()
					if hi < 64 {
						got, want = numbered.ResultWith(hi), plain.ResultWith(hi)
					}
					if !types.Identical(got, want) {
						t.Fatalf("%s step %d rows [%d,%d): numbered %s, not %s", sigName(name, s), step, lo, hi, show(got), show(want))
					}
				}
			}
		}
	}
}
