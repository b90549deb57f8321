// Package script runs OpenMLDB SQL scripts as OpenMLDB's SQL client runs
// them with @@sync_job=true (fenestra run): statement by statement, each
// job to its end before the next.
//
// The catalog (databases, tables, deployments) and the files registered
// as each table's offline data are kept in a state directory (State), so
// a later run finds what an earlier one created and loaded. Offline
// statements run on Beam: SELECT ... INTO OUTFILE is a dataflow.Backfill
// over the tables' offline files. Online statements use the online store
// (Bigtable): LOAD DATA in online mode is a dataflow.Materialize, DEPLOY
// creates the tables with the indexes the view needs (inferred as
// OpenMLDB's DEPLOY infers them) and stores the deployment, which
// fenestra serve then serves.
//
// A script is parsed and checked whole before any statement runs, in a
// scratch copy of the catalog: a script with an error anywhere (a syntax
// error, an unknown column, a missing file, an existing output without
// mode='overwrite') runs nothing.
package script

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/fenestra-dev/fenestra/dataflow"
	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/ast"
	"github.com/fenestra-dev/fenestra/featurelang/diag"
	"github.com/fenestra-dev/fenestra/featurelang/parser"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
)

// Config configures a run.
type Config struct {
	// StateDir is the state directory (see State).
	StateDir string
	// Bigtable is the online store; nil when there is none, in which case
	// online statements fail (DEPLOY is recorded in the state only).
	Bigtable *dataflow.BigtableTarget
	// Stdout receives what statements print (SHOW, a SELECT's rows, a
	// line per statement run); Stderr warnings.
	Stdout, Stderr io.Writer
	// Pipeline runs a Beam pipeline to its end; cmd names it ("backfill",
	// "materialize") and where says where it writes ("to out.csv"). When
	// nil, pipelines run through dataflow.Run, silently.
	Pipeline func(ctx context.Context, cmd, where string, p *beam.Pipeline) error
}

// Run runs the script text, named name (for errors). Errors are
// positioned at the statement that failed (a *diag.List).
func Run(ctx context.Context, cfg Config, name, text string) error {
	src := diag.NewSource(name, text)
	sc, err := parser.Parse(src)
	if err != nil {
		return err
	}
	if cfg.Pipeline == nil {
		cfg.Pipeline = func(ctx context.Context, _, _ string, p *beam.Pipeline) error {
			_, err := dataflow.Run(ctx, p)
			return err
		}
	}
	st, err := loadState(cfg.StateDir)
	if err != nil {
		return err
	}
	// Check the whole script first, on a scratch copy of the catalog.
	dry := &run{cfg: cfg, src: src, sc: sc, state: st, s: st.session(), dry: true}
	if err := dry.all(ctx); err != nil {
		return err
	}
	if st, err = loadState(cfg.StateDir); err != nil {
		return err
	}
	r := &run{cfg: cfg, src: src, sc: sc, state: st, s: st.session()}
	return r.all(ctx)
}

// run is one pass over a script: the check (dry) or the run.
type run struct {
	cfg   Config
	src   *diag.Source
	sc    *ast.Script
	state *State
	s     *featurelang.Session
	dry   bool
	errs  diag.List
}

// all runs (or checks) every statement, stopping at the first that fails.
func (r *run) all(ctx context.Context) error {
	for i, stmt := range r.sc.Stmts {
		res := r.s.Check(r.src, stmt, &r.errs)
		if r.errs.Len() > 0 {
			return r.errs.Err()
		}
		if res.Warning != "" && !r.dry {
			line, _ := r.src.LineCol(stmt.Pos())
			fmt.Fprintf(r.cfg.Stderr, "%s:%d: warning: %s\n", r.src.Name, line, res.Warning)
		}
		if err := r.exec(ctx, i, stmt, res); err != nil {
			var list *diag.List
			if errors.As(err, &list) {
				return err
			}
			r.errs.Add(r.src, stmt.Pos(), "%s", err)
			return r.errs.Err()
		}
		if !r.dry {
			r.state.update(r.s)
			if err := r.state.save(r.cfg.StateDir); err != nil {
				r.errs.Add(r.src, stmt.Pos(), "saving the state: %v", err)
				return r.errs.Err()
			}
		}
	}
	return nil
}

// exec carries out statement i's effect (in a dry run: checks what it
// will need).
func (r *run) exec(ctx context.Context, i int, stmt ast.Stmt, res featurelang.Result) error {
	switch stmt := stmt.(type) {
	case *ast.LoadData:
		return r.load(ctx, stmt)
	case *ast.Query:
		return r.query(ctx, stmt, res.View)
	case *ast.Deploy:
		return r.deploy(ctx, i, res)
	case *ast.Drop:
		if stmt.What == "DEPLOYMENT" {
			return r.dropDeployment(ctx, stmt)
		}
	case *ast.Show:
		if !r.dry {
			r.show(stmt)
		}
	case *ast.Explain:
		if !r.dry {
			fmt.Fprint(r.cfg.Stdout, plan.Explain(res.View))
		}
	case *ast.Insert:
		return errors.New("INSERT is not supported by fenestra run: put the rows in a file and LOAD DATA it, or PUT them through fenestra serve")
	}
	r.done(stmt, "")
	return nil
}

// done prints the line of a statement run, with what it did.
func (r *run) done(stmt ast.Stmt, what string) {
	if r.dry {
		return
	}
	line, _ := r.src.LineCol(stmt.Pos())
	head := firstLine(r.text(stmt))
	if what != "" {
		what = ": " + what
	}
	fmt.Fprintf(r.cfg.Stdout, "%s:%d: %s%s\n", r.src.Name, line, head, what)
}

// text returns the source text of stmt.
func (r *run) text(stmt ast.Stmt) string {
	for i, s := range r.sc.Stmts {
		if s == stmt {
			return r.sc.Text(i)
		}
	}
	return ""
}

// firstLine is s up to its first line break, cut to 80 bytes.
func firstLine(s string) string {
	s, _, cut := strings.Cut(strings.TrimSpace(s), "\n")
	if cut || len(s) > 80 {
		s = s[:min(len(s), 77)] + "..."
	}
	return s
}
