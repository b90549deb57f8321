package functions

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
)

// maxRepairs bounds the keys waiting for a tile rebuild; reports beyond it
// are dropped (a later request reports them again).
const maxRepairs = 1024

// tileRepair rebuilds, in the background, the tiles requests found
// missing or stale (eval.TileRepairer): rows written online, through
// ingestion or a Lambda's Kafka events, change their buckets' tokens, and
// the bucket is read raw until a builder rebuilds its tile. The first
// request that reads such a bucket raw reports it; one goroutine, started
// when work arrives and gone when the queue is empty, rebuilds the
// reported buckets of each key from the stored rows (storage.TiledIndex),
// one key at a time. Reports of a key already queued widen its span.
// Requests never wait for it, and a rebuild racing a write can only leave
// a stale tile, which the store then ignores.
type tileRepair struct {
	store   storage.TileStore
	log     *slog.Logger
	timeout time.Duration
	windows map[string]*storage.TiledIndex // by windowKey

	mu      sync.Mutex
	queue   []*repairJob
	queued  map[string]*repairJob // by window id and key encoding
	running bool

	done *prometheus.CounterVec // by result: rebuilt, dropped, failed
}

type repairJob struct {
	id       string
	ti       *storage.TiledIndex
	key      []types.Value
	from, to int64
}

// newTileRepair returns the repairer of the services' views' tiled
// windows over store, or nil when the store keeps no tiles or no view has
// a window served from tiles.
func newTileRepair(s *Service, done *prometheus.CounterVec) *tileRepair {
	ts, ok := s.store.(storage.TileStore)
	if !ok {
		return nil
	}
	r := &tileRepair{store: ts, log: s.log, timeout: s.timeout, windows: map[string]*storage.TiledIndex{},
		queued: map[string]*repairJob{}, done: done}
	for _, v := range s.views {
		for _, tw := range v.ev.ServedTiledWindows() {
			ti, err := storage.NewTiledIndex(v.Input, v.Version, tw)
			if err != nil {
				s.log.Warn("no tiles for a long window: requests read its raw rows", "view", v.Name, "window", tw.Name, "reason", err)
				continue
			}
			r.windows[windowKey(v.Version, tw.Name, tw.Width)] = ti
		}
	}
	if len(r.windows) == 0 {
		return nil
	}
	return r
}

// report queues a rebuild of the buckets starts of q's key and window.
func (r *tileRepair) report(q eval.TileQuery, starts []int64) {
	ti := r.windows[windowKey(q.Version, q.Window, q.Width)]
	if ti == nil || len(starts) == 0 {
		return
	}
	from, to := starts[0], starts[len(starts)-1]+ti.Window.Width
	var id []byte
	for _, v := range q.Values {
		id = eval.AppendKey(id, v)
	}
	key := windowKey(q.Version, q.Window, q.Width) + "\x00" + string(id)
	r.mu.Lock()
	defer r.mu.Unlock()
	if j := r.queued[key]; j != nil {
		j.from, j.to = min(j.from, from), max(j.to, to)
		return
	}
	if len(r.queue) >= maxRepairs {
		r.done.WithLabelValues("dropped").Inc()
		return
	}
	j := &repairJob{id: key, ti: ti, key: append([]types.Value(nil), q.Values...), from: from, to: to}
	r.queue = append(r.queue, j)
	r.queued[key] = j
	if !r.running {
		r.running = true
		go r.run()
	}
}

// run rebuilds queued keys until the queue is empty.
func (r *tileRepair) run() {
	for {
		r.mu.Lock()
		if len(r.queue) == 0 {
			r.running = false
			r.mu.Unlock()
			return
		}
		j := r.queue[0]
		r.queue = r.queue[1:]
		delete(r.queued, j.id)
		r.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
		n, err := j.ti.Rebuild(ctx, r.store, j.key, j.from, j.to)
		cancel()
		if err != nil {
			r.done.WithLabelValues("failed").Inc()
			r.log.Warn("rebuilding tiles failed: requests read the buckets' raw rows meanwhile", "window", j.ti.Window.Name, "key", j.key, "error", err)
			continue
		}
		r.done.WithLabelValues("rebuilt").Add(float64(n))
	}
}

// idle reports whether no rebuild is queued or running (for tests).
func (r *tileRepair) idle() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.running
}

// windowKey names a level of a tiled window of a plan version.
func windowKey(version, window string, width int64) string {
	return version + "\x00" + window + "\x00" + strconv.FormatInt(width, 10)
}
