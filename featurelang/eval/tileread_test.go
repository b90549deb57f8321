package eval_test

import (
	"context"
	"flag"
	"math/rand/v2"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/eval/tiletest"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

var tileIters = flag.Int("tiles.iters", 0, "cases TestRequestOverTiles generates (0: 400, or 100 with -short)")

// multiTiles is MemTiles with ScanMany, answering each query with Scan.
type multiTiles struct {
	*eval.MemTiles
	calls int
}

func (m *multiTiles) ScanMany(ctx context.Context, qs []eval.Query) ([]*types.Block, error) {
	m.calls++
	return (&multiSource{Source: m.MemTiles}).ScanMany(ctx, qs)
}

// rawOnly hides a source's tiles.
type rawOnly struct{ eval.Source }

// TestRequestOverTiles is the differential test of the tile reader: on
// random views with long windows (tiled and raw aggregates, RANGE frames
// of minutes to weeks, UNBOUNDED and OPEN starts, EXCLUDE CURRENT_TIME,
// windows tiles cannot serve next to ones they can, WHERE clauses) and
// random rows (ties, NULLs, -0, late arrivals), every request answered
// with tiles (a random fifth of them withheld) equals, bit for bit, the
// same request over raw rows.
func TestRequestOverTiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	n := *tileIters
	if n == 0 {
		n = 400
		if testing.Short() {
			n = 100
		}
	}
	served, requests, joins, joinServed, manyCalls := 0, 0, 0, 0, 0
	for i := range n {
		seed := uint64(i + 1)
		c, err := tiletest.New(seed, tiletest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ev := mustEval(t, c.View)
		mem := eval.NewMemSource()
		mem.Create("t", c.Table.Schema)
		if err := mem.Insert("t", c.Rows...); err != nil {
			t.Fatal(err)
		}
		if c.Profiles != nil {
			joins++
			mem.Create("p", c.Profiles.Schema)
			if err := mem.Insert("p", c.ProfileRows...); err != nil {
				t.Fatal(err)
			}
		}
		src, err := mem.Tiled(ctx, ev)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		r := rand.New(rand.NewPCG(seed, 2))
		src.Withhold = func(eval.StoredTile) bool {
			if r.IntN(5) == 0 {
				return true
			}
			served++
			if c.Profiles != nil {
				joinServed++
			}
			return false
		}
		for ri, req := range c.Requests {
			want, err := ev.Request(ctx, req, rawOnly{src.MemSource})
			if err != nil {
				t.Fatalf("seed %d request %d raw: %v\n%s", seed, ri, err, c.SQL)
			}
			var over eval.Source = src
			many := &multiTiles{MemTiles: src}
			if seed%2 == 0 {
				over = many
			}
			got, err := ev.Request(ctx, req, over)
			manyCalls += many.calls
			if err != nil {
				t.Fatalf("seed %d request %d over tiles: %v\n%s", seed, ri, err, c.SQL)
			}
			requests++
			if !identicalRows(got, want) {
				t.Fatalf("seed %d request %d (%s): over tiles %s, raw %s\n%s", seed, ri, fmtRow(req), fmtRow(got), fmtRow(want), c.SQL)
			}
		}
	}
	// The test means something only if tiles served a good share.
	if served < requests || joinServed == 0 || manyCalls == 0 {
		t.Fatalf("%d tiles served over %d requests (%d with a LAST JOIN): the reader hardly used tiles", served, requests, joinServed)
	}
	t.Logf("%d cases (%d with a LAST JOIN), %d requests, %d tiles merged (%d with a LAST JOIN), %d ScanMany calls", n, joins, requests, served, joinServed, manyCalls)
}
