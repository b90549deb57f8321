package console

import (
	"context"
	"strings"
	"sync"

	"github.com/fenestra-dev/fenestra/featurelang/ast"
	"github.com/fenestra-dev/fenestra/featurelang/diag"
	"github.com/fenestra-dev/fenestra/featurelang/parser"
	"github.com/fenestra-dev/fenestra/functions"
	"github.com/fenestra-dev/fenestra/storage"
)

// FileSQL returns an Options.SQL for the views of a feature file: each
// view's DEPLOY statement, as written in text, or "" for a view the file
// does not deploy.
func FileSQL(name, text string) func(context.Context, *functions.View) string {
	deploys := map[string]string{}
	script, _ := parser.Parse(diag.NewSource(name, text)) // a served file parses; the statements read are kept anyway
	if script != nil {
		for i, st := range script.Stmts {
			if d, ok := st.(*ast.Deploy); ok {
				deploys[d.Name.Last()] = strings.TrimSpace(script.Text(i)) + ";"
			}
		}
	}
	return func(_ context.Context, v *functions.View) string { return deploys[v.Name] }
}

// StoredSQL returns an Options.SQL for stored deployments (a Catalog's
// views): the DEPLOY statement stored with each, read once per version.
func StoredSQL(store storage.DeploymentStore) func(context.Context, *functions.View) string {
	var mu sync.Mutex
	known := map[string]string{} // by key and version
	return func(ctx context.Context, v *functions.View) string {
		id := v.Key() + "\x00" + v.Version
		mu.Lock()
		sql, ok := known[id]
		mu.Unlock()
		if ok {
			return sql
		}
		d, err := store.Deployment(ctx, v.DB, v.Name)
		if err != nil {
			return "" // shown as unknown; asked again next time
		}
		mu.Lock()
		known[id] = d.SQL
		mu.Unlock()
		return d.SQL
	}
}
