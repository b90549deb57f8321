package script

import (
	"fmt"
	"io"
	"strings"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/ast"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// show prints what SHOW and DESC ask for, from the catalog, in tables
// drawn as OpenMLDB's client draws them.
func (r *run) show(st *ast.Show) {
	w := r.cfg.Stdout
	switch st.What {
	case "DATABASES":
		var rows [][]string
		for _, db := range r.s.Databases() {
			if db != "" {
				rows = append(rows, []string{db})
			}
		}
		printTable(w, []string{"Databases"}, rows, true)
	case "TABLES":
		var rows [][]string
		for _, t := range r.s.Tables() {
			if db, name := plan.SplitName(t.Name); db == r.s.DB {
				rows = append(rows, []string{name})
			}
		}
		printTable(w, []string{"Tables"}, rows, true)
	case "DEPLOYMENTS":
		var rows [][]string
		for _, d := range r.s.Deployments() {
			if d.DB == r.s.DB {
				rows = append(rows, []string{d.DB, d.Name})
			}
		}
		printTable(w, []string{"DB", "Deployment"}, rows, true)
	case "DEPLOYMENT":
		full := plan.Qualify(r.s.DB, st.Name.Last())
		if len(st.Name.Parts) > 1 {
			full = plan.Qualify(st.Name.Parts[len(st.Name.Parts)-2], st.Name.Last())
		}
		for _, d := range r.state.Deployments {
			if plan.Qualify(d.Plan.DB, d.Plan.Name) == full {
				showDeployment(w, d)
			}
		}
	case "CREATE TABLE":
		full, t := r.s.Resolve(st.Name)
		_, name := plan.SplitName(full)
		printTable(w, []string{"Table", "Create Table"}, [][]string{{name, createTable(name, t)}}, true)
	case "TABLE":
		_, t := r.s.Resolve(st.Name)
		describe(w, t)
		if files := r.state.Offline[t.Name]; len(files) > 0 {
			fmt.Fprintf(w, "offline data: %d files (%s), the first %s\n", len(files), files[0].Format, files[0].Path)
		}
	}
}

// showDeployment prints a deployment as OpenMLDB's SHOW DEPLOYMENT does:
// its database and name, its SQL, its input and output schemas.
func showDeployment(w io.Writer, d Deployment) {
	p := d.Plan
	printTable(w, []string{"DB", "Deployment"}, [][]string{{p.DB, p.Name}}, false)
	fmt.Fprintf(w, "%s\nversion %s\n", d.SQL, plan.Version(p))
	fmt.Fprintln(w, "# Input Schema")
	if in := p.Table(p.RequestTable); in != nil {
		printSchema(w, in.Schema)
	}
	fmt.Fprintln(w, "# Output Schema")
	printSchema(w, p.Output)
}

// describe prints a table as OpenMLDB's DESC does: its columns, then its
// indexes.
func describe(w io.Writer, t *plan.Table) {
	printSchema(w, t.Schema)
	var rows [][]string
	for i, ix := range t.Indexes {
		ts := ix.TS
		if ts == "" {
			ts = "-"
		}
		ttl, ttlType := ttlText(ix)
		name := ix.Name
		if name == "" {
			name = fmt.Sprintf("INDEX_%d", i)
		}
		rows = append(rows, []string{fmt.Sprint(i + 1), name, strings.Join(ix.Keys, "|"), ts, ttl, ttlType})
	}
	printTable(w, []string{"#", "name", "keys", "ts", "ttl", "ttl_type"}, rows, false)
}

// ttlText renders an index's TTL and TTL type as OpenMLDB's DESC does.
func ttlText(ix *plan.Index) (ttl, ttlType string) {
	abs, lat := fmt.Sprintf("%dmin", ix.TTLAbs/60000), fmt.Sprint(ix.TTLLat)
	switch ix.TTLType {
	case "latest":
		return lat, "kLatestTime"
	case "absandlat":
		return abs + "&&" + lat, "kAbsAndLat"
	case "absorlat":
		return abs + "||" + lat, "kAbsOrLat"
	}
	return abs, "kAbsoluteTime"
}

// printSchema prints columns with their types, numbered.
func printSchema(w io.Writer, s types.Schema) {
	var rows [][]string
	for i, f := range s {
		rows = append(rows, []string{fmt.Sprint(i + 1), f.Name, f.Type.String(), "YES", ""})
	}
	printTable(w, []string{"#", "Field", "Type", "Null", "Default"}, rows, false)
}

// printTable draws a table as OpenMLDB's client does: rules of dashes
// around the header and the rows, then "N rows in set" when count.
func printTable(w io.Writer, header []string, rows [][]string, count bool) {
	width := make([]int, len(header))
	for i, h := range header {
		width[i] = len(h)
	}
	for _, r := range rows {
		for i, c := range r {
			for _, line := range strings.Split(c, "\n") {
				width[i] = max(width[i], len(line))
			}
		}
	}
	var rule strings.Builder
	for _, n := range width {
		rule.WriteString(" " + strings.Repeat("-", n+2))
	}
	line := func(cells []string) { // a cell may span lines
		split := make([][]string, len(cells))
		n := 1
		for i, c := range cells {
			split[i] = strings.Split(c, "\n")
			n = max(n, len(split[i]))
		}
		for k := range n {
			var b strings.Builder
			for i, lines := range split {
				c := ""
				if k < len(lines) {
					c = lines[k]
				}
				fmt.Fprintf(&b, "  %-*s ", width[i], c)
			}
			fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
		}
	}
	fmt.Fprintln(w, rule.String())
	line(header)
	fmt.Fprintln(w, rule.String())
	for _, r := range rows {
		line(r)
	}
	fmt.Fprintln(w, rule.String())
	if count {
		fmt.Fprintf(w, "%d rows in set\n", len(rows))
	}
}

// createTable renders t as a CREATE TABLE statement.
func createTable(full string, t *plan.Table) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE `%s` (\n", full)
	for i, f := range t.Schema {
		sep := ","
		if i == len(t.Schema)-1 && len(t.Indexes) == 0 {
			sep = ""
		}
		fmt.Fprintf(&b, "  `%s` %s%s\n", f.Name, f.Type, sep)
	}
	for i, ix := range t.Indexes {
		sep := ","
		if i == len(t.Indexes)-1 {
			sep = ""
		}
		text := featurelang.IndexText(ix)
		if ix.TTLType != "" {
			ttl, _ := ttlText(ix)
			text = strings.TrimSuffix(text, ")") + fmt.Sprintf(", TTL=%s, TTL_TYPE=%s)", strings.NewReplacer("min", "m", "&&", ", ", "||", ", ").Replace(ttl), ix.TTLType)
			if ix.TTLType == "absandlat" || ix.TTLType == "absorlat" {
				text = strings.Replace(text, "TTL=", "TTL=(", 1)
				text = strings.Replace(text, ", TTL_TYPE", "), TTL_TYPE", 1)
			}
		}
		fmt.Fprintf(&b, "  %s%s\n", text, sep)
	}
	b.WriteString(");")
	return b.String()
}
