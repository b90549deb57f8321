package eval_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
)

// TestPlanRoundTrip checks, for generated plans, that a plan shipped as
// JSON rebuilds an evaluator with identical Batch and Request results, and
// that its version and encoding survive the trip.
func TestPlanRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	n := 300
	if testing.Short() {
		n = 50
	}
	for i := range n {
		c := newCase(*diffSeed + uint64(i))
		p, err := c.compile()
		if err != nil {
			t.Fatalf("seed %d: %v", c.seed, err)
		}
		b, err := plan.Marshal(p)
		if err != nil {
			t.Fatalf("seed %d: Marshal: %v", c.seed, err)
		}
		p2, err := plan.Unmarshal(b)
		if err != nil {
			t.Fatalf("seed %d: Unmarshal: %v\n%s", c.seed, err, b)
		}
		if v1, v2 := plan.Version(p), plan.Version(p2); v1 != v2 {
			t.Errorf("seed %d: version %s after the round trip, %s before\n%s", c.seed, v2, v1, c.query.SQL())
		}
		if b2, _ := plan.Marshal(p2); !bytes.Equal(b, b2) {
			t.Errorf("seed %d: the encoding changed in the round trip:\n%s\n%s", c.seed, b, b2)
		}
		ev1, err := eval.New(p)
		if err != nil {
			t.Fatalf("seed %d: New: %v", c.seed, err)
		}
		ev2, err := eval.New(p2)
		if err != nil {
			t.Fatalf("seed %d: New after the round trip: %v\n%s", c.seed, err, c.query.SQL())
		}
		tables := c.batchTables(c.reqs[0])
		out1, err1 := ev1.Batch(ctx, tables)
		out2, err2 := ev2.Batch(ctx, tables)
		if err1 != nil || err2 != nil {
			t.Fatalf("seed %d: Batch: %v / after the round trip: %v", c.seed, err1, err2)
		}
		if !identicalBlocks(out1, out2) {
			t.Errorf("seed %d: Batch differs after the round trip\n%s", c.seed, c.describe(0))
		}
		src := c.source()
		for _, req := range c.reqs {
			r1, err1 := ev1.Request(ctx, req, src)
			r2, err2 := ev2.Request(ctx, req, src)
			if err1 != nil || err2 != nil {
				t.Fatalf("seed %d: Request: %v / after the round trip: %v", c.seed, err1, err2)
			}
			if !identicalRows(r1, r2) {
				t.Errorf("seed %d: Request differs after the round trip: %s, before %s\n%s", c.seed, fmtRow(r2), fmtRow(r1), c.describe(-1))
			}
		}
	}
}
