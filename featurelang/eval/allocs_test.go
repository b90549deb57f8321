//go:build !race

package eval_test

import (
	"context"
	"testing"
)

// Allocation counts are not defined under the race detector: there,
// sync.Pool drops a random share of the items put back, so a pooled
// request allocates a varying amount. This file is built without -race
// only (go test ./... runs it).

// TestRequestAllocationsIndependentOfHistory checks that request mode
// allocates nothing per history row: 10 and 1,000 history rows cost the
// same number of allocations.
func TestRequestAllocationsIndependentOfHistory(t *testing.T) {
	ev := benchEvaluator(t)
	ctx := context.Background()
	allocs := func(n int) float64 {
		src := newHistorySource(n)
		req := src.request()
		return testing.AllocsPerRun(50, func() {
			if _, err := ev.Request(ctx, req, src); err != nil {
				t.Fatal(err)
			}
		})
	}
	small, large := allocs(10), allocs(1000)
	if large > small {
		t.Errorf("1,000 history rows cost %.0f allocations, 10 rows %.0f: something allocates per row", large, small)
	}
}
