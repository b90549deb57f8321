package console

import (
	"context"
	"fmt"

	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/functions"
)

// viewsAnswer is the answer of /console/api/views.
type viewsAnswer struct {
	Views []*viewInfo `json:"views"`
	// Keys are keys the console offers first (Options.Keys).
	Keys []string `json:"keys"`
}

// viewInfo describes a view for the Deployments page.
type viewInfo struct {
	Name         string      `json:"name"`
	DB           string      `json:"db,omitempty"`
	Key          string      `json:"key"` // how routes name it: name, or db.name
	Version      string      `json:"version"`
	SQL          string      `json:"sql"`
	RequestTable string      `json:"request_table"`
	Input        []column    `json:"input"`
	Output       []column    `json:"output"`
	Tables       []tableInfo `json:"tables"`
	Reads        []readInfo  `json:"reads"`
	Aggregates   []aggInfo   `json:"aggregates"`
	// Events is the read a key's events are read with (the Try and
	// Timeline pages), nil when the view has none.
	Events *readInfo `json:"events"`
}

type tableInfo struct {
	Name    string      `json:"name"`
	Columns []column    `json:"columns"`
	Indexes []indexInfo `json:"indexes"`
}

type indexInfo struct {
	Name string   `json:"name,omitempty"`
	Keys []string `json:"keys"`
	TS   string   `json:"ts,omitempty"`
	TTL  string   `json:"ttl"`
}

// readInfo is a read request mode makes (eval.Read): a table by key
// columns and time column, and what makes it.
type readInfo struct {
	Table string   `json:"table"`
	Keys  []string `json:"keys"`
	TS    string   `json:"ts,omitempty"`
	Why   string   `json:"why"`
}

// aggInfo is an aggregate of the view and where its rows come from.
type aggInfo struct {
	Expr   string `json:"expr"`
	Window string `json:"window"`
	// Source is "tiles" or "raw rows"; Why says why raw rows when the
	// window is long, or that it is not long.
	Source string `json:"source"`
	Why    string `json:"why,omitempty"`
}

// views serves GET /console/api/views.
func (c *Console) views(ctx context.Context, svc *functions.Service) (any, error) {
	st, err := c.stateOf(svc)
	if err != nil {
		return nil, err
	}
	a := &viewsAnswer{Views: []*viewInfo{}, Keys: c.opts.Keys}
	if a.Keys == nil {
		a.Keys = []string{}
	}
	for _, v := range svc.Views() {
		info := &viewInfo{Name: v.Name, DB: v.DB, Key: v.Key(), Version: v.Version, RequestTable: v.Input.Name,
			Input: columns(v.Input.Schema), Output: columns(v.Output), Reads: []readInfo{}, Aggregates: aggregates(v.Plan)}
		if c.opts.SQL != nil {
			info.SQL = c.opts.SQL(ctx, v)
		}
		for _, t := range v.Plan.Tables {
			info.Tables = append(info.Tables, describeTable(t))
		}
		vs := st.views[v.Key()]
		for _, rd := range vs.reads {
			info.Reads = append(info.Reads, readInfo{Table: rd.Table, Keys: rd.Keys, TS: rd.TS, Why: rd.Why})
		}
		if vs.events != nil {
			info.Events = &readInfo{Table: vs.events.Table, Keys: vs.events.Keys, TS: vs.events.TS, Why: vs.events.Why}
		}
		a.Views = append(a.Views, info)
	}
	return a, nil
}

func describeTable(t *plan.Table) tableInfo {
	ti := tableInfo{Name: t.Name, Columns: columns(t.Schema), Indexes: []indexInfo{}}
	for _, ix := range t.Indexes {
		ti.Indexes = append(ti.Indexes, indexInfo{Name: ix.Name, Keys: ix.Keys, TS: ix.TS, TTL: ttlText(ix)})
	}
	return ti
}

// ttlText writes an index's TTL as DDL does: "30d absolute", "10 latest",
// "none".
func ttlText(ix *plan.Index) string {
	abs := plan.OffsetString(ix.TTLAbs, false)
	switch {
	case ix.TTLAbs == 0 && ix.TTLLat == 0:
		return "none"
	case ix.TTLType == "latest":
		return fmt.Sprintf("%d latest", ix.TTLLat)
	case ix.TTLType == "absolute" || ix.TTLType == "":
		return abs + " absolute"
	}
	return fmt.Sprintf("%s, %d %s", abs, ix.TTLLat, ix.TTLType)
}

// aggregates lists the plan's aggregates over windows, once each, and
// whether each is served from tiles or raw rows (plan.Expr.Tile, as
// fenestra explain prints it).
func aggregates(p *plan.Plan) []aggInfo {
	out := []aggInfo{}
	seen := map[string]bool{}
	plan.Walk(p.Root, func(n *plan.Node) {
		if n.Op != plan.Project || len(n.Windows) == 0 || n.Input == nil {
			return
		}
		for _, e := range n.Exprs {
			walkExprs(e, func(x *plan.Expr) {
				if x.Op != plan.Agg || x.Window >= len(n.Windows) {
					return
				}
				w := n.Windows[x.Window]
				a := aggInfo{Expr: plan.ExprString(x, n.Input.Schema, n.Windows), Window: w.Name, Source: "raw rows"}
				switch {
				case x.Tile == nil:
					a.Why = w.Name + " is not a long window"
				case x.Tile.Tiled && w.Tiles != nil:
					a.Source, a.Why = "tiles", w.Tiles.Bucket()+" buckets"
				default:
					a.Why = x.Tile.Why
				}
				if !seen[a.Expr] {
					seen[a.Expr] = true
					out = append(out, a)
				}
			})
		}
	})
	return out
}

func walkExprs(e *plan.Expr, f func(*plan.Expr)) {
	if e == nil {
		return
	}
	f(e)
	for _, a := range e.Args {
		walkExprs(a, f)
	}
}
