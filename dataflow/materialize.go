package dataflow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/fenestra-dev/fenestra/dataflow/bucket"
	"github.com/fenestra-dev/fenestra/dataflow/internal/wire"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
	"github.com/fenestra-dev/fenestra/storage/bigtable"
)

func init() {
	register.DoFn3x2[context.Context, int, func(*[]byte) bool, int, error](&storeFn{})
	register.Function1x2(keyCount)
}

// BigtableTarget is the Bigtable instance Materialize writes to: the parts
// of bigtable.Config that travel to workers.
type BigtableTarget struct {
	Project, Instance string
	// Prefix of the Bigtable table names (bigtable.DefaultPrefix when
	// empty).
	Prefix string
	// EmulatorHost is an emulator's host:port; when empty, workers use
	// their BIGTABLE_EMULATOR_HOST, else Google Cloud.
	EmulatorHost string
	// Timeout bounds each call to Bigtable (bigtable.DefaultTimeout when
	// zero).
	Timeout time.Duration
}

// MaterializeJob loads source files into the online store.
type MaterializeJob struct {
	// Tables are the definitions of the tables written; each must have
	// been initialised in the store with the same definition (fenestra
	// storage init).
	Tables []*plan.Table
	// Inputs are the files of each table, in arrival order.
	Inputs []Input
	Target BigtableTarget
	// Writers is the number of parallel write shards (0: DefaultWriters).
	Writers int
	BadRows BadRows
	// Views are the views whose tiled windows (DEPLOY
	// OPTIONS(long_windows=...)) materialize keeps tiles of, along with
	// the rows: each writer, once it has stored all its rows, rebuilds the
	// tiles of the buckets its rows touched from the rows the store holds
	// then (storage.TileStore.ReadBuckets, eval.TiledWindow.Build; rows of
	// earlier loads included) and stores them with their buckets' tokens
	// (WriteTiles), under the index on the window's PARTITION BY and ORDER
	// BY columns, keyed by storage.WindowID(plan.Version(view), window).
	// Rows are routed to writers by their table's first index's key, so
	// only a window whose index has the first index's KEY has one builder
	// per key; other windows, and those with no index or whose index
	// cannot hold tiles (storage.ErrNoTiles), are skipped with a warning
	// through slog, and requests read their raw rows. The same stored rows
	// build the same tiles, so materializing the same files again writes
	// the same tiles. Memory: a writer keeps the keys it touched (with a
	// span of buckets each), not their rows.
	Views []*plan.Plan
	// Wave, when Wave.Of is more than 1, makes the pipeline one wave of a
	// materialize in waves (RunMaterializeWaves runs them): it reads
	// every row but stores only the rows whose first-index key falls in
	// wave Wave.N of Wave.Of (bucket.Hasher.Place: by the key and Of
	// alone, whatever Writers, so a key is in exactly one wave), and the
	// blocks of a table without an index whose position does, and builds
	// the tiles of its keys only. Wave.Dir is not used.
	Wave Wave
}

// DefaultWriters is the number of write shards of a MaterializeJob that
// sets none.
const DefaultWriters = 8

// Materialize adds a load of files into Bigtable to the pipeline of s:
// every row is written under every index of its table, with its arrival
// sequence number, so loading the same files again rewrites the same
// stored rows (idempotent). It returns a PCollection of the number of rows
// each write shard stored (for one wave of a materialize in waves,
// job.Wave, the rows of the wave's keys).
func Materialize(s beam.Scope, job MaterializeJob) (beam.PCollection, error) {
	s = s.Scope("dataflow.Materialize")
	view := &plan.Plan{Name: "materialize", Tables: job.Tables}
	t, err := newTables(view, job.Inputs)
	if err != nil {
		return beam.PCollection{}, err
	}
	writers := job.Writers
	if writers <= 0 {
		writers = DefaultWriters
	}
	wave := job.Wave
	if wave.Of <= 1 {
		wave = Wave{}
	} else if wave.N < 0 || wave.N >= wave.Of {
		return beam.PCollection{}, fmt.Errorf("%w: wave %d of %d: want 0 <= wave < waves", ErrJob, wave.N, wave.Of)
	}
	// Rows go to writers by their first index's key, so a writer holds
	// all of a key's rows and stores each key's day in few segments.
	routes := make([]route, len(t.names))
	for i, tb := range job.Tables {
		routes[i] = route{Kind: bucket.Spread}
		if len(tb.Indexes) > 0 {
			routes[i] = route{Kind: bucket.Keyed, Cols: columns(tb.Schema, tb.Indexes[0].Keys)}
		}
	}
	specs, plans, err := tileSpecs("materialize", job.Tables, job.Views, true)
	if err != nil {
		return beam.PCollection{}, err
	}
	tasks := beam.CreateList(s, t.tasks)
	keyed := beam.ParDo(s, &readFn{Zone: types.ZoneName(), Names: t.names, Schemas: t.schemas, Routes: routes, Buckets: writers, BadRows: job.BadRows,
		Wave: wave.N, Waves: wave.Of, KeyWaves: true}, tasks)
	store := &storeFn{Zone: types.ZoneName(), Names: t.names, Schemas: t.schemas, Target: job.Target, Plans: plans, Tiles: specs}
	stored := beam.ParDo(s, keyCount, beam.ParDo(s, store, beam.GroupByKey(s, keyed)))
	// The counts go through a GroupByKey, so that the writers' stage has an
	// output: prism waits for a stage without one by polling (a core busy
	// for as long as the writers run), as Backfill's writer.
	return beam.ParDo(s, rowCount, beam.GroupByKey(s, stored)), nil
}

