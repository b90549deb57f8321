package functions

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.opentelemetry.io/otel/trace"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// metrics are a Service's Prometheus metrics, in a registry of its own
// (never the global one), so several services can live in one process and
// tests read exact values.
//
//	fenestra_requests_total{route, view, code}             requests served
//	fenestra_request_duration_seconds{route, view, code}    their latency
//	fenestra_storage_read_duration_seconds{table}           each read (Scan) of stored rows
//	fenestra_storage_write_duration_seconds{table}          each write of rows
//	fenestra_storage_rows_read{view}                        stored rows read per compute request
//	fenestra_storage_shared_read_queries                    queries per read of stored rows (requests' reads gathered: see coalescer)
//	fenestra_tiles_read_total{view}                         tiles of long windows merged instead of their rows
//	fenestra_tile_repairs_total{result}                     tiles rebuilt after requests found them missing or stale (rebuilt, dropped, failed)
//	fenestra_records_ingested_total{table}                  Kafka records stored (Lambda Kafka trigger)
//	fenestra_records_bad_total{topic, reason}               Kafka records skipped as bad (see kafkaReasons)
//
// view is the view (or table) a request addressed, and empty for requests
// that address none or a name that does not exist, so clients cannot grow
// the label set; a view of a database is labelled db.name, a table of one
// by its qualified name, db.table. The registry also holds the Go runtime
// and process collectors (memory, RSS, goroutines). A Catalog keeps one
// registry across its rebuilds, deleting the series of the views and
// tables it stops serving (forget).
type metrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	reads       *prometheus.HistogramVec
	writes      *prometheus.HistogramVec
	rowsRead    *prometheus.HistogramVec
	shared      prometheus.Histogram
	tilesRead   *prometheus.CounterVec
	tileRepairs *prometheus.CounterVec
	ingested    *prometheus.CounterVec
	bad         *prometheus.CounterVec
	fallbacks   map[string]*routeMetrics // per route, for requests naming no view or table
}

// latencyBuckets span 100µs to ~6.5s, doubling.
var latencyBuckets = prometheus.ExponentialBuckets(0.0001, 2, 17)

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fenestra_requests_total", Help: "Requests served, by route, view (or table) and HTTP status.",
		}, []string{"route", "view", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "fenestra_request_duration_seconds", Help: "Time to serve a request, by route, view (or table) and HTTP status.",
			Buckets: latencyBuckets,
		}, []string{"route", "view", "code"}),
		reads: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "fenestra_storage_read_duration_seconds", Help: "Time of each read of stored rows, by table.",
			Buckets: latencyBuckets,
		}, []string{"table"}),
		writes: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "fenestra_storage_write_duration_seconds", Help: "Time of each write of rows, by table.",
			Buckets: latencyBuckets,
		}, []string{"table"}),
		rowsRead: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "fenestra_storage_rows_read", Help: "Stored rows read to serve one compute request, by view.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 10),
		}, []string{"view"}),
		shared: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "fenestra_storage_shared_read_queries", Help: "Queries per read of stored rows that requests share (one read goes at once; those coming while it is in flight wait and go together).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10),
		}),
		tilesRead: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fenestra_tiles_read_total", Help: "Tiles of long windows merged instead of their rows, by view.",
		}, []string{"view"}),
		tileRepairs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fenestra_tile_repairs_total", Help: "Tiles rebuilt after requests found them missing or stale (rebuilt), and reports dropped or rebuilds failed.",
		}, []string{"result"}),
		ingested: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fenestra_records_ingested_total", Help: "Kafka records stored as rows, by table.",
		}, []string{"table"}),
		bad: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fenestra_records_bad_total", Help: "Bad Kafka records skipped, by topic and reason.",
		}, []string{"topic", "reason"}),
		fallbacks: map[string]*routeMetrics{},
	}
	m.reg.MustRegister(m.requests, m.latency, m.reads, m.writes, m.rowsRead, m.shared, m.tilesRead, m.tileRepairs, m.ingested, m.bad,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, r := range allRoutes {
		m.fallbacks[r] = m.route(r, "")
	}
	return m
}

