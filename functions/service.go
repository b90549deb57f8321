package functions

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
)

// DefaultTimeout bounds each operation of a Service unless
// Options.Timeout says otherwise.
const DefaultTimeout = 2 * time.Second

// Options configure a Service.
type Options struct {
	// Timeout bounds each Compute and Ingest, storage reads and writes
	// included (DefaultTimeout when zero; no bound when negative).
	Timeout time.Duration
	// Clock gives the time in the rows' arrival sequence numbers
	// (time.Now when nil); see Sequencer.
	Clock func() time.Time
	// Logger receives the service's logs (silent when nil).
	Logger *slog.Logger
	// MaxRows bounds the rows of one Compute: a call of more is refused
	// with ErrTooManyRows before any row is evaluated (DefaultMaxRows
	// when zero; no bound when negative).
	MaxRows int
	// TracerProvider, when not nil, traces computes and ingests (see
	// Tracing in trace.go); nil: no spans, and no cost.
	TracerProvider trace.TracerProvider
}

// Service is the host of the evaluator behind the HTTP and Lambda
// adapters: the views of a compiled feature file (or of the deployments
// a Catalog serves), each with its evaluator (built once), evaluated in
// request mode against a storage.Store. A Service is safe for concurrent
// use.
type Service struct {
	store     storage.Store
	views     []*View
	byName    map[string][]*View // by Name: several when databases share a name
	qualified map[string][]*View // views of a database, by "db.name"
	tables    []*Table
	byTable   map[string]*Table
	seq       *Sequencer
	timeout   time.Duration
	maxRows   int // 0: no bound
	log       *slog.Logger
	metrics   *metrics
	workers   workers
	reads     eval.Source  // the store, or its coalescer (see coalescer)
	repair    *tileRepair  // nil when no tiles are served
	ready     *Readiness   // see Ready
	tracer    trace.Tracer // nil: tracing off
}

// View is a servable view: a DEPLOY of the feature file, or a stored
// deployment.
type View struct {
	// DB is the database the view was deployed in (plan.Plan.DB), empty
	// for a view of a feature file. Name is the DEPLOY name and Version
	// the plan's content hash (plan.Version).
	DB, Name, Version string
	// Plan is the compiled view.
	Plan *plan.Plan
	// Input is the request table: requests are rows of it. A view that
	// reads no table has an Input without columns.
	Input *plan.Table
	// Output is the schema of the computed rows.
	Output types.Schema

	ev        *eval.Evaluator
	tables    []*tableMetrics // of the tables the view reads
	rowsRead  prometheus.Observer
	tilesRead prometheus.Counter
	http      viewRoutes
	header    []byte // the precomputed start of a compute response
	input     *Table // the request table, nil when the view reads none
	inputSpec rowsSpec
	conflicts conflicts // which request rows see which, when stored
}

// Key returns "db.name" for a view of a database, else its name: how
// the routes may name it, and its label in metrics.
func (v *View) Key() string { return viewKey(v.DB, v.Name) }

func viewKey(db, name string) string {
	if db == "" {
		return name
	}
	return db + "." + name
}

// Table is a table of the feature file, as ingestion sees it.
type Table struct {
	Def     *plan.Table
	metrics *tableMetrics
	http    tableRoutes
}

// viewRoutes and tableRoutes are the per-route metrics of a view, a table.
type viewRoutes struct{ compute, describe, deploy, deployInfo, invoke *routeMetrics }
type tableRoutes struct{ ingest, put *routeMetrics }

// New returns the service of mod's DEPLOY views (bare queries, which have
// no name, are not served) over store. It builds each view's evaluator
// once. The store must hold mod's tables (storage.Store.Init, or fenestra
// storage init); New does not contact it.
func New(mod *featurelang.Module, store storage.Store, opts Options) (*Service, error) {
	s := newService(store, opts, newShared(opts))
	s.addTables(mod.Tables)
	for _, p := range mod.Views {
		if p.Name == "" {
			continue
		}
		ev, err := eval.New(p)
		if err != nil {
			return nil, fmt.Errorf("functions: view %s: %w", viewKey(p.DB, p.Name), err)
		}
		if err := s.addView(p, ev); err != nil {
			return nil, err
		}
	}
	s.finish()
	return s, nil
}

