package featurelang

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/fenestra-dev/fenestra/featurelang/ast"
	"github.com/fenestra-dev/fenestra/featurelang/check"
	"github.com/fenestra-dev/fenestra/featurelang/diag"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
)

// Session checks the statements of a feature file or script one at a
// time and keeps what they define: databases, tables (by qualified name,
// plan.Qualify) and the current database. Compile runs a whole file
// through one Session; a script runner (fenestra run) runs each statement
// through its Session and then carries out its effect, so both check a
// statement the same way. A Session is not safe for concurrent use.
type Session struct {
	opts Options
	// DB is the current database: unqualified table names are looked up
	// and created in it. Empty is the default database, which always
	// exists and holds the tables of feature files.
	DB string
	// Mode is the execute mode SET @@execute_mode chose: "offline" (the
	// default, as OpenMLDB's) or "online".
	Mode      string
	databases []string
	tables    check.Catalog
	order     []string              // qualified table names in creation order
	deployed  map[string]*plan.Plan // deployments by plan.Qualify(db, name)
}

// NewSession returns a session knowing opts.Tables, in the default
// database.
func NewSession(opts Options) *Session {
	s := &Session{opts: opts, Mode: "offline", tables: check.Catalog{}, deployed: map[string]*plan.Plan{}}
	for _, t := range opts.Tables {
		s.PutTable(t)
	}
	return s
}

// Databases returns the databases created, in creation order.
func (s *Session) Databases() []string { return slices.Clone(s.databases) }

// HasDatabase reports whether database db exists (the default database,
// "", always does).
func (s *Session) HasDatabase(db string) bool {
	return db == "" || slices.Contains(s.databases, db)
}

// AddDatabase creates database db; it reports false when db exists.
func (s *Session) AddDatabase(db string) bool {
	if s.HasDatabase(db) {
		return false
	}
	s.databases = append(s.databases, db)
	return true
}

// DropDatabase removes database db and its tables.
func (s *Session) DropDatabase(db string) {
	s.databases = slices.DeleteFunc(s.databases, func(d string) bool { return d == db })
	for _, name := range slices.Clone(s.order) {
		if d, _ := plan.SplitName(name); d == db {
			s.DropTable(name)
		}
	}
	if s.DB == db {
		s.DB = ""
	}
}

// Tables returns the tables, in creation order.
func (s *Session) Tables() []*plan.Table {
	out := make([]*plan.Table, len(s.order))
	for i, name := range s.order {
		out[i] = s.tables[name]
	}
	return out
}

// Table returns the table of qualified name full, or nil.
func (s *Session) Table(full string) *plan.Table { return s.tables[full] }

// Resolve returns the qualified name a statement's table name n refers
// to in the current database, and the table when it exists.
func (s *Session) Resolve(n ast.Name) (string, *plan.Table) {
	db := s.DB
	if len(n.Parts) > 1 {
		db = n.Parts[len(n.Parts)-2]
	}
	full := plan.Qualify(db, n.Last())
	return full, s.tables[full]
}

// PutTable adds table t, or replaces the table of its name. Its database
// is created if needed.
func (s *Session) PutTable(t *plan.Table) {
	if db, _ := plan.SplitName(t.Name); !s.HasDatabase(db) {
		s.databases = append(s.databases, db)
	}
	if _, ok := s.tables[t.Name]; !ok {
		s.order = append(s.order, t.Name)
	}
	s.tables[t.Name] = t
}

// DropTable removes the table of qualified name full.
func (s *Session) DropTable(full string) {
	delete(s.tables, full)
	s.order = slices.DeleteFunc(s.order, func(n string) bool { return n == full })
}

// Deployment returns the deployment of qualified name full, or nil.
func (s *Session) Deployment(full string) *plan.Plan { return s.deployed[full] }

// Deployments returns the deployments, sorted by qualified name.
func (s *Session) Deployments() []*plan.Plan {
	var out []*plan.Plan
	for _, name := range slices.Sorted(maps.Keys(s.deployed)) {
		out = append(out, s.deployed[name])
	}
	return out
}

