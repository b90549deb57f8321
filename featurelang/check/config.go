package check

import (
	"fmt"
	"strings"

	"github.com/fenestra-dev/fenestra/featurelang/ast"
	"github.com/fenestra-dev/fenestra/featurelang/funcs"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// ExecuteModes are the values CONFIG's execute_mode takes, as OpenMLDB's.
var ExecuteModes = []string{"online", "request", "offline"}

// ExecuteMode returns the execute_mode a query's CONFIG sets, lower-cased,
// or "" when it sets none. The checker has checked it.
func ExecuteMode(c *ast.Config) string {
	if c == nil {
		return ""
	}
	for _, o := range c.Options {
		if lit, ok := o.Value.(*ast.Literal); ok && o.Key == "execute_mode" {
			return strings.ToLower(lit.S)
		}
	}
	return ""
}

// config checks a query's CONFIG clause and, for execute_mode = 'request',
// records its rows in p.Requests, converted to the request table's column
// types. It reports whether the clause is valid.
func (c *checker) config(cfg *ast.Config, p *plan.Plan) bool {
	before := c.errs.Len()
	mode := ""
	for _, o := range cfg.Options {
		switch o.Key {
		case "execute_mode":
			lit, ok := o.Value.(*ast.Literal)
			if !ok || lit.Kind != ast.StringLit || !isExecuteMode(lit.S) {
				c.errorf(o.Value.Pos(), "execute_mode takes 'online', 'request' or 'offline'")
				continue
			}
			mode = strings.ToLower(lit.S)
		default:
			c.errorf(o.At, "unknown CONFIG key %q (CONFIG takes execute_mode and values)", o.Key)
		}
	}
	if c.errs.Len() > before {
		return false
	}
	switch {
	case cfg.Values != nil && mode != "request":
		c.errorf(cfg.ValuesAt, "values are request rows: they need execute_mode = 'request'")
		return false
	case cfg.Values == nil && mode == "request":
		c.errorf(cfg.At, "execute_mode = 'request' needs the request rows: values = (v1, v2, ...) or [(...), (...)]")
		return false
	case mode != "request":
		return true
	}
	if why := p.BatchOnly(); why != "" {
		c.errorf(cfg.At, "a query with %s runs in batch mode only; remove execute_mode = 'request'", why)
		return false
	}
	req := p.Table(p.RequestTable)
	if req == nil {
		c.errorf(cfg.ValuesAt, "values need a request table: the query has no FROM table")
		return false
	}
	sc := &scope{rel: &relation{node: &plan.Node{}}, noAggWhy: "in CONFIG values"}
	for i, row := range cfg.Values {
		if len(row) != len(req.Schema) {
			c.errorf(cfg.RowsAt[i], "request row %d has %s; the request table %s has %s %s",
				i+1, plural(len(row), "value"), req.Name, plural(len(req.Schema), "column"), typesOf(req.Schema))
			continue
		}
		vals := make([]types.Value, len(row))
		for j, e := range row {
			v, ok := c.requestValue(e, sc, req.Schema[j])
			if !ok {
				continue
			}
			vals[j] = v
		}
		p.Requests = append(p.Requests, vals)
	}
	return c.errs.Len() == before
}

func isExecuteMode(s string) bool {
	for _, m := range ExecuteModes {
		if strings.EqualFold(s, m) {
			return true
		}
	}
	return false
}

// requestValue evaluates one value of a request row, a constant
// expression, and converts it to the type of column f as CAST does. A
// value CAST turns into NULL (a string that is no number) is an error
// rather than a silent NULL.
func (c *checker) requestValue(e ast.Expr, sc *scope, f types.Field) (types.Value, bool) {
	x := c.expr(e, sc)
	if x == nil {
		return types.Value{}, false
	}
	if x.Op != plan.Const {
		c.errorf(e.Pos(), "a request value must be a constant expression")
		return types.Value{}, false
	}
	v := *x.Value
	if v.Null {
		return types.NullOf(f.Type), true
	}
	if x.Type == f.Type {
		return v, true
	}
	cast, err := funcs.Cast(x.Type, f.Type)
	if err == nil {
		if w := cast([]types.Value{v}); !w.Null {
			w.Type = f.Type
			return w, true
		}
	}
	c.errorf(e.Pos(), "request value %s does not fit column %s %s", show(v), f.Name, f.Type)
	return types.Value{}, false
}

func show(v types.Value) string {
	if v.Type == types.String {
		return fmt.Sprintf("%q", v.S)
	}
	return fmt.Sprintf("%v (%s)", v.String(), v.Type)
}