// forget deletes the series of the views and tables old served that
// cur does not (a Catalog's rebuild), so the label sets do not grow with
// every deployment ever dropped.
func (m *metrics) forget(old, cur *Service) {
	keep := map[string]bool{}
	for _, v := range cur.views {
		keep[v.Key()] = true
	}
	for _, t := range cur.tables {
		keep[t.Def.Name] = true
	}
	drop := func(label string) {
		if keep[label] {
			return
		}
		keep[label] = true // once
		m.requests.DeletePartialMatch(prometheus.Labels{"view": label})
		m.latency.DeletePartialMatch(prometheus.Labels{"view": label})
		m.rowsRead.DeleteLabelValues(label)
		m.tilesRead.DeleteLabelValues(label)
		m.reads.DeleteLabelValues(label)
		m.writes.DeleteLabelValues(label)
		m.ingested.DeleteLabelValues(label)
	}
	for _, v := range old.views {
		drop(v.Key())
	}
	for _, t := range old.tables {
		drop(t.Def.Name)
	}
}

// The routes, as the route label names them.
const (
	routeCompute    = "compute"
	routeViews      = "views"
	routeDeploys    = "deployments"
	routeView       = "view"
	routeIngest     = "ingest"
	routeDeploy     = "openmldb_deployment"
	routeDeployInfo = "openmldb_deployment_info"
	routePut        = "openmldb_put"
	routeInvoke     = "lambda_invoke"
	routeKafka      = "lambda_kafka"
	routeHealth     = "healthz"
	routeReady      = "readyz"
	routeScrape     = "metrics"
	routeExtra      = "extra" // ServerOptions.Routes
	routeUnknown    = "unknown"
)

var allRoutes = []string{routeCompute, routeViews, routeDeploys, routeView, routeIngest, routeDeploy, routeDeployInfo,
	routePut, routeInvoke, routeKafka, routeHealth, routeReady, routeScrape, routeExtra, routeUnknown}

// trackedCodes are the statuses whose series a routeMetrics caches.
var trackedCodes = [...]int{200, 400, 401, 404, 405, 409, 413, StatusClientClosed, 500, 503, 504}

func codeSlot(code int) int {
	for i, c := range trackedCodes {
		if c == code {
			return i
		}
	}
	return -1
}

// routeMetrics records the requests of one route and view. Its series are
// resolved once per status and cached, so recording a request does no
// label lookup. Safe for concurrent use.
type routeMetrics struct {
	m           *metrics
	route, view string
	slots       [len(trackedCodes)]atomic.Pointer[codeMetrics]
}

type codeMetrics struct {
	count prometheus.Counter
	dur   prometheus.Observer
}

func (m *metrics) route(route, view string) *routeMetrics {
	return &routeMetrics{m: m, route: route, view: view}
}

// observe records one request answered with code after d.
func (r *routeMetrics) observe(code int, d time.Duration) {
	cm := r.series(code)
	cm.count.Inc()
	cm.dur.Observe(d.Seconds())
}

func (r *routeMetrics) series(code int) *codeMetrics {
	slot := codeSlot(code)
	if slot >= 0 {
		if cm := r.slots[slot].Load(); cm != nil {
			return cm
		}
	}
	c := strconv.Itoa(code)
	cm := &codeMetrics{count: r.m.requests.WithLabelValues(r.route, r.view, c), dur: r.m.latency.WithLabelValues(r.route, r.view, c)}
	if slot >= 0 {
		r.slots[slot].Store(cm)
	}
	return cm
}

// tableMetrics are the storage series of one table.
type tableMetrics struct {
	name   string
	reads  prometheus.Observer
	writes prometheus.Observer
}

func (m *metrics) table(name string) *tableMetrics {
	return &tableMetrics{name: name, reads: m.reads.WithLabelValues(name), writes: m.writes.WithLabelValues(name)}
}

