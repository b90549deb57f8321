package agg

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// fuzzTypes are the argument types the fuzzer draws from.
var fuzzTypes = []types.Type{
	types.Null, tBool, tI16, tI32, tI64, tF32, tF64, tStr, tTS, tDate,
	types.ArrayOf(tStr), types.MapOf(tStr, tI32),
}

// fuzzConsts are candidate constants by type.
var fuzzConsts = map[types.Type][]*types.Value{
	types.Null: {{Type: types.Null, Null: true}},
	tBool:      {constant(tBool, true), constant(tBool, false), constant(tBool, nil)},
	tI16:       {constant(tI16, 1), constant(tI16, -2)},
	tI32:       {constant(tI32, 0), constant(tI32, 1), constant(tI32, 3), constant(tI32, -1), constant(tI32, 1<<30), constant(tI32, -1<<31), constant(tI32, nil)},
	tI64:       {constant(tI64, 2), constant(tI64, -1<<63), constant(tI64, 1<<62), constant(tI64, -7)},
	tF64:       {constant(tF64, 1.5)},
	tStr:       {constant(tStr, ","), constant(tStr, ""), constant(tStr, ", "), constant(tStr, ":"), constant(tStr, "(a|b)*"), constant(tStr, "[")},
}

// FuzzAggregates resolves random aggregates for random argument types and
// constants and drives the accumulators through random Add, AddRange,
// Remove, Result, ResultWith and Reset sequences (respecting the FIFO
// contract). Nothing may panic.
func FuzzAggregates(f *testing.F) {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	slices.Sort(names)
	// Seed with every catalogued signature.
	for name, ss := range signatures() {
		i := uint16(slices.Index(names, name))
		for si := range ss {
			f.Add(i, uint64(si), uint64(len(ss)), []byte{0, 1, 2, 3, 4, 5, 1, 1, 0, 2, 4})
		}
	}
	f.Fuzz(func(t *testing.T, nameIdx uint16, seed, shape uint64, ops []byte) {
		name := names[int(nameIdx)%len(names)]
		rng := rand.New(rand.NewPCG(seed, shape))
		s := fuzzSig(name, rng)
		fn, err := Resolve(name, s.args, s.consts)
		if err != nil {
			return
		}
		const n = 24
		cols := randomColumns(rng, s, n)
		acc := fn.Bind(cols)
		lo, hi := 0, 0
		for _, op := range ops {
			switch op % 6 {
			case 0:
				if hi < n {
					acc.Add(hi)
					hi++
				}
			case 1:
				if lo < hi {
					acc.Remove(lo)
					lo++
				}
			case 2:
				k := min(int(op/6)%4, n-hi)
				acc.AddRange(hi, hi+k)
				hi += k
			case 3:
				acc.Result()
			case 4:
				if hi < n {
					acc.ResultWith(hi)
				}
			case 5:
				acc.Reset()
				lo = hi
			}
		}
		if got := acc.Result(); got.Type != fn.Result {
			t.Fatalf("%s: result type %s, want %s", sigName(name, s), got.Type, fn.Result)
		}
	})
}

// fuzzSig draws a call: usually a catalogued signature with some argument
// types or constants changed, sometimes arbitrary arguments.
func fuzzSig(name string, rng *rand.Rand) sig {
	var s sig
	if known := signatures()[name]; len(known) > 0 && rng.IntN(4) != 0 {
		s = known[rng.IntN(len(known))]
		s = sig{args: slices.Clone(s.args), consts: slices.Clone(s.consts)}
	} else {
		s = plain(make([]types.Type, rng.IntN(5))...)
		for i := range s.args {
			s.args[i] = fuzzTypes[rng.IntN(len(fuzzTypes))]
		}
	}
	for i := range s.args {
		if rng.IntN(4) == 0 {
			s.args[i] = fuzzTypes[rng.IntN(len(fuzzTypes))]
			s.consts[i] = nil
		}
		if cs := fuzzConsts[s.args[i]]; len(cs) > 0 && rng.IntN(3) == 0 {
			s.consts[i] = cs[rng.IntN(len(cs))]
		}
	}
	return s
}