// keyCount keys a writer's count of rows, for the GroupByKey after the
// writers.
func keyCount(n int) (int, int) { return 0, n }

// storeFn writes chunks of rows to the store.
type storeFn struct {
	// Zone is the time zone of the process that built the pipeline
	// (types.ZoneName), set on the worker in Setup.
	Zone    string
	Names   []string
	Schemas []types.Schema
	Target  BigtableTarget
	// Plans (plan JSON) and Tiles are the tiled windows to build tiles of.
	Plans [][]byte
	Tiles []tileSpec

	store *bigtable.Store
	tiles *tileBuilder
}

func (f *storeFn) Setup(ctx context.Context) error {
	if err := types.SetZone(f.Zone); err != nil {
		return err
	}
	var err error
	if f.tiles, err = newTileBuilder(f.Plans, f.Tiles); err != nil {
		return err
	}
	f.store, err = bigtable.Open(ctx, bigtable.Config{Project: f.Target.Project, Instance: f.Target.Instance,
		Prefix: f.Target.Prefix, EmulatorHost: f.Target.EmulatorHost, Timeout: f.Target.Timeout})
	return err
}

func (f *storeFn) Teardown() error {
	if f.store == nil {
		return nil
	}
	return f.store.Close()
}

// ProcessElement records its error as the pipeline's failure (see Run).
func (f *storeFn) ProcessElement(ctx context.Context, k int, elems func(*[]byte) bool) (int, error) {
	n, err := f.process(ctx, k, elems)
	return n, fail(err)
}

// storeBatchRows is how many rows of a table a writer gathers before it
// stores them: Bigtable rows (a key's day) are written in one segment per
// write, so large writes store a key's rows in few segments, which reads
// fetch faster.
const storeBatchRows = 1 << 18

func (f *storeFn) process(ctx context.Context, _ int, elems func(*[]byte) bool) (int, error) {
	n := 0
	pending := make([]*types.Block, len(f.Schemas))
	pendingSeqs := make([][]uint64, len(f.Schemas))
	flush := func(table int) error {
		blk := pending[table]
		if blk == nil || blk.Len == 0 {
			return nil
		}
		if err := writeRetrying(ctx, f.store, f.Names[table], blk, pendingSeqs[table]); err != nil {
			return err
		}
		f.tiles.touch(table, blk)
		n += blk.Len
		rowsWritten.Inc(ctx, int64(blk.Len))
		Progress.Written.Add(int64(blk.Len))
		pending[table], pendingSeqs[table] = nil, nil
		return nil
	}
	var data []byte
	var frames [][]byte
	for elems(&data) {
		var err error
		if frames, err = wire.Frames(data, frames[:0]); err != nil {
			return n, err
		}
		for _, fr := range frames {
			h, err := wire.Peek(fr)
			if err != nil {
				return n, err
			}
			if h.Table >= len(f.Schemas) {
				return n, fmt.Errorf("%w: table %d", wire.ErrCorrupt, h.Table)
			}
			if pending[h.Table] == nil {
				pending[h.Table] = types.NewBlock(f.Schemas[h.Table], h.Rows)
			}
			if err := wire.Decode(fr, pending[h.Table], &pendingSeqs[h.Table]); err != nil {
				return n, err
			}
			if pending[h.Table].Len >= storeBatchRows {
				if err := flush(h.Table); err != nil {
					return n, err
				}
			}
		}
	}
	for table := range pending {
		if err := flush(table); err != nil {
			return n, err
		}
	}
	// Tiles are built once every row is stored, from the store: one
	// ReadBuckets per touched key and window.
	tiles, err := f.tiles.rebuild(ctx, f.store, f.Names)
	tilesWritten.Inc(ctx, int64(tiles))
	Progress.Tiles.Add(int64(tiles))
	return n, err
}

// columns returns the positions of the named columns of schema.
func columns(schema types.Schema, names []string) []int {
	out := make([]int, len(names))
	for i, name := range names {
		out[i] = schema.Index(name)
	}
	return out
}

// writeRetrying stores rows, retrying a write that failed in part or timed
// out (writes are idempotent, so repeating one whole is safe).
func writeRetrying(ctx context.Context, store storage.Store, table string, blk *types.Block, seqs []uint64) error {
	err := retrying(ctx, func() error { return store.Write(ctx, table, blk, seqs) })
	if retryable(err) {
		return fmt.Errorf("writing %d rows of %s: %w", blk.Len, table, err)
	}
	return err
}

// retrying calls write until it succeeds, fails for good, or has failed
// four times in part or by timing out (writes must be idempotent).
func retrying(ctx context.Context, write func() error) error {
	var err error
	for attempt := range 4 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt*attempt) * 250 * time.Millisecond):
			}
		}
		if err = write(); !retryable(err) {
			return err
		}
	}
	return err
}

// retryable reports whether err is a write that failed in part or timed
// out.
func retryable(err error) bool {
	var we *bigtable.WriteError
	return err != nil && (errors.As(err, &we) || errors.Is(err, storage.ErrUnavailable))
}
