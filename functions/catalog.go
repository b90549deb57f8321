package functions

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/storage"
)

// DefaultPoll is how often a Catalog lists the stored deployments unless
// CatalogOptions.Poll says otherwise.
const DefaultPoll = 2 * time.Second

// CatalogStore is a store that keeps deployments too: what a Catalog
// serves. storage.Mem and storage/bigtable's Store are.
type CatalogStore interface {
	storage.Store
	storage.DeploymentStore
}

// CatalogOptions configure a Catalog.
type CatalogOptions struct {
	// Service configures each Service the catalog builds; its Logger
	// also receives the catalog's own lines.
	Service Options
	// Server configures their HTTP adapters.
	Server ServerOptions
	// Poll is how often the catalog lists the stored deployments
	// (DefaultPoll when zero or negative).
	Poll time.Duration
}

// Catalog serves the deployments stored in a CatalogStore (DEPLOY
// statements a script stored, as OpenMLDB keeps them in its catalog),
// and follows them as they change, without a restart. It is an
// http.Handler: the routes of a Server (see Server) over a Service whose
// views are the deployments' plans and whose tables are the union of the
// plans' tables.
//
// Every Poll, and only then (requests never list), a goroutine lists the
// stored deployments, once. When the set of (database, name, version)
// changed, it builds a new Service and Server from them and swaps them in
// atomically: a request is served whole by the Server that was current
// when it came, so requests in flight finish on the old one. Views of two
// databases may share a name: the OpenMLDB routes select by database and
// name, and /v1/views/{view} takes a name when it is unique, else db.name
// (Service.Lookup).
//
// A deployment that cannot be served is left out, logged once at error
// level, and reported by GET /v1/deployments and Deployments, while the
// others are served: a plan this build cannot decode or evaluate, or a
// plan whose definition of a table differs from another's. On such a
// conflict the catalog asks the store for the table's definition
// (Describe) and serves the deployments that agree with it; when the
// store has none, the first deployment in (database, name) order sets
// it. A plan compiled against another definition of a table would read
// its rows with the wrong columns, so it is never served on one it was
// not compiled for.
//
// A list that fails leaves the served deployments as they are; the
// failure is logged when it starts and when it ends, and reported by GET
// /v1/deployments. Metrics live in one registry for the catalog's
// lifetime: counters run on across rebuilds, and the series of views and
// tables no longer served are deleted (a request in flight on the old
// Server may record one last sample of them). Each deployment the
// catalog starts or stops serving is logged at info level.
//
// A Catalog is safe for concurrent use.
type Catalog struct {
	store CatalogStore
	opts  CatalogOptions
	log   *slog.Logger
	sh    *shared
	cur   atomic.Pointer[catalogState]

	refreshing sync.Mutex // one Refresh at a time

	mu       sync.Mutex // guards the last list's outcome
	listedAt time.Time
	listErr  error

	cancel context.CancelFunc
	done   chan struct{}
}

// DeploymentStatus is what a Catalog made of a stored deployment.
type DeploymentStatus struct {
	// DB, Name, Version and Created are the stored record's.
	DB, Name, Version string
	Created           time.Time
	// Err says why the deployment is not served; nil when it is.
	Err error
}

// Key returns "db.name", or the name alone for a view of no database.
func (d *DeploymentStatus) Key() string { return viewKey(d.DB, d.Name) }

// catalogState is what a Catalog serves between two changes of the
// stored deployments.
type catalogState struct {
	srv         *Server
	deployments []DeploymentStatus           // every stored deployment, by database and name
	byKey       map[string]*DeploymentStatus // by deploymentID
}

// deploymentID identifies a deployment: its database and name, which
// cannot hold a NUL byte.
func deploymentID(db, name string) string { return db + "\x00" + name }

// NewCatalog lists the deployments of store and returns the catalog
// serving them; a list that fails is its error. It then lists them every
// opts.Poll until ctx is done or Close is called.
func NewCatalog(ctx context.Context, store CatalogStore, opts CatalogOptions) (*Catalog, error) {
	if opts.Poll <= 0 {
		opts.Poll = DefaultPoll
	}
	c := &Catalog{store: store, opts: opts, log: opts.Service.Logger, sh: newShared(opts.Service), done: make(chan struct{})}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if err := c.Refresh(ctx); err != nil {
		return nil, err
	}
	ctx, c.cancel = context.WithCancel(ctx)
	go c.poll(ctx)
	return c, nil
}

