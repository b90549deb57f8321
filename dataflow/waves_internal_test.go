package dataflow

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/dataflow/bucket"
	"github.com/fenestra-dev/fenestra/dataflow/internal/wire"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// TestTmpErr checks that a full disk under the waves' directory is an
// ErrTmpFull naming it, and other errors pass unchanged.
func TestTmpErr(t *testing.T) {
	t.Parallel()
	full := fmt.Errorf("bucket 3: %w", &os.PathError{Op: "write", Path: "/tmp/x/.part-3.tmp-1", Err: syscall.ENOSPC})
	err := tmpErr(full, "/tmp/x")
	if !errors.Is(err, ErrTmpFull) || !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "/tmp/x,") {
		t.Errorf("tmpErr(ENOSPC) = %v", err)
	}
	other := errors.New("tx.csv:3: bad")
	if err := tmpErr(other, "/tmp/x"); err != other {
		t.Errorf("tmpErr(other) = %v", err)
	}
	if err := tmpErr(nil, "/tmp/x"); err != nil {
		t.Errorf("tmpErr(nil) = %v", err)
	}
}

// TestActivityWait checks that wait returns when the work is done, or
// after its time.
func TestActivityWait(t *testing.T) {
	t.Parallel()
	var a activity
	a.wait(time.Hour) // idle: at once
	a.add()
	go func() { time.Sleep(10 * time.Millisecond); a.done() }()
	a.wait(time.Hour)
	a.add()
	start := time.Now()
	a.wait(20 * time.Millisecond)
	if time.Since(start) < 20*time.Millisecond {
		t.Error("wait returned while work ran")
	}
	a.done()
}

// TestKeyWaves routes 4 blocks of 300 rows (37 keys and NULL) of a keyed
// and of a spread table through the readers of a materialize's waves
// (readFn.KeyWaves), for several numbers of waves and of writers: every
// row goes to exactly one wave; a key's rows, or a spread block's, to the
// same one; and a key's wave is the same whatever the writers.
func TestKeyWaves(t *testing.T) {
	t.Parallel()
	schema := types.Schema{{Name: "k", Type: types.String}, {Name: "v", Type: types.Int64}}
	blk := types.NewBlock(schema, 300)
	for i := range 300 {
		k := types.StringValue(fmt.Sprint("k", i%37))
		if i%41 == 0 {
			k = types.NullOf(types.String)
		}
		blk.AppendRow([]types.Value{k, types.IntValue(types.Int64, int64(i))})
	}
	for _, kind := range []bucket.Kind{bucket.Keyed, bucket.Spread} {
		for _, waves := range []int{1, 2, 3, 5} {
			var keyWave map[string]int // of the first writer count
			for _, writers := range []int{3, 8} {
				got := routeWaves(t, &readFn{Schemas: []types.Schema{schema}, Routes: []route{{Kind: kind, Cols: []int{0}}}, Buckets: writers,
					Waves: waves, KeyWaves: true}, blk, 4)
				if len(got) != 4*blk.Len {
					t.Fatalf("%s, %d waves, %d writers: %d rows routed, want %d", kind, waves, writers, len(got), 4*blk.Len)
				}
				byKey := map[string]int{}
				for seq, w := range got {
					block, row := int(seq/1000), int(seq%1000)
					group := fmt.Sprint("block ", block) // a spread table's rows go by block
					if kind == bucket.Keyed {
						group = fmt.Sprint(blk.Cols[0].Value(row))
					}
					if w0, ok := byKey[group]; ok && w0 != w {
						t.Fatalf("%s, %d waves, %d writers: rows of %s in waves %d and %d", kind, waves, writers, group, w0, w)
					}
					byKey[group] = w
				}
				if keyWave == nil {
					keyWave = byKey
				} else if kind == bucket.Keyed && !maps.Equal(byKey, keyWave) {
					t.Errorf("%d waves: the keys' waves differ with %d writers", waves, writers)
				}
			}
		}
	}
}

// routeWaves routes blocks blocks (block b's row i has sequence number
// b*1000 + i) through f's router in each of f.Waves waves and returns
// the wave of each sequence number, failing on one routed twice.
func routeWaves(t *testing.T, f *readFn, blk *types.Block, blocks int) map[uint64]int {
	t.Helper()
	got := map[uint64]int{}
	for w := range max(f.Waves, 1) {
		f.Wave = w
		r := newEmitter(f, fileTask{File: 1}, nil).router
		for b := range blocks {
			seqs := make([]uint64, blk.Len)
			for i := range seqs {
				seqs[i] = uint64(b*1000 + i)
			}
			out := make([][]byte, f.Buckets)
			kept := r.frames(blk, seqs, b, out)
			n := 0
			for _, data := range out {
				frames, err := wire.Frames(data, nil)
				if err != nil {
					t.Fatal(err)
				}
				for _, fr := range frames {
					var ss []uint64
					if err := wire.Decode(fr, types.NewBlock(blk.Schema, 0), &ss); err != nil {
						t.Fatal(err)
					}
					for _, s := range ss {
						if w0, ok := got[s]; ok {
							t.Fatalf("row %d routed in waves %d and %d", s, w0, w)
						}
						got[s] = w
					}
					n += len(ss)
				}
			}
			if n != kept {
				t.Fatalf("wave %d, block %d: %d rows kept, %d routed", w, b, kept, n)
			}
		}
	}
	return got
}