// meteredSource is the Source of one compute request: it times each read
// and counts the rows read and the time spent reading. Safe for
// concurrent use.
type meteredSource struct {
	src    eval.Source     // the store: tiles
	reads  eval.Source     // rows: the store, or its coalescer
	tables []*tableMetrics // the view's tables
	rows   atomic.Int64
	tiles  atomic.Int64
	nanos  atomic.Int64 // time in reads
	repair *tileRepair  // nil: no repairs
	tracer trace.Tracer // nil: tracing off
}

// TilesMany implements eval.MultiTileSource: in one call when the store
// has one, else a Tiles call per query, at once.
func (s *meteredSource) TilesMany(ctx context.Context, qs []eval.TileQuery) ([][]eval.StoredTile, error) {
	out := make([][]eval.StoredTile, len(qs))
	ms, ok := s.src.(eval.MultiTileSource)
	if !ok {
		errs := make([]error, len(qs))
		var wg sync.WaitGroup
		for i, q := range qs {
			wg.Go(func() { out[i], errs[i] = s.Tiles(ctx, q) })
		}
		wg.Wait()
		return out, errors.Join(errs...)
	}
	var span trace.Span
	if len(qs) > 0 {
		ctx, span = startStorageSpan(s.tracer, ctx, "tiles", qs[0].Table, len(qs))
	}
	start := time.Now()
	out, err := ms.TilesMany(ctx, qs)
	if len(qs) > 0 {
		s.observe(qs[0].Table, start, nil)
	}
	endSpan(span, err)
	for _, ts := range out {
		s.tiles.Add(int64(len(ts)))
	}
	return out, err
}

// MissingTiles implements eval.TileRepairer: it queues a rebuild.
func (s *meteredSource) MissingTiles(q eval.TileQuery, starts []int64) {
	if s.repair != nil {
		s.repair.report(q, starts)
	}
}

// Tiles implements eval.TileSource: through the store's tiles when it
// keeps them, else none (the evaluator then reads raw rows).
func (s *meteredSource) Tiles(ctx context.Context, q eval.TileQuery) ([]eval.StoredTile, error) {
	ts, ok := s.src.(eval.TileSource)
	if !ok {
		return nil, nil
	}
	ctx, span := startStorageSpan(s.tracer, ctx, "tiles", q.Table, 1)
	start := time.Now()
	out, err := ts.Tiles(ctx, q)
	s.observe(q.Table, start, nil)
	endSpan(span, err)
	s.tiles.Add(int64(len(out)))
	return out, err
}

// Scan implements eval.Source.
func (s *meteredSource) Scan(ctx context.Context, q eval.Query) (*types.Block, error) {
	ctx, span := startStorageSpan(s.tracer, ctx, "scan", q.Table, 1)
	start := time.Now()
	b, err := s.reads.Scan(ctx, q)
	s.observe(q.Table, start, b)
	endSpan(span, err)
	return b, err
}

// ScanMany implements eval.MultiSource: through the store's ScanMany when
// it has one (one read for many keys), else a Scan per query.
func (s *meteredSource) ScanMany(ctx context.Context, qs []eval.Query) ([]*types.Block, error) {
	ms, ok := s.reads.(eval.MultiSource)
	if !ok {
		out := make([]*types.Block, len(qs))
		for i, q := range qs {
			b, err := s.Scan(ctx, q)
			if err != nil {
				return nil, err
			}
			out[i] = b
		}
		return out, nil
	}
	var span trace.Span
	if len(qs) > 0 {
		ctx, span = startStorageSpan(s.tracer, ctx, "scan", qs[0].Table, len(qs))
	}
	start := time.Now()
	out, err := ms.ScanMany(ctx, qs)
	if len(qs) > 0 {
		s.observe(qs[0].Table, start, nil)
	}
	endSpan(span, err)
	for _, b := range out {
		if b != nil {
			s.rows.Add(int64(b.Len))
		}
	}
	return out, err
}

// observe records a read of table that started at start and returned b.
func (s *meteredSource) observe(table string, start time.Time, b *types.Block) {
	d := time.Since(start)
	s.nanos.Add(int64(d))
	for _, t := range s.tables {
		if t.name == table {
			t.reads.Observe(d.Seconds())
			break
		}
	}
	if b != nil {
		s.rows.Add(int64(b.Len))
	}
}