// Close stops the polling and waits for a list in progress. The catalog
// goes on serving the deployments it last built.
func (c *Catalog) Close() {
	c.cancel()
	<-c.done
}

// poll refreshes the catalog every Poll until ctx is done.
func (c *Catalog) poll(ctx context.Context) {
	defer close(c.done)
	tick := time.NewTicker(c.opts.Poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		c.Refresh(ctx) // failures are logged and reported
	}
}

// ServeHTTP implements http.Handler: the request goes to the current
// Server.
func (c *Catalog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.cur.Load().srv.ServeHTTP(w, r)
}

// Server returns the current Server, and Service its Service.
func (c *Catalog) Server() *Server { return c.cur.Load().srv }

// Service returns the Service of the current Server.
func (c *Catalog) Service() *Service { return c.cur.Load().srv.svc }

// Deployments returns the stored deployments as last listed, by database
// and name, each with why it is not served, if it is not.
func (c *Catalog) Deployments() []DeploymentStatus {
	return append([]DeploymentStatus(nil), c.cur.Load().deployments...)
}

// LastList returns when the deployments were last listed and that list's
// error.
func (c *Catalog) LastList() (time.Time, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.listedAt, c.listErr
}

// Refresh lists the stored deployments now and, when the set of
// (database, name, version) changed, swaps in a Service and Server built
// from them. It returns the list's error, and leaves what is served as
// it was then. The polling goroutine calls it every Poll.
func (c *Catalog) Refresh(ctx context.Context) error {
	c.refreshing.Lock()
	defer c.refreshing.Unlock()
	ds, err := c.store.Deployments(ctx)
	c.listed(err)
	if err != nil {
		return fmt.Errorf("functions: listing the deployments: %w", err)
	}
	old := c.cur.Load()
	if old != nil && sameDeployments(old, ds) {
		return nil
	}
	st := c.build(ctx, ds)
	c.cur.Store(st)
	c.logChanges(old, st)
	if old != nil {
		c.sh.metrics.forget(old.srv.svc, st.srv.svc)
	}
	return nil
}

// listed records the outcome of a list, logging when lists start or stop
// failing.
func (c *Catalog) listed(err error) {
	c.mu.Lock()
	failing := c.listErr != nil
	c.listedAt, c.listErr = time.Now(), err
	c.mu.Unlock()
	switch {
	case err != nil && !failing:
		c.log.Error("listing the deployments failed; serving those listed before", "err", err)
	case err == nil && failing:
		c.log.Info("listing the deployments works again")
	}
}

// sameDeployments reports whether ds are the deployments st was built
// from: the same databases, names and versions.
func sameDeployments(st *catalogState, ds []storage.Deployment) bool {
	if len(ds) != len(st.deployments) {
		return false
	}
	for i, d := range ds {
		o := &st.deployments[i]
		if d.DB != o.DB || d.Name != o.Name || d.Version != o.Version {
			return false
		}
	}
	return true
}

// candidate is a deployment whose plan decoded and evaluates.
type candidate struct {
	status *DeploymentStatus
	p      *plan.Plan
	ev     *eval.Evaluator
}

// build makes the state serving ds: every deployment that can be served,
// and the reasons of the others.
func (c *Catalog) build(ctx context.Context, ds []storage.Deployment) *catalogState {
	st := &catalogState{deployments: make([]DeploymentStatus, len(ds)), byKey: map[string]*DeploymentStatus{}}
	var cands []*candidate
	for i := range ds {
		d := &ds[i]
		status := &st.deployments[i]
		*status = DeploymentStatus{DB: d.DB, Name: d.Name, Version: d.Version, Created: d.Created}
		st.byKey[deploymentID(d.DB, d.Name)] = status
		p, err := d.DecodePlan()
		if err != nil {
			status.Err = err
			continue
		}
		ev, err := eval.New(p)
		if err != nil {
			status.Err = fmt.Errorf("deployment %s: %w", d.Key(), err)
			continue
		}
		if v := plan.Version(p); v != d.Version {
			c.log.Warn("a deployment's plan reads as another version in this build; serving it as that version",
				"deployment", d.Key(), "stored_version", d.Version, "version", v)
		}
		cands = append(cands, &candidate{status: status, p: p, ev: ev})
	}
	svc := newService(c.store, c.opts.Service, c.sh)
	svc.addTables(c.tables(ctx, cands))
	for _, cd := range cands {
		if cd.status.Err == nil {
			cd.status.Err = svc.addView(cd.p, cd.ev)
		}
	}
	svc.finish()
	st.srv = NewServer(svc, c.opts.Server)
	st.srv.catalog = c
	return st
}