// shared is what the services a Catalog builds one after another keep:
// the metrics, so counters run on across rebuilds, and the sequencer, so
// sequence numbers never repeat within the process.
type shared struct {
	metrics *metrics
	seq     *Sequencer
	ready   *Readiness
}

func newShared(opts Options) *shared {
	return &shared{metrics: newMetrics(), seq: NewSequencer(opts.Clock), ready: NewReadiness(nil, opts.Logger)}
}

// newService returns a service without tables or views.
func newService(store storage.Store, opts Options, sh *shared) *Service {
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	switch {
	case opts.MaxRows == 0:
		opts.MaxRows = DefaultMaxRows
	case opts.MaxRows < 0:
		opts.MaxRows = 0
	}
	s := &Service{store: store, byName: map[string][]*View{}, qualified: map[string][]*View{}, byTable: map[string]*Table{},
		seq: sh.seq, timeout: opts.Timeout, maxRows: opts.MaxRows, log: opts.Logger, metrics: sh.metrics, ready: sh.ready,
		tracer: newTracer(opts.TracerProvider)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.reads = store
	if b, ok := store.(batcher); ok {
		s.reads = newCoalescer(b, s.timeout, s.workers.run, s.metrics.shared)
	}
	return s
}

// addTables adds tables the views may read and requests may write.
func (s *Service) addTables(tables []*plan.Table) {
	for _, t := range tables {
		tm := &Table{Def: t, metrics: s.metrics.table(t.Name)}
		tm.http = tableRoutes{ingest: s.metrics.route(routeIngest, t.Name), put: s.metrics.route(routePut, t.Name)}
		s.tables = append(s.tables, tm)
		s.byTable[t.Name] = tm
	}
}

// addView adds the view of plan p, whose evaluator is ev. A database
// holds one view of a name.
func (s *Service) addView(p *plan.Plan, ev *eval.Evaluator) error {
	for _, v := range s.byName[p.Name] {
		if v.DB == p.DB {
			return fmt.Errorf("functions: two views are named %s", viewKey(p.DB, p.Name))
		}
	}
	v, err := s.newView(p, ev)
	if err != nil {
		return err
	}
	s.views = append(s.views, v)
	s.byName[p.Name] = append(s.byName[p.Name], v)
	if p.DB != "" {
		s.qualified[v.Key()] = append(s.qualified[v.Key()], v)
	}
	return nil
}

// finish prepares what spans the views, once they are all added.
func (s *Service) finish() {
	s.repair = newTileRepair(s, s.metrics.tileRepairs)
}

// newView builds the precomputed parts of the view of p, evaluated by ev.
func (s *Service) newView(p *plan.Plan, ev *eval.Evaluator) (*View, error) {
	key := viewKey(p.DB, p.Name)
	v := &View{DB: p.DB, Name: p.Name, Version: plan.Version(p), Plan: p, Output: p.Output, ev: ev,
		rowsRead: s.metrics.rowsRead.WithLabelValues(key), tilesRead: s.metrics.tilesRead.WithLabelValues(key)}
	v.Input = &plan.Table{}
	if p.RequestTable != "" {
		if v.Input = p.Table(p.RequestTable); v.Input == nil {
			return nil, fmt.Errorf("functions: view %s: the plan does not describe its request table %s", key, p.RequestTable)
		}
		v.input = s.byTable[p.RequestTable]
	}
	for _, t := range p.Tables {
		tm := s.byTable[t.Name]
		if tm == nil {
			return nil, fmt.Errorf("functions: view %s reads table %s, which the feature file does not create", key, t.Name)
		}
		v.tables = append(v.tables, tm.metrics)
	}
	v.inputSpec = rowsSpec{table: v.Input.Name, schema: v.Input.Schema, max: s.maxRows}
	v.conflicts = newConflicts(v)
	m := s.metrics
	v.http = viewRoutes{compute: m.route(routeCompute, key), describe: m.route(routeView, key),
		deploy: m.route(routeDeploy, key), deployInfo: m.route(routeDeployInfo, key), invoke: m.route(routeInvoke, key)}
	v.header = computeHeader(v)
	return v, nil
}

// Views returns the served views, in the order of the feature file (a
// Catalog's: by database, then name).
func (s *Service) Views() []*View { return s.views }

// View returns the view name names (see Lookup), or nil when there is
// none or several.
func (s *Service) View(name string) *View {
	v, _ := s.Lookup(name)
	return v
}

// Lookup returns the view name names: a view whose name is name, or
// whose database and name are "db.name". Errors: ErrNotFound when no view
// is; ErrAmbiguous, listing the candidates' db.name, when several are
// (views of two databases that share a name: name the database).
func (s *Service) Lookup(name string) (*View, error) {
	named, qualified := s.byName[name], s.qualified[name]
	switch {
	case len(named)+len(qualified) == 1 && len(named) == 1:
		return named[0], nil
	case len(named)+len(qualified) == 1:
		return qualified[0], nil
	case len(named)+len(qualified) == 0:
		return nil, fmt.Errorf("%w: no view named %q", ErrNotFound, name)
	}
	var keys []string
	for _, v := range append(slices.Clip(named), qualified...) {
		keys = append(keys, v.Key())
	}
	slices.Sort(keys)
	return nil, fmt.Errorf("%w: %q names %d views, %s: name one as db.name", ErrAmbiguous, name, len(keys), strings.Join(keys, ", "))
}

// deployment returns the view an OpenMLDB route names: the view of
// database db named name, else a view of no database named name.
func (s *Service) deployment(db, name string) (*View, error) {
	named := s.byName[name]
	for _, v := range named {
		if v.DB == db {
			return v, nil
		}
	}
	for _, v := range named {
		if v.DB == "" {
			return v, nil
		}
	}
	if len(named) == 0 {
		return nil, fmt.Errorf("%w: deployment %q", ErrNotFound, name)
	}
	var keys []string
	for _, v := range named {
		keys = append(keys, v.Key())
	}
	return nil, fmt.Errorf("%w: deployment %q in database %q (there are %s)", ErrNotFound, name, db, strings.Join(keys, ", "))
}

// Tables returns the feature file's tables, in order.
func (s *Service) Tables() []*Table { return s.tables }

// Table returns the table named name, or nil.
func (s *Service) Table(name string) *Table { return s.byTable[name] }

// Registry returns the registry of the service's metrics (see metrics),
// which the HTTP adapter serves at /metrics.
func (s *Service) Registry() *prometheus.Registry { return s.metrics.reg }

// ComputeResult is what Compute returns.
type ComputeResult struct {
	// Rows holds one output row per request row, in order; nil for a row
	// a WHERE clause filtered out.
	Rows [][]types.Value
	// RowsRead counts the stored rows read to compute them, TilesRead
	// the tiles of long windows merged instead of their rows, and
	// StorageTime is the time spent reading both.
	RowsRead    int64
	TilesRead   int64
	StorageTime time.Duration
}

// Compute evaluates the view named view for each row of rows (rows of the
// view's request table, in its column order) against the stored rows, and
// returns one output row per request row, in order, each exactly what a
// call of that row alone would return. With store set, each request row
// is written to the request table after it is evaluated (OpenMLDB's
// request-then-insert): a later row of the same call sees the earlier
// ones, exactly as if each had come in a request of its own.
//
// The rows of a call are evaluated in parallel and their reads shared
// (several rows' reads in one store call), so a call of many rows costs
// a few round trips, not one per row. With store set, rows that could
// see one another (the same key of a window over the request table; any
// two rows when the view reads that table otherwise) keep their order:
// a row is evaluated only once the earlier rows it could see are
// stored; rows that cannot see one another are evaluated together and
// stored in one write, their arrival sequence numbers in row order.
//
// view is the view's name, or db.name (see Lookup). Compute is safe for
// concurrent use.
//
// Errors: ErrNotFound for an unknown view, ErrAmbiguous for a name
// several views share; ErrBadRequest for rows of another schema, or
// store set for a view that reads no table; ErrTooManyRows for more rows
// than Options.MaxRows, before any is evaluated; context.DeadlineExceeded
// when the work outlives the service's timeout (Compute then returns
// without waiting for the store; rows being stored may still be written);
// storage errors as the store reports them; a *PanicError if the
// evaluation panicked. The error of a row names it ("row 3"); when a call
// with store set fails, the rows stored are those evaluated before the
// failing row's group (a row is never stored without every earlier row it
// could see).
func (s *Service) Compute(ctx context.Context, view string, rows *types.Block, store bool) (*ComputeResult, error) {
	v, err := s.Lookup(view)
	if err != nil {
		return nil, err
	}
	return s.compute(ctx, v, rows, store, nil)
}

// ComputeAsOf is Compute with row i's reads made as of time asOf[i]
// (epoch milliseconds; eval.Query.AsOf): the store enforces its TTLs at
// that time rather than by its clock, as it would have answered the row
// then. It replays history (fenestra verify). The rows' reads are of raw
// rows: tiles of long windows are not read (they give the same answers).
func (s *Service) ComputeAsOf(ctx context.Context, view string, rows *types.Block, store bool, asOf []int64) (*ComputeResult, error) {
	v, err := s.Lookup(view)
	if err != nil {
		return nil, err
	}
	if len(asOf) != rows.Len {
		return nil, inputErr("asOf", "%d times for %d rows", len(asOf), rows.Len)
	}
	return s.compute(ctx, v, rows, store, asOf)
}

func (s *Service) compute(ctx context.Context, v *View, rows *types.Block, store bool, asOf []int64) (*ComputeResult, error) {
	if err := checkBlock(v.Input, rows); err != nil {
		return nil, err
	}
	if store && v.input == nil {
		return nil, inputErr("store", "the view %s reads no table to store the request in", v.Key())
	}
	if s.maxRows > 0 && rows.Len > s.maxRows {
		return nil, tooManyRows(rows.Len, s.maxRows)
	}
	res := &ComputeResult{Rows: make([][]types.Value, rows.Len)}
	src := &meteredSource{src: s.store, reads: s.reads, tables: v.tables, repair: s.repair, tracer: s.tracer}
	var span trace.Span
	if s.tracer != nil {
		ctx, span = s.tracer.Start(ctx, "evaluate "+v.Key(), trace.WithAttributes(attribute.Int("fenestra.rows", rows.Len), attribute.Bool("fenestra.store", store)))
	}
	err := s.bounded(ctx, func(ctx context.Context) error {
		if rows.Len > 1 {
			return s.computeRows(ctx, v, rows, store, src, asOf, res)
		}
		var row []types.Value
		for i := 0; i < rows.Len; i++ {
			row = rows.Row(i, row)
			out, err := v.ev.Request(ctx, row, rowSource(src, asOf, i))
			if err != nil {
				return fmt.Errorf("functions: view %s, row %d: %w", v.Key(), i, err)
			}
			res.Rows[i] = out
			if store {
				if err := s.write(ctx, v.input, oneRow(rows, i), nil); err != nil {
					return err
				}
			}
		}
		return nil
	})
	res.RowsRead, res.TilesRead, res.StorageTime = src.rows.Load(), src.tiles.Load(), time.Duration(src.nanos.Load())
	v.rowsRead.Observe(float64(res.RowsRead))
	if res.TilesRead > 0 {
		v.tilesRead.Add(float64(res.TilesRead))
	}
	endSpan(span, err)
	if err != nil {
		return nil, err
	}
	return res, nil
}

// oneRow returns row i of b as a block (b itself when it has one row).
func oneRow(b *types.Block, i int) *types.Block {
	if b.Len == 1 {
		return b
	}
	return b.Gather([]int{i})
}

// Ingest writes rows (of the table's columns, in order) to the table
// named table with fresh arrival sequence numbers, in order, so that
// later requests see them. Errors: ErrNotFound for an unknown table,
// ErrBadRequest for rows of another schema, the store's errors,
// context.DeadlineExceeded after the service's timeout.
func (s *Service) Ingest(ctx context.Context, table string, rows *types.Block) error {
	t := s.byTable[table]
	if t == nil {
		return fmt.Errorf("%w: no table named %q", ErrNotFound, table)
	}
	return s.ingest(ctx, t, rows, nil)
}

// Write writes rows (of the table's columns, in order) to the table named
// table with the arrival sequence numbers seqs, one per row, chosen by the
// caller: those of records.Seq for Kafka records. A row written again with
// the same key, time and sequence number overwrites the stored one, so
// writing the same rows twice stores them once. Errors are those of
// Ingest, and ErrBadRequest when seqs and rows differ in length.
func (s *Service) Write(ctx context.Context, table string, rows *types.Block, seqs []uint64) error {
	t := s.byTable[table]
	if t == nil {
		return fmt.Errorf("%w: no table named %q", ErrNotFound, table)
	}
	if len(seqs) != rows.Len {
		return inputErr("seqs", "%d sequence numbers for %d rows", len(seqs), rows.Len)
	}
	return s.ingest(ctx, t, rows, seqs)
}

// ingest writes rows to t under the service's timeout, with seqs or, when
// seqs is nil, fresh sequence numbers.
func (s *Service) ingest(ctx context.Context, t *Table, rows *types.Block, seqs []uint64) error {
	if err := checkBlock(t.Def, rows); err != nil {
		return err
	}
	if rows.Len == 0 {
		return nil
	}
	return s.bounded(ctx, func(ctx context.Context) error { return s.write(ctx, t, rows, seqs) })
}

// write stores rows with seqs, or with fresh sequence numbers when seqs is
// nil, timing the write.
func (s *Service) write(ctx context.Context, t *Table, rows *types.Block, seqs []uint64) error {
	if seqs == nil {
		seqs = make([]uint64, rows.Len)
		for i := range seqs {
			seqs[i] = s.seq.Next()
		}
	}
	ctx, span := startStorageSpan(s.tracer, ctx, "write", t.Def.Name, rows.Len)
	start := time.Now()
	err := s.store.Write(ctx, t.Def.Name, rows, seqs)
	t.metrics.writes.Observe(time.Since(start).Seconds())
	endSpan(span, err)
	if err != nil {
		return fmt.Errorf("functions: storing rows of %s: %w", t.Def.Name, err)
	}
	return nil
}

// checkBlock reports a block whose columns are not the table's.
func checkBlock(t *plan.Table, b *types.Block) error {
	if len(b.Cols) != len(t.Schema) {
		return inputErr("rows", "rows of %d columns; a %s row has %d (%s)", len(b.Cols), t.Name, len(t.Schema), t.Schema)
	}
	for i, f := range t.Schema {
		if b.Cols[i].Type != f.Type {
			return inputErr("rows", "column %d (%s) is %s, want %s", i, f.Name, b.Cols[i].Type, f.Type)
		}
	}
	return nil
}

// bounded runs f under the service's timeout in a goroutine of its own,
// and returns f's error or, if the deadline passes (or ctx ends) first,
// the context's error without waiting for f: a store that ignores its
// context cannot hang a request. A panic in f is recovered and returned as
// a *PanicError.
func (s *Service) bounded(ctx context.Context, f func(context.Context) error) error {
	if s.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.timeout)
		defer cancel()
	}
	done := make(chan error, 1)
	s.workers.run(func() {
		defer func() {
			if v := recover(); v != nil {
				done <- &PanicError{Value: v, Stack: debug.Stack()}
			}
		}()
		done <- f(ctx)
	})
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		select {
		case err := <-done: // finished as the deadline passed
			return err
		default:
			return fmt.Errorf("functions: %w", ctx.Err())
		}
	}
}

// workers runs functions on goroutines that outlive them: a request's
// work goes to an idle worker when there is one, else to a new one. A
// reused goroutine's stack has already grown to what the evaluator needs,
// where a fresh goroutine per request would grow (copy) its stack every
// time. A worker idle for workerIdle ends.
type workers struct {
	tasks chan func() // unbuffered: a send succeeds only to an idle worker
	once  sync.Once
}

const workerIdle = 30 * time.Second

func (w *workers) run(f func()) {
	w.once.Do(func() { w.tasks = make(chan func()) })
	select {
	case w.tasks <- f:
	default:
		go w.work(f)
	}
}

func (w *workers) work(f func()) {
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		f()
		idle.Reset(workerIdle)
		select {
		case f = <-w.tasks:
		case <-idle.C:
			return
		}
	}
}