// PutDeployment records deployment p (named plan.Qualify(p.DB, p.Name)).
func (s *Session) PutDeployment(p *plan.Plan) { s.deployed[plan.Qualify(p.DB, p.Name)] = p }

// DropDeployment removes the deployment of qualified name full.
func (s *Session) DropDeployment(full string) { delete(s.deployed, full) }

// Result is what checking one statement defined.
type Result struct {
	// Warning is a note on a statement accepted but without effect here
	// (a SET of a variable fenestra does not use), or empty.
	Warning string
	// Table is the table a CREATE TABLE created (nil for IF NOT EXISTS of
	// an existing table).
	Table *plan.Table
	// View is the plan of a DEPLOY or a query.
	View *plan.Plan
	// Indexes are the indexes a DEPLOY added to the tables it reads.
	Indexes []InferredIndex
}

// InferredIndex is an index a DEPLOY added to a table because no index
// served one of the view's reads (eval.Read), as OpenMLDB's DEPLOY does.
type InferredIndex struct {
	// View is the DEPLOY that needs it.
	View  string
	Table string
	Index *plan.Index
	// Why is the read that needs it: "window w", "LAST JOIN".
	Why string
}

// String renders the index as INDEX(KEY=(...), TS=...).
func (ix InferredIndex) String() string { return IndexText(ix.Index) }

// IndexText renders an index as written in CREATE TABLE:
// INDEX(KEY=(...), TS=...), without its TTL.
func IndexText(ix *plan.Index) string {
	s := "INDEX(KEY=(" + strings.Join(ix.Keys, ", ") + ")"
	if ix.TS != "" {
		s += ", TS=" + ix.TS
	}
	return s + ")"
}

// Check checks statement st of src in the session and records what it
// defines. Errors go to errs; the Result is empty when there were any.
func (s *Session) Check(src *diag.Source, st ast.Stmt, errs *diag.List) Result {
	before := errs.Len()
	switch st := st.(type) {
	case *ast.CreateTable:
		return s.createTable(src, st, errs)
	case *ast.Deploy:
		return s.deploy(src, st, errs)
	case *ast.Query:
		copts := check.Options{CELCostLimit: s.opts.CELCostLimit, DB: s.DB}
		p := check.Query(src, st.Query, s.tables, "", copts, errs)
		if st.Into != nil {
			checkOptions(src, st.Into.Options, outfileOptions, errs)
			if s.Mode != "offline" {
				errs.Add(src, st.Into.At, "SELECT ... INTO OUTFILE runs in offline mode: SET @@execute_mode='offline' first")
			}
		}
		if p != nil && errs.Len() == before {
			return Result{View: p}
		}
	case *ast.Explain:
		copts := check.Options{CELCostLimit: s.opts.CELCostLimit, DB: s.DB}
		if p := check.Query(src, st.Query, s.tables, "", copts, errs); p != nil {
			return Result{View: p}
		}
	case *ast.CreateDatabase:
		if !s.AddDatabase(st.Name.Name) && !st.IfNotExists {
			errs.Add(src, st.Name.At, "database %q already exists", st.Name.Name)
		}
	case *ast.Use:
		if !s.HasDatabase(st.DB.Name) || st.DB.Name == "" {
			errs.Add(src, st.DB.At, "database %q does not exist", st.DB.Name)
			return Result{}
		}
		s.DB = st.DB.Name
	case *ast.Set:
		return s.set(src, st, errs)
	case *ast.LoadData:
		if s.table(src, st.Table, errs) != nil {
			checkOptions(src, st.Options, loadOptions, errs)
			if mode := OptionText(st.Options, "mode"); s.Mode == "online" && mode != "" && !strings.EqualFold(mode, "append") {
				errs.Add(src, st.At, "LOAD DATA in online mode appends rows: mode='%s' is offline only", mode)
			}
		}
	case *ast.Insert:
		s.table(src, st.Table, errs)
	case *ast.Show:
		s.show(src, st, errs)
	case *ast.Drop:
		s.drop(src, st, errs)
	default:
		errs.Add(src, st.Pos(), "unsupported statement")
	}
	return Result{}
}

