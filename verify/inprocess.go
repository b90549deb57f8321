package verify

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/fenestra-dev/fenestra/emulators"
	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/functions"
	"github.com/fenestra-dev/fenestra/storage"
	"github.com/fenestra-dev/fenestra/storage/bigtable"
)

// InProcess is the online path in this process: the functions core
// (functions.Service) over a Bigtable store on an emulator of its own.
// Every replayed request reads as of its own time (its TTL clock), so
// rows expire as they would have when the request came: through
// functions.Service.ComputeAsOf, or, for a view with long windows, whose
// tiles are read by the store's clock, through a store client of the
// session's own whose clock is the request's time. The tables have no GC
// policy (the emulator's collector uses the wall clock). The tables the
// replay does not write are read once per key (staticReads).
type InProcess struct {
	mod  *featurelang.Module
	view string
	emu  string
	stop func()
	init *bigtable.Store // loads the tables
	// tiles counts the tiles of long windows the replay's requests read.
	tiles atomic.Int64
	// compacted and segments count the day rows the sessions' stores
	// compacted (bigtable.CompactStats) and the segments those held.
	compacted, segments atomic.Int64
	// static are the tables the replay does not write, read through a
	// cache per session (staticReads); nil when there are none.
	static staticTables
}

// TilesRead returns how many tiles of long windows the requests read
// instead of their rows.
func (p *InProcess) TilesRead() int64 { return p.tiles.Load() }

// Compacted returns how many day rows the closed sessions' stores
// compacted, and the segments those rows held before: the replay writes
// a row at a time, as online ingestion does.
func (p *InProcess) Compacted() (rows, segments int64) { return p.compacted.Load(), p.segments.Load() }

// NewInProcess starts an emulator and creates mod's tables in it; view
// names the DEPLOY view of mod to serve. Close stops the emulator.
func NewInProcess(ctx context.Context, mod *featurelang.Module, view string) (*InProcess, error) {
	emu, stop, err := emulators.StartBigtable("")
	if err != nil {
		return nil, err
	}
	p := &InProcess{mod: mod, view: view, emu: emu, stop: stop}
	for _, v := range mod.Views {
		if v.Name == view {
			p.static = newStaticTables(mod.Tables, v.RequestTable)
		}
	}
	if p.init, err = p.open(ctx, nil); err != nil {
		stop()
		return nil, err
	}
	if err := p.init.Init(ctx, mod.Tables); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

func (p *InProcess) open(ctx context.Context, clock func() time.Time) (*bigtable.Store, error) {
	return bigtable.Open(ctx, bigtable.Config{Project: "verify", Instance: "verify", EmulatorHost: p.emu, Clock: clock, NoGC: true})
}

// Close stops the emulator.
func (p *InProcess) Close() error {
	err := p.init.Close()
	p.stop()
	return err
}

// Load implements Online.
func (p *InProcess) Load(ctx context.Context, table string, rows *types.Block, seqs []uint64) error {
	return p.init.Write(ctx, table, rows, seqs)
}

// Session implements Online.
func (p *InProcess) Session(ctx context.Context) (Session, error) {
	s := &inProcessSession{view: p.view, tiles: &p.tiles, compacted: &p.compacted, segments: &p.segments}
	store, err := p.open(ctx, func() time.Time { return time.UnixMilli(s.now.Load()) })
	if err != nil {
		return nil, err
	}
	s.store = store
	var st storage.Store = store
	if p.static != nil {
		st = newStaticReads(store, p.static)
	}
	if s.svc, err = functions.New(p.mod, st, functions.Options{Timeout: time.Minute}); err != nil {
		store.Close()
		return nil, err
	}
	v := s.svc.View(p.view)
	if v == nil {
		store.Close()
		return nil, fmt.Errorf("verify: the online feature file deploys no view %s", p.view)
	}
	s.tiled = v.Plan.Options["long_windows"] != ""
	return s, nil
}

type inProcessSession struct {
	view  string
	now   atomic.Int64 // the TTL clock, epoch ms
	store *bigtable.Store
	svc   *functions.Service
	tiles *atomic.Int64
	tiled bool // the view has long windows, served from tiles
	// compacted and segments are InProcess's counts, added to on Close.
	compacted, segments *atomic.Int64
}

// Compute implements Session: the rows in one call, each read as of its
// time (functions.Service.ComputeAsOf), for a view without long windows;
// else one at a time, the store's clock at each row's time, so that its
// long windows are read from tiles, as served.
func (s *inProcessSession) Compute(ctx context.Context, rows *types.Block, nows []int64) ([][]types.Value, error) {
	if !s.tiled {
		res, err := s.svc.ComputeAsOf(ctx, s.view, rows, true, nows)
		if err != nil {
			return nil, err
		}
		return res.Rows, nil
	}
	out := make([][]types.Value, rows.Len)
	for i := range rows.Len {
		s.now.Store(nows[i])
		res, err := s.svc.Compute(ctx, s.view, rows.Gather([]int{i}), true)
		if err != nil {
			return nil, fmt.Errorf("row %d: %w", i+1, err)
		}
		s.tiles.Add(res.TilesRead)
		out[i] = res.Rows[0]
	}
	return out, nil
}

func (s *inProcessSession) Close() error {
	err := s.store.Close()
	st := s.store.CompactStats()
	s.compacted.Add(st.Compacted)
	s.segments.Add(st.Segments)
	return err
}
