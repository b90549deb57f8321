package agg

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// TestResultWriter checks, for every aggregate whose accumulator
// implements ResultWriter, that WriteResult stores exactly what
// Set(i, Result()) stores, over random sliding frames with NULLs, NaN and
// empty frames.
func TestResultWriter(t *testing.T) {
	t.Parallel()
	argTypes := []types.Type{types.Int16, types.Int32, types.Int64, types.Float, types.Double, types.String, types.Timestamp, types.Date}
	r := rand.New(rand.NewPCG(5, 6))
	checked := 0
	defer func() {
		if checked < 20 {
			t.Errorf("only %d aggregate signatures implement ResultWriter; expected the core ones", checked)
		}
	}()
	for name := range registry {
		for _, at := range argTypes {
			for _, args := range [][]types.Type{{at}, {}} {
				f, err := Resolve(name, args, nil)
				if err != nil {
					continue
				}
				col := writerColumn(r, at, 200)
				cols := []*types.Column{&col}
				if len(args) == 0 {
					cols = nil
				}
				acc := f.Bind(cols)
				w, ok := acc.(ResultWriter)
				if !ok {
					continue
				}
				checked++
				got, want := types.MakeColumn(f.Result, 200), types.MakeColumn(f.Result, 200)
				lo := 0
				for hi := 0; hi < 200; hi++ {
					acc.Add(hi)
					for lo <= hi && r.IntN(3) == 0 {
						acc.Remove(lo)
						lo++
					}
					w.WriteResult(&got, hi)
					want.Set(hi, acc.Result())
				}
				for i := 0; i < 200; i++ {
					if g, w := got.Value(i), want.Value(i); !types.Identical(g, w) {
						t.Fatalf("%s%v row %d: WriteResult %s, Set(Result) %s", name, args, i, g, w)
					}
				}
			}
		}
	}
}

func writerColumn(r *rand.Rand, t types.Type, n int) types.Column {
	c := types.NewColumn(t, n)
	for range n {
		if r.IntN(6) == 0 {
			c.Append(types.NullOf(t))
			continue
		}
		v := types.Value{Type: t}
		switch {
		case t.IsFloat():
			v.F = float64(float32(r.NormFloat64() * 100))
			if r.IntN(30) == 0 {
				v.F = math.NaN()
			}
		case t == types.String:
			v.S = string(rune('a' + r.IntN(5)))
		default:
			v.I = types.Wrap(t, r.Int64N(1000)-500)
		}
		c.Append(v)
	}
	return c
}

// TestRangeSlider checks, for every accumulator that implements
// RangeSlider, that Slide gives the same results as Remove and Add row by
// row, over random forward-moving frames (including jumps past the held
// rows' end being excluded by the caller: newLo <= hi).
func TestRangeSlider(t *testing.T) {
	t.Parallel()
	argTypes := []types.Type{types.Int16, types.Int32, types.Int64, types.Float, types.Double, types.String, types.Timestamp, types.Date}
	r := rand.New(rand.NewPCG(8, 9))
	checked := 0
	for name := range registry {
		for _, at := range argTypes {
			for _, args := range [][]types.Type{{at}, {}} {
				f, err := Resolve(name, args, nil)
				if err != nil {
					continue
				}
				col := writerColumn(r, at, 300)
				cols := []*types.Column{&col}
				if len(args) == 0 {
					cols = nil
				}
				slid, stepped := f.Bind(cols), f.Bind(cols)
				rs, ok := slid.(RangeSlider)
				if !ok {
					continue
				}
				checked++
				lo, hi := 0, 0
				for hi < 300 {
					newHi := min(300, hi+r.IntN(4))
					newLo := min(hi, lo+r.IntN(4))
					rs.Slide(lo, hi, newLo, newHi)
					for i := lo; i < newLo; i++ {
						stepped.Remove(i)
					}
					for i := hi; i < newHi; i++ {
						stepped.Add(i)
					}
					lo, hi = newLo, max(newHi, hi+1)
					if newHi < hi { // keep both in step when hi advanced alone
						slid.Add(hi - 1)
						stepped.Add(hi - 1)
					}
					if g, w := slid.Result(), stepped.Result(); !types.Identical(g, w) {
						t.Fatalf("%s%v frame [%d,%d): Slide gives %s, Remove/Add %s", name, args, lo, hi, g, w)
					}
				}
			}
		}
	}
	if checked < 20 {
		t.Errorf("only %d signatures implement RangeSlider; expected the core ones", checked)
	}
}

// TestRebinder checks, for every accumulator that implements Rebinder,
// that an accumulator used on one set of columns and then rebound to
// another gives exactly what a fresh Bind of the second set gives.
func TestRebinder(t *testing.T) {
	t.Parallel()
	argTypes := []types.Type{types.Int16, types.Int32, types.Int64, types.Float, types.Double, types.String, types.Timestamp, types.Date}
	r := rand.New(rand.NewPCG(10, 11))
	checked := 0
	for name := range registry {
		for _, at := range argTypes {
			for _, args := range [][]types.Type{{at}, {}} {
				f, err := Resolve(name, args, nil)
				if err != nil {
					continue
				}
				first, second := writerColumn(r, at, 100), writerColumn(r, at, 100)
				cols := func(c *types.Column) []*types.Column {
					if len(args) == 0 {
						return nil
					}
					return []*types.Column{c}
				}
				reused := f.Bind(cols(&first))
				rb, ok := reused.(Rebinder)
				if !ok {
					continue
				}
				checked++
				reused.AddRange(0, 100)
				rb.Rebind(cols(&second))
				fresh := f.Bind(cols(&second))
				for _, acc := range []Acc{reused, fresh} {
					acc.AddRange(10, 60)
					for i := 10; i < 30; i++ {
						acc.Remove(i)
					}
				}
				if g, w := reused.ResultWith(70), fresh.ResultWith(70); !types.Identical(g, w) {
					t.Errorf("%s%v: rebound %s, fresh %s", name, args, g, w)
				}
			}
		}
	}
	if checked < 20 {
		t.Errorf("only %d signatures implement Rebinder; expected the core ones", checked)
	}
}
