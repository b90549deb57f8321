// Package featurelang is fenestra's feature language: feature views written
// in OpenMLDB's SQL dialect, with CEL for typed, sandboxed expressions,
// compiled to a serializable plan that one evaluator runs in batch mode
// (training data) and request mode (online serving).
//
// The pipeline is parser (SQL -> ast), check (ast -> plan, with positioned
// errors) and eval (plan -> evaluator). This package ties them together:
// Compile a feature file into tables and views, then build an evaluator per
// view with eval.New — on any host, from the plan alone.
//
// featurelang and its subpackages do no I/O and import no cloud, Beam or
// HTTP packages (a test enforces it).
package featurelang

import (
	"github.com/fenestra-dev/fenestra/featurelang/ast"
	"github.com/fenestra-dev/fenestra/featurelang/check"
	"github.com/fenestra-dev/fenestra/featurelang/diag"
	"github.com/fenestra-dev/fenestra/featurelang/parser"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
)

// Options tune compilation.
type Options struct {
	// Tables are known before the file's own CREATE TABLE statements.
	Tables []*plan.Table
	// CELCostLimit bounds each evaluation of each CEL expression (0: the
	// default, celexpr.DefaultCostLimit).
	CELCostLimit uint64
	// LongWindows, for CompileQuery, is a long_windows value such as
	// "w1:1d,w2:1h": the query is checked as if deployed with
	// DEPLOY ... OPTIONS(long_windows=...), and its plan records the
	// option. Compile takes it from each DEPLOY statement instead.
	LongWindows string
	// DB, for CompileQuery, is the current database: unqualified table
	// names are looked up in it (tables are named by plan.Qualify).
	DB string
}

// Module is a compiled feature file.
type Module struct {
	// Tables are the tables the file created, in order, with the indexes
	// its DEPLOYs inferred.
	Tables []*plan.Table
	// Views are the file's DEPLOY views and bare queries, in order; a bare
	// query's plan has an empty Name.
	Views []*plan.Plan
	// Indexes are the indexes the DEPLOYs inferred (Session.Check).
	Indexes []InferredIndex
}

// Compile parses and checks a feature file named name. On failure the error
// is a *diag.List of positioned errors, each rendered with its source line
// and a caret.
func Compile(name, text string, opts Options) (*Module, error) {
	src := diag.NewSource(name, text)
	script, err := parser.Parse(src)
	if err != nil {
		return nil, err
	}
	s := NewSession(opts)
	var errs diag.List
	m := &Module{}
	var created []string
	for _, st := range script.Stmts {
		r := s.Check(src, st, &errs)
		if r.Table != nil {
			created = append(created, r.Table.Name)
		}
		if r.View != nil {
			m.Views = append(m.Views, r.View)
		}
		m.Indexes = append(m.Indexes, r.Indexes...)
	}
	for _, name := range created {
		if t := s.Table(name); t != nil {
			m.Tables = append(m.Tables, t)
		}
	}
	return m, errs.Err()
}

// CompileQuery parses and checks a single SELECT over the given tables.
func CompileQuery(name, text string, tables []*plan.Table, opts Options) (*plan.Plan, error) {
	src := diag.NewSource(name, text)
	q, err := parser.ParseQuery(src)
	if err != nil {
		return nil, err
	}
	cat := check.Catalog{}
	for _, t := range append(opts.Tables, tables...) {
		cat[t.Name] = t
	}
	var errs diag.List
	copts := check.Options{CELCostLimit: opts.CELCostLimit, DB: opts.DB}
	if opts.LongWindows != "" {
		copts.LongWindows = check.LongWindows(opts.LongWindows, &errs)
	}
	p := check.Query(src, q, cat, "", copts, &errs)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	if opts.LongWindows != "" {
		p.Options = map[string]string{"long_windows": opts.LongWindows}
	}
	return p, nil
}

// options renders DEPLOY OPTIONS as strings (literal values by their text).
func options(opts []*ast.Option) map[string]string {
	if len(opts) == 0 {
		return nil
	}
	out := map[string]string{}
	for _, o := range opts {
		if lit, ok := o.Value.(*ast.Literal); ok {
			if lit.Kind == ast.StringLit {
				out[o.Key] = lit.S
			} else {
				out[o.Key] = lit.Raw
			}
		}
	}
	return out
}