// table returns the table a statement names, or records an error.
func (s *Session) table(src *diag.Source, n ast.Name, errs *diag.List) *plan.Table {
	full, t := s.Resolve(n)
	if t == nil {
		errs.Add(src, n.At, "unknown table %q", full)
	}
	return t
}

// deployName returns the qualified name of a deployment a statement names.
func (s *Session) deployName(n ast.Name) string {
	db := s.DB
	if len(n.Parts) > 1 {
		db = n.Parts[len(n.Parts)-2]
	}
	return plan.Qualify(db, n.Last())
}

func (s *Session) deploy(src *diag.Source, st *ast.Deploy, errs *diag.List) Result {
	before := errs.Len()
	name := s.deployName(st.Name)
	if s.deployed[name] != nil {
		errs.Add(src, st.Name.At, "deployment %q already exists (DROP DEPLOYMENT %s first)", name, name)
		return Result{}
	}
	lws := check.DeployOptions(src, st.Options, errs)
	copts := check.Options{CELCostLimit: s.opts.CELCostLimit, LongWindows: lws, DB: s.DB, Deploy: true}
	p := check.Query(src, st.Query, s.tables, st.Name.Last(), copts, errs)
	if p == nil || errs.Len() > before {
		return Result{}
	}
	p.Options = options(st.Options)
	p.DB, _ = plan.SplitName(name)
	added, err := s.inferIndexes(p)
	if err != nil {
		errs.Add(src, st.At, "%v", err)
		return Result{}
	}
	s.deployed[name] = p
	return Result{View: p, Indexes: added}
}

// The system variables SET gives a meaning to, and the values each takes
// (nil: any).
var setVars = map[string][]string{
	"execute_mode": {"offline", "online"},
	"sync_job":     {"true", "false"},
	"job_timeout":  nil,
}

func (s *Session) set(src *diag.Source, st *ast.Set, errs *diag.List) Result {
	lit, ok := st.Value.(*ast.Literal)
	if !ok {
		errs.Add(src, st.Value.Pos(), "SET @@%s takes a constant", st.Name)
		return Result{}
	}
	v := literalText(lit)
	allowed, known := setVars[st.Name]
	switch {
	case !known:
		return Result{Warning: fmt.Sprintf("SET @@%s has no effect in fenestra: ignored", st.Name)}
	case allowed != nil && !slices.Contains(allowed, strings.ToLower(v)):
		errs.Add(src, st.Value.Pos(), "SET @@%s takes %s, not %q", st.Name, strings.Join(allowed, " or "), v)
	case st.Name == "execute_mode":
		s.Mode = strings.ToLower(v)
	case st.Name == "sync_job" && strings.EqualFold(v, "false"):
		return Result{Warning: "SET @@sync_job=false: fenestra runs every job to its end before the next statement"}
	}
	return Result{}
}

func (s *Session) show(src *diag.Source, st *ast.Show, errs *diag.List) {
	switch st.What {
	case "DEPLOYMENT":
		if s.deployed[s.deployName(st.Name)] == nil {
			errs.Add(src, st.Name.At, "unknown deployment %q", s.deployName(st.Name))
		}
	case "CREATE TABLE", "TABLE":
		s.table(src, st.Name, errs)
	}
}

func (s *Session) drop(src *diag.Source, st *ast.Drop, errs *diag.List) {
	switch st.What {
	case "DEPLOYMENT":
		name := s.deployName(st.Name)
		if s.deployed[name] == nil {
			if !st.IfExists {
				errs.Add(src, st.Name.At, "unknown deployment %q", name)
			}
			return
		}
		delete(s.deployed, name)
	case "TABLE":
		full, t := s.Resolve(st.Name)
		switch {
		case t == nil && !st.IfExists:
			errs.Add(src, st.Name.At, "unknown table %q", full)
		case t != nil:
			for _, d := range s.Deployments() {
				if d.Table(full) != nil {
					errs.Add(src, st.Name.At, "table %q is read by deployment %s: drop the deployment first", full, plan.Qualify(d.DB, d.Name))
					return
				}
			}
			s.DropTable(full)
		}
	case "DATABASE":
		db := st.Name.Last()
		switch {
		case !s.HasDatabase(db) || db == "":
			if !st.IfExists {
				errs.Add(src, st.Name.At, "database %q does not exist", db)
			}
		case slices.ContainsFunc(s.order, func(n string) bool { d, _ := plan.SplitName(n); return d == db }):
			errs.Add(src, st.Name.At, "database %q has tables: drop them first", db)
		default:
			s.DropDatabase(db)
		}
	}
}

