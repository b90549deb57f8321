package script

import (
	"fmt"
	"strings"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/ast"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
)

// show prints what SHOW and DESC ask for, from the catalog.
func (r *run) show(st *ast.Show) {
	w := r.cfg.Stdout
	switch st.What {
	case "DATABASES":
		for _, db := range r.s.Databases() {
			fmt.Fprintln(w, db)
		}
	case "TABLES":
		for _, t := range r.s.Tables() {
			if db, name := plan.SplitName(t.Name); db == r.s.DB {
				fmt.Fprintln(w, name)
			}
		}
	case "DEPLOYMENTS":
		for _, d := range r.s.Deployments() {
			if d.DB == r.s.DB {
				fmt.Fprintf(w, "%s\t%s\t%s\n", d.DB, d.Name, plan.Version(d))
			}
		}
	case "DEPLOYMENT":
		full := plan.Qualify(r.s.DB, st.Name.Last())
		if len(st.Name.Parts) > 1 {
			full = plan.Qualify(st.Name.Parts[len(st.Name.Parts)-2], st.Name.Last())
		}
		for _, d := range r.state.Deployments {
			if plan.Qualify(d.Plan.DB, d.Plan.Name) == full {
				fmt.Fprintf(w, "deployment %s version %s\n%s;\n", full, plan.Version(d.Plan), d.SQL)
				fmt.Fprintf(w, "input schema (%s)\noutput schema (%s)\n", d.Plan.Table(d.Plan.RequestTable).Schema, d.Plan.Output)
			}
		}
	case "CREATE TABLE", "TABLE":
		full, t := r.s.Resolve(st.Name)
		fmt.Fprint(w, createTable(full, t))
		if files := r.state.Offline[full]; st.What == "TABLE" && len(files) > 0 {
			fmt.Fprintf(w, "offline data: %d files, %s first\n", len(files), files[0].Path)
		}
	}
}

// createTable renders t as a CREATE TABLE statement.
func createTable(full string, t *plan.Table) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE %s (\n", full)
	for i, f := range t.Schema {
		sep := ","
		if i == len(t.Schema)-1 && len(t.Indexes) == 0 {
			sep = ""
		}
		fmt.Fprintf(&b, "  %s %s%s\n", f.Name, f.Type, sep)
	}
	for i, ix := range t.Indexes {
		sep := ","
		if i == len(t.Indexes)-1 {
			sep = ""
		}
		fmt.Fprintf(&b, "  %s%s\n", featurelang.IndexText(ix), sep)
	}
	b.WriteString(");\n")
	return b.String()
}
