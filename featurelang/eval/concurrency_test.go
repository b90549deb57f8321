package eval_test

import (
	"context"
	"sync"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// TestConcurrentUse runs each generated evaluator from 8 goroutines at
// once, mixing Batch and Request, and checks every result against a
// sequential run. Run it with -race.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const goroutines, rounds = 8, 3
	for i := range 30 {
		c := newCase(*diffSeed + 7919*uint64(i+1))
		p, err := c.compile()
		if err != nil {
			t.Fatalf("seed %d: %v", c.seed, err)
		}
		ev, err := eval.New(p)
		if err != nil {
			t.Fatalf("seed %d: %v", c.seed, err)
		}
		src := c.source()
		tables := c.batchTables(nil)
		wantBatch, err := ev.Batch(ctx, tables)
		if err != nil {
			t.Fatalf("seed %d: Batch: %v", c.seed, err)
		}
		wantReq := make([][]types.Value, len(c.reqs))
		for j, req := range c.reqs {
			if wantReq[j], err = ev.Request(ctx, req, src); err != nil {
				t.Fatalf("seed %d: Request: %v", c.seed, err)
			}
		}
		var wg sync.WaitGroup
		errs := make(chan string, goroutines*rounds*(len(c.reqs)+1))
		for g := range goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for r := range rounds {
					// Each goroutine starts at a different task.
					for k := range len(c.reqs) + 1 {
						j := (g + r + k) % (len(c.reqs) + 1)
						if j == len(c.reqs) {
							out, err := ev.Batch(ctx, tables)
							if err != nil || !identicalBlocks(out, wantBatch) {
								errs <- "Batch differs from its sequential run"
							}
							continue
						}
						got, err := ev.Request(ctx, c.reqs[j], src)
						if err != nil || !identicalRows(got, wantReq[j]) {
							errs <- "Request differs from its sequential run: " + fmtRow(got) + ", sequential " + fmtRow(wantReq[j])
						}
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for msg := range errs {
			t.Errorf("seed %d: %s\n%s", c.seed, msg, c.describe(-1))
			break
		}
	}
}