// The options LOAD DATA and INTO OUTFILE take (OpenMLDB's), lower case.
var (
	loadOptions    = []string{"format", "mode", "header", "delimiter", "null_value", "quote", "deep_copy", "load_mode", "thread", "writer_type", "put_if_absent", "skip_cvt"}
	outfileOptions = []string{"format", "mode", "header", "delimiter", "null_value", "quote", "coalesce"}
)

// checkOptions records an error for an option not in known, or given twice.
func checkOptions(src *diag.Source, opts []*ast.Option, known []string, errs *diag.List) {
	seen := map[string]bool{}
	for _, o := range opts {
		k := strings.ToLower(o.Key)
		switch {
		case !slices.Contains(known, k):
			errs.Add(src, o.At, "unknown option %q; the options are %s", o.Key, strings.Join(known, ", "))
		case seen[k]:
			errs.Add(src, o.At, "option %s is given twice", k)
		}
		seen[k] = true
		if _, ok := o.Value.(*ast.Literal); !ok {
			errs.Add(src, o.Value.Pos(), "option %s takes a constant", k)
		}
	}
}

// OptionText returns the value of option key (case-insensitive) as text:
// a string's value, another literal as written; "" when absent.
func OptionText(opts []*ast.Option, key string) string {
	for _, o := range opts {
		if lit, ok := o.Value.(*ast.Literal); ok && strings.EqualFold(o.Key, key) {
			return literalText(lit)
		}
	}
	return ""
}

func literalText(lit *ast.Literal) string {
	if lit.Kind == ast.StringLit {
		return lit.S
	}
	return lit.Raw
}

func (s *Session) createTable(src *diag.Source, st *ast.CreateTable, errs *diag.List) Result {
	t := check.Table(src, st, s.DB, errs)
	if t == nil {
		return Result{}
	}
	if db, _ := plan.SplitName(t.Name); !s.HasDatabase(db) {
		errs.Add(src, st.Name.At, "database %q does not exist (CREATE DATABASE %s first)", db, db)
		return Result{}
	}
	if _, dup := s.tables[t.Name]; dup {
		if !st.IfNotExists {
			errs.Add(src, st.At, "table %q is already defined", t.Name)
		}
		return Result{}
	}
	s.PutTable(t)
	return Result{Table: t}
}

// inferIndexes adds to the tables p reads an index for each of p's reads
// that no index serves (keyed reads only: a whole-table read needs none),
// and points p at the new definitions.
func (s *Session) inferIndexes(p *plan.Plan) ([]InferredIndex, error) {
	ev, err := eval.New(p)
	if err != nil {
		return nil, fmt.Errorf("view %s: %w", p.Name, err)
	}
	var added []InferredIndex
	for _, rd := range ev.Reads() {
		t := s.tables[rd.Table]
		if len(rd.Keys) == 0 || t == nil || t.FindIndex(rd.Keys, rd.TS) >= 0 {
			continue
		}
		cp := *t
		ix := &plan.Index{Keys: slices.Clone(rd.Keys), TS: rd.TS}
		cp.Indexes = append(slices.Clone(t.Indexes), ix)
		s.tables[t.Name] = &cp
		added = append(added, InferredIndex{View: p.Name, Table: t.Name, Index: ix, Why: rd.Why})
	}
	for i, t := range p.Tables {
		p.Tables[i] = s.tables[t.Name]
	}
	return added, nil
}
