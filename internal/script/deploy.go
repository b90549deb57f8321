package script

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/ast"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/storage"
	"github.com/fenestra-dev/fenestra/storage/bigtable"
)

// deploy creates the tables a deployment reads in the online store, with
// the indexes it needs, and stores the deployment there; without an
// online store the deployment is kept in the state only.
func (r *run) deploy(ctx context.Context, i int, res featurelang.Result) error {
	p := res.View
	for _, ix := range res.Indexes {
		if r.dry {
			continue
		}
		fmt.Fprintf(r.cfg.Stdout, "%s: added %s to table %s (%s)\n", p.Name, ix, ix.Table, ix.Why)
	}
	for k, v := range p.Options {
		switch strings.ToLower(k) {
		case "range_bias", "rows_bias":
			if !r.dry && !strings.EqualFold(v, "inf") && v != "0" {
				fmt.Fprintf(r.cfg.Stderr, "warning: DEPLOY %s OPTIONS(%s='%s') is stored with the deployment; fenestra keeps every row (no TTL is inferred), as with 'inf'\n", p.Name, k, v)
			}
		}
	}
	if r.cfg.Bigtable == nil {
		if !r.dry {
			fmt.Fprintf(r.cfg.Stderr, "warning: no online store (--bigtable): deployment %s is recorded in %s only, not served\n", p.Name, r.cfg.StateDir)
		}
		return r.record(i, p)
	}
	if r.dry {
		if err := r.checkTables(ctx, p.Tables); err != nil {
			return err
		}
		return r.record(i, p)
	}
	if err := r.initTables(ctx, p.Tables); err != nil {
		return err
	}
	store, err := r.store(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	d, err := storage.NewDeployment(r.sc.Text(i), p)
	if err != nil {
		return err
	}
	if err := store.PutDeployment(ctx, d); err != nil {
		return err
	}
	if err := r.record(i, p); err != nil {
		return err
	}
	r.done(r.sc.Stmts[i], fmt.Sprintf("deployed %s (version %s) to the online store", d.Key(), d.Version))
	return nil
}

// record keeps deployment p (statement i) in the state.
func (r *run) record(i int, p *plan.Plan) error {
	r.state.Deployments = append(r.state.Deployments, Deployment{SQL: r.sc.Text(i), Plan: p})
	return nil
}

// dropDeployment removes a deployment from the online store (the
// session has removed it from the catalog).
func (r *run) dropDeployment(ctx context.Context, st *ast.Drop) error {
	if r.dry || r.cfg.Bigtable == nil {
		r.done(st, "")
		return nil
	}
	store, err := r.store(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	db := r.s.DB
	if len(st.Name.Parts) > 1 {
		db = st.Name.Parts[len(st.Name.Parts)-2]
	}
	if err := store.DropDeployment(ctx, db, st.Name.Last()); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	r.done(st, "dropped from the online store")
	return nil
}

// store opens the online store.
func (r *run) store(ctx context.Context) (*bigtable.Store, error) {
	t := r.cfg.Bigtable
	host := t.EmulatorHost
	if host == "" {
		host = os.Getenv("BIGTABLE_EMULATOR_HOST")
	}
	return bigtable.Open(ctx, bigtable.Config{Project: t.Project, Instance: t.Instance, Prefix: t.Prefix, EmulatorHost: host})
}

// checkTables checks, before anything runs, that the tables the online
// store holds already have the definitions tables give them (initTables
// would refuse them later, after earlier statements ran).
func (r *run) checkTables(ctx context.Context, tables []*plan.Table) error {
	store, err := r.store(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	for _, t := range tables {
		stored, err := store.Describe(ctx, t.Name)
		switch {
		case errors.Is(err, storage.ErrNoTable):
			continue
		case err != nil:
			return err
		}
		a, _ := json.Marshal(stored)
		b, _ := json.Marshal(t)
		if !bytes.Equal(a, b) {
			return fmt.Errorf("the online table %s exists with indexes %s; this statement needs %s, and fenestra does not add an index to a stored table: delete the Bigtable table %s and LOAD DATA it again in online mode after the DEPLOY",
				t.Name, indexList(stored), indexList(t), store.TableName(t.Name))
		}
	}
	return nil
}

// indexList renders a table's indexes.
func indexList(t *plan.Table) string {
	var parts []string
	for _, ix := range t.Indexes {
		parts = append(parts, featurelang.IndexText(ix))
	}
	if len(parts) == 0 {
		return "(none)"
	}
	return strings.Join(parts, ", ")
}

// initTables creates tables in the online store, or checks that they
// are there with the same definitions. A table stored with other indexes
// is refused with what to do: fenestra does not yet add an index to a
// table that may hold rows.
func (r *run) initTables(ctx context.Context, tables []*plan.Table) error {
	store, err := r.store(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	for _, t := range tables {
		err := store.Init(ctx, []*plan.Table{t})
		if errors.Is(err, storage.ErrSchema) {
			return fmt.Errorf("%w\n(the online table %s was created with other indexes; fenestra does not add an index to a stored table: delete the Bigtable table %s and LOAD DATA it again in online mode after the DEPLOY)",
				err, t.Name, store.TableName(t.Name))
		}
		if err != nil {
			return err
		}
	}
	return nil
}