// tables returns the tables the candidates read, once each, in order of
// first use. Candidates whose definition of a table differs from the
// chosen one (the store's, else the first candidate's) get an error and
// are left out.
func (c *Catalog) tables(ctx context.Context, cands []*candidate) []*plan.Table {
	type use struct {
		cd  *candidate
		def *plan.Table
		enc string
	}
	uses := map[string][]use{}
	var order []string
	for _, cd := range cands {
		for _, t := range cd.p.Tables {
			if uses[t.Name] == nil {
				order = append(order, t.Name)
			}
			uses[t.Name] = append(uses[t.Name], use{cd, t, tableJSON(t)})
		}
	}
	chosen := map[string]*plan.Table{}
	for _, name := range order {
		us := uses[name]
		chosen[name] = us[0].def
		if !differ(us, func(u use) string { return u.enc }) {
			continue
		}
		want, from := us[0].enc, "that of deployment "+us[0].cd.status.Key()
		if stored, err := c.store.Describe(ctx, name); err == nil {
			chosen[name], want, from = stored, tableJSON(stored), "the store's"
		}
		for _, u := range us {
			if u.enc != want && u.cd.status.Err == nil {
				u.cd.status.Err = fmt.Errorf("deployment %s: its plan's definition of table %s, %s, differs from %s, %s",
					u.cd.status.Key(), name, u.enc, from, want)
			}
		}
	}
	var out []*plan.Table
	seen := map[string]bool{}
	for _, cd := range cands {
		if cd.status.Err != nil {
			continue
		}
		for _, t := range cd.p.Tables {
			if !seen[t.Name] {
				seen[t.Name] = true
				out = append(out, chosen[t.Name])
			}
		}
	}
	return out
}

// differ reports whether f gives two elements of xs different values.
func differ[T any](xs []T, f func(T) string) bool {
	for _, x := range xs[1:] {
		if f(x) != f(xs[0]) {
			return true
		}
	}
	return false
}

// tableJSON is a table's definition as JSON, to compare and report.
func tableJSON(t *plan.Table) string {
	b, _ := json.Marshal(t)
	return string(b)
}

// logChanges logs the deployments st starts or stops serving, and those
// it cannot serve, against old (nil at the start).
func (c *Catalog) logChanges(old, st *catalogState) {
	prev := func(id string) *DeploymentStatus {
		if old == nil {
			return nil
		}
		return old.byKey[id]
	}
	for i := range st.deployments {
		d := &st.deployments[i]
		o := prev(deploymentID(d.DB, d.Name))
		same := o != nil && o.Version == d.Version
		switch {
		case d.Err == nil && !(same && o.Err == nil):
			attrs := []any{"deployment", d.Key(), "version", d.Version}
			if o != nil && o.Err == nil {
				attrs = append(attrs, "replaces", o.Version)
			}
			c.log.Info("serving deployment", attrs...)
		case d.Err != nil && !(same && o.Err != nil):
			attrs := []any{"deployment", d.Key(), "version", d.Version, "err", d.Err}
			if o != nil && o.Err == nil {
				attrs = append(attrs, "stopped_serving", o.Version)
			}
			c.log.Error("cannot serve deployment", attrs...)
		}
	}
	if old == nil {
		return
	}
	for i := range old.deployments {
		o := &old.deployments[i]
		if st.byKey[deploymentID(o.DB, o.Name)] == nil && o.Err == nil {
			c.log.Info("stopped serving deployment", "deployment", o.Key(), "version", o.Version, "reason", "dropped")
		}
	}
}
