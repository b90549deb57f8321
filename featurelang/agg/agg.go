// Package agg is the library of window aggregates (sum, count, min, max, avg,
// the *_where and *_cate families, lag, distinct_count, ...): their typing
// rules and their accumulators.
//
// An aggregate is resolved once, at compile time, to a Func for its argument
// types. At evaluation time the evaluator computes each argument for every
// row into a column and binds the Func to those columns, getting an Acc. The
// Acc is told which rows are in the frame:
//
//   - batch mode slides a frame over a sorted partition: rows enter at the
//     new end with Add and leave at the old end with Remove, in the same
//     order (FIFO), so sum and count subtract on evict and min/max keep a
//     monotonic deque: O(1) amortized per row;
//   - request mode adds the frame's stored rows with AddRange and asks
//     ResultWith(request row).
//
// Both modes therefore compute through the same accumulator code, and float
// sums are exact (see package exactsum), so results are bit-identical.
package agg

import (
	"errors"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// Acc accumulates the rows of a frame. It holds a sequence of row indices of
// its bound columns, oldest first. Rows are added at the new end (Add,
// AddRange) and removed from the old end (Remove): Remove(row) is always
// called with the oldest row still held. An Acc is used by one goroutine.
type Acc interface {
	// Reset empties the accumulator.
	Reset()
	// Add appends row as the newest row.
	Add(row int)
	// AddRange appends rows lo..hi-1 in order; it is Add in a loop, faster.
	AddRange(lo, hi int)
	// Remove removes row, the oldest row held.
	Remove(row int)
	// Result returns the aggregate of the rows held.
	Result() types.Value
	// ResultWith returns the aggregate of the rows held plus row as the
	// newest, without changing the state.
	ResultWith(row int) types.Value
}

// ResultWriter is implemented by accumulators that can store their result
// straight into column out (of the Func's result type) at position i,
// without building a Value: the batch sweep's fast path. It stores exactly
// what Set(i, Result()) would.
type ResultWriter interface {
	WriteResult(out *types.Column, i int)
}

// RangeSlider is implemented by accumulators that can move a frame of
// consecutive rows in one call: Slide(lo, hi, newLo, newHi) goes from
// holding rows lo..hi-1 to holding newLo..newHi-1, with lo <= newLo <= hi
// <= newHi. It equals Remove(lo..newLo-1) then Add(hi..newHi-1), without a
// call per row.
type RangeSlider interface {
	Slide(lo, hi, newLo, newHi int)
}

// Rebinder is implemented by accumulators that can be pointed at new
// argument columns and reused: Rebind(cols) leaves the accumulator as
// Bind(cols) would return it, empty. A host reuses such accumulators
// across evaluations instead of binding new ones.
type Rebinder interface {
	Rebind(cols []*types.Column)
}

// Func is an aggregate resolved for concrete argument types.
type Func struct {
	Name   string       // canonical lower-case name
	Args   []types.Type // the argument types it was resolved for
	Result types.Type
	// Consts holds the values of arguments that must be constants (lag's
	// offset, top_n_key's n), nil elsewhere. They are part of the Func's
	// identity and are recorded in plans.
	Consts []*types.Value
	bind   func(cols []*types.Column) Acc
}

// Bind returns a new accumulator over the argument columns cols (one per
// argument, each as long as the rows the frame may reference; constant
// arguments are passed too). The columns must not change while the Acc is
// in use.
func (f *Func) Bind(cols []*types.Column) Acc { return f.bind(cols) }

// ErrUnknown is returned (wrapped) by Resolve for a name that is not an
// aggregate.
var ErrUnknown = errors.New("agg: unknown aggregate")

// IsAggregate reports whether name (lower case) names an aggregate.
func IsAggregate(name string) bool {
	_, ok := registry[name]
	return ok
}

// Resolve returns the aggregate name applied to arguments of the given types.
// consts[i] is the value of argument i when it is a constant expression
// (nil otherwise); consts may be nil. The error message suits a user
// ("sum: cannot aggregate date", "lag: the offset must be a constant
// integer") and wraps ErrUnknown for an unknown name.
func Resolve(name string, args []types.Type, consts []*types.Value) (*Func, error) {
	return resolve(name, args, consts)
}
