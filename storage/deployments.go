package storage

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang/plan"
)

// Deployment is a stored DEPLOY: a compiled view kept in the online
// store's catalog, as OpenMLDB keeps each deployment, so that a server
// can serve what was deployed without being given the SQL.
//
// The plan is kept as its JSON (plan.Marshal), not decoded: a store lists
// every deployment whatever its plan, and a reader that cannot decode one
// (a plan of a newer format) can still report it and serve the others.
type Deployment struct {
	// DB is the database the view was deployed in (plan.Plan.DB); empty
	// for a view of no database. Name is the DEPLOY name. Neither may
	// contain a NUL byte, and Name is never empty.
	DB, Name string
	// SQL is the text of the DEPLOY statement.
	SQL string
	// Plan is the compiled view as JSON (plan.Marshal).
	Plan []byte
	// Version is the plan's content hash (plan.Version).
	Version string
	// Options are the DEPLOY's OPTIONS (nil when none).
	Options map[string]string
	// Created is when the deployment was stored, to the microsecond, in
	// UTC.
	Created time.Time
}

// NewDeployment returns the record of plan p deployed by the statement
// sql: its database, name, JSON, version and options come from p.
// Created is left zero: PutDeployment sets it.
func NewDeployment(sql string, p *plan.Plan) (Deployment, error) {
	b, err := plan.Marshal(p)
	if err != nil {
		return Deployment{}, fmt.Errorf("storage: encoding the plan of %s: %w", p.Name, err)
	}
	return Deployment{DB: p.DB, Name: p.Name, SQL: sql, Plan: b, Version: plan.Version(p), Options: maps.Clone(p.Options)}, nil
}

// DecodePlan decodes the deployment's plan (plan.Unmarshal). The plan's
// database and name must be the deployment's.
func (d *Deployment) DecodePlan() (*plan.Plan, error) {
	p, err := plan.Unmarshal(d.Plan)
	if err != nil {
		return nil, fmt.Errorf("deployment %s: %w", d.Key(), err)
	}
	if p.DB != d.DB || p.Name != d.Name {
		return nil, fmt.Errorf("deployment %s: its plan is of view %q of database %q", d.Key(), p.Name, p.DB)
	}
	return p, nil
}

// Key returns "db.name", or "name" when DB is empty: how logs and
// messages name the deployment.
func (d *Deployment) Key() string {
	if d.DB == "" {
		return d.Name
	}
	return d.DB + "." + d.Name
}

// DeploymentStore keeps deployments, one per database and name. A Store
// may implement it; Mem and storage/bigtable do. Implementations are
// safe for concurrent use.
type DeploymentStore interface {
	// PutDeployment stores d, replacing the deployment of the same
	// database and name, whole: a reader sees the old record or the new
	// one. A zero d.Created becomes the store's clock's now. A record
	// without a name or plan or version, or whose database or name holds
	// a NUL byte, is refused before anything is stored.
	PutDeployment(ctx context.Context, d Deployment) error
	// Deployment returns the deployment of database db named name, or
	// ErrNotFound.
	Deployment(ctx context.Context, db, name string) (*Deployment, error)
	// Deployments returns every stored deployment, sorted by database,
	// then name (byte order). A store that never stored one returns none.
	Deployments(ctx context.Context) ([]Deployment, error)
	// DropDeployment deletes the deployment of database db named name, or
	// returns ErrNotFound when there is none.
	DropDeployment(ctx context.Context, db, name string) error
}

// PrepareDeployment checks a deployment about to be stored and returns
// it as stores keep it: Created set to now when zero, and rounded down
// to the microsecond, in UTC; Options nil when empty.
func PrepareDeployment(d Deployment, now time.Time) (Deployment, error) {
	switch {
	case d.Name == "":
		return d, errors.New("storage: a deployment needs a name")
	case strings.IndexByte(d.DB, 0) >= 0 || strings.IndexByte(d.Name, 0) >= 0:
		return d, fmt.Errorf("storage: deployment %q: database and deployment names cannot hold a NUL byte", d.Key())
	case len(d.Plan) == 0:
		return d, fmt.Errorf("storage: deployment %s has no plan", d.Key())
	case d.Version == "":
		return d, fmt.Errorf("storage: deployment %s has no version", d.Key())
	}
	if d.Created.IsZero() {
		d.Created = now
	}
	d.Created = time.UnixMicro(d.Created.UnixMicro()).UTC()
	if len(d.Options) == 0 {
		d.Options = nil
	}
	return d, nil
}

// deploymentKey is a deployment's key in Mem: the database, a NUL byte,
// the name. NUL sorts below every other byte and occurs in neither name,
// so the keys sort as (database, name) do.
func deploymentKey(db, name string) string { return db + "\x00" + name }

// cloneDeployment copies the parts of d a caller could change.
func cloneDeployment(d Deployment) Deployment {
	d.Plan = append([]byte(nil), d.Plan...)
	d.Options = maps.Clone(d.Options)
	return d
}

// PutDeployment implements DeploymentStore.
func (m *Mem) PutDeployment(ctx context.Context, d Deployment) error {
	d, err := PrepareDeployment(d, m.now())
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.deployments[deploymentKey(d.DB, d.Name)] = cloneDeployment(d)
	return ctx.Err()
}

// Deployment implements DeploymentStore.
func (m *Mem) Deployment(ctx context.Context, db, name string) (*Deployment, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	d, ok := m.deployments[deploymentKey(db, name)]
	if !ok {
		return nil, notFound(db, name)
	}
	d = cloneDeployment(d)
	return &d, ctx.Err()
}

// Deployments implements DeploymentStore.
func (m *Mem) Deployments(ctx context.Context) ([]Deployment, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []Deployment
	for _, k := range slices.Sorted(maps.Keys(m.deployments)) {
		out = append(out, cloneDeployment(m.deployments[k]))
	}
	return out, ctx.Err()
}

// DropDeployment implements DeploymentStore.
func (m *Mem) DropDeployment(ctx context.Context, db, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := deploymentKey(db, name)
	if _, ok := m.deployments[k]; !ok {
		return notFound(db, name)
	}
	delete(m.deployments, k)
	return ctx.Err()
}

// notFound is ErrNotFound for the deployment db.name.
func notFound(db, name string) error {
	d := Deployment{DB: db, Name: name}
	return fmt.Errorf("%w: deployment %s", ErrNotFound, d.Key())
}
