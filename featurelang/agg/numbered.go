package agg

import "math"

// Numberer is implemented by accumulators that count rows by value
// (distinct_count) and can number the values of their bound column once,
// so that a row then enters and leaves the counts by its number instead of
// by hashing its value at every Add and Remove. NumberValues costs one
// hash per row of the column: batch mode, which binds an accumulator to a
// whole column and slides it over every partition, calls it once after
// Bind; request mode, whose frames are a small part of their column, does
// not. Results are unchanged.
type Numberer interface {
	NumberValues()
}

// numbered is the state of a freqAcc whose values are numbered: counts by
// value number, for a column without arrays.
type numbered struct {
	ids    []int32 // per row: its value's number, or idNull, idNaN or idSkip
	counts []int64 // by number
	keys   int     // numbers with a non-zero count
	// touched lists the numbers counted since the last reset, so a reset
	// clears only them.
	touched []int32
}

// The ids of rows that are not counted by value number.
const (
	idSkip = -1 - iota // a NULL that is not counted (nullsSkip)
	idNull             // a NULL counted apart (nullsApart)
	idNaN              // a NaN, counted apart
)

// NumberValues numbers the values of the column as count keys them; a
// freqAcc over arrays, or whose output reads the counts' entries, keeps
// counting by key.
func (a *freqAcc[K]) NumberValues() {
	if a.elems || !a.keysOnly || a.num != nil {
		return
	}
	n := a.col.Len()
	if n > math.MaxInt32 {
		return
	}
	num := &numbered{ids: make([]int32, n)}
	byKey := map[K]int32{}
	for row := range n {
		null := a.col.IsNull(row)
		nan := !null && a.isNaN != nil && a.isNaN(row)
		var k K // a NULL counted as a value is the zero value
		switch {
		case null && a.nulls == nullsSkip:
			num.ids[row] = idSkip
			continue
		case null && a.nulls == nullsApart:
			num.ids[row] = idNull
			continue
		case nan:
			num.ids[row] = idNaN
			continue
		case !null:
			k = a.key(row)
		}
		id, ok := byKey[k]
		if !ok {
			id = int32(len(byKey))
			byKey[k] = id
		}
		num.ids[row] = id
	}
	num.counts = make([]int64, len(byKey))
	a.num = num
}

// countNumbered is count for a numbered column, with countValue's effect.
func (a *freqAcc[K]) countNumbered(row int, d int64) {
	a.rows += d
	num := a.num
	switch id := num.ids[row]; id {
	case idSkip:
	case idNull:
		a.null += d
	case idNaN:
		a.nan += d
	default:
		c := num.counts[id]
		if c == 0 {
			num.keys++
			num.touched = append(num.touched, id)
		}
		c += d
		if c == 0 {
			num.keys--
		}
		num.counts[id] = c
	}
}

// reset empties the counts.
func (num *numbered) reset() {
	for _, id := range num.touched {
		num.counts[id] = 0
	}
	num.touched = num.touched[:0]
	num.keys = 0
}
