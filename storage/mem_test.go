package storage_test

import (
	"math"
	"testing"

	"github.com/fenestra-dev/fenestra/storage"
	"github.com/fenestra-dev/fenestra/storage/storagetest"
)

// TestMem runs the data-driven storage cases on the in-memory store, the
// reference the other stores must match.
func TestMem(t *testing.T) {
	storagetest.Run(t, "testdata/*.txt", func(t *testing.T, clock storage.Clock) storage.Store {
		return storage.NewMem(clock)
	})
}

// TestMemTileTokens runs the tile consistency cases on the in-memory
// store.
func TestMemTileTokens(t *testing.T) {
	storagetest.RunTileTokens(t, func(t *testing.T, clock storage.Clock) storage.Store {
		return storage.NewMem(clock)
	})
}

// TestBucketSpan: the TS values of the buckets whose starts are in
// [from, to), at the extremes of int64 too.
func TestBucketSpan(t *testing.T) {
	t.Parallel()
	const day = 86_400_000
	for _, c := range []struct {
		from, to, width int64
		lo, hi          int64
		ok              bool
	}{
		{0, day, day, 0, day - 1, true},
		{1, day + 1, day, day, 2*day - 1, true},
		{1, day, day, 0, 0, false},
		{-day, 0, day, -day, -1, true},
		{-1, 0, day, 0, 0, false},
		{5, 5, 1, 0, 0, false},
		{0, 10, 0, 0, 0, false},
		{math.MinInt64, math.MaxInt64, 1 << 62, math.MinInt64, math.MaxInt64, true},
		{math.MinInt64, math.MinInt64 + 2*day, day, math.MinInt64 / day * day, math.MinInt64/day*day + 2*day - 1, true},
		{math.MaxInt64 - 10, math.MaxInt64, 4, math.MaxInt64 - 7, math.MaxInt64, true},
	} {
		lo, hi, ok := storage.BucketSpan(c.from, c.to, c.width)
		if ok != c.ok || ok && (lo != c.lo || hi != c.hi) {
			t.Errorf("BucketSpan(%d, %d, %d) = %d, %d, %t; want %d, %d, %t", c.from, c.to, c.width, lo, hi, ok, c.lo, c.hi, c.ok)
		}
	}
	if storage.BucketOf(math.MaxInt64, math.MinInt64, math.MaxInt64) || !storage.BucketOf(-2, math.MinInt64, math.MaxInt64) {
		t.Error("BucketOf overflows")
	}
	if storage.BucketOf(-1, 0, day) || !storage.BucketOf(day-1, 0, day) || storage.BucketOf(day, 0, day) {
		t.Error("BucketOf: bounds")
	}
}
