package eval

import (
	"encoding/json"
	"fmt"
	"sync"

	"github.com/fenestra-dev/fenestra/featurelang/agg"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// node is a plan node compiled for evaluation.
type node struct {
	p            *plan.Node
	input, right *node
	// spine marks the nodes from the root down its inputs to the FROM
	// table: their rows are the output rows (BatchRows tracks them).
	spine bool

	// Project and ConstRow: the output expressions; pass[i] >= 0 when
	// expression i is a bare input column (copied without evaluation).
	exprs []evalFn
	fills []fillFn // the exprs' fillFns, nil where an expr has none
	pass  []int
	// aggOut[i] >= 0 when expression i is a bare aggregate: its slot.
	aggOut []int

	cond                evalFn   // Filter; LastJoin residual condition; Aggregate HAVING
	leftKeys, rightKeys []evalFn // LastJoin
	orderBy             evalFn   // LastJoin, over the right row

	// Project with windows; Aggregate (aggs only).
	aggs   []*aggSite
	groups []*windowGroup

	groupKeys []evalFn // Aggregate: the GROUP BY columns

	// scratch pools request-mode scratch (*reqScratch) of this node.
	scratch sync.Pool
}

// aggSite is one aggregate call of a Project.
type aggSite struct {
	fn    *agg.Func
	args  []evalFn
	fills []fillFn // the args' fillFns, nil where an arg has none
	// argCol[i] >= 0 when argument i is a bare input column.
	argCol []int
	window int // index into the Project's windows
	// nav >= 0 marks lag(x, nav) / at(x, nav): x of the row nav places
	// before the current row in the partition (0: the current row),
	// whatever the frame; -1 for an aggregate over the frame.
	nav         int
	ignoreNulls bool
	// nested is set when the arguments contain aggregates over the same
	// window: the site is recomputed over each output row's frame.
	nested bool
	// tiled is set when the plan serves the call from its window's tiles
	// (plan.Expr.Tile): the tile builder (tiles.go) computes its partials.
	tiled bool
	expr  *plan.Expr // the call
}

// windowGroup is the windows of a Project that share partitioning,
// ordering and union sources, so the rows are partitioned and sorted once.
type windowGroup struct {
	partition []evalFn
	order     evalFn // nil: arrival order
	orderCol  int    // >= 0 when the order is a bare input column
	unions    []*node
	windows   []*windowEval
	spec      *plan.Window // the first window, for pushdown decisions
	// maxNav is the largest lag/at offset of the group's windows, navNulls
	// whether any of them skips NULLs (request-mode fetches need them).
	maxNav   int
	navNulls bool
	// tiled is set when a window of the group is served from tiles.
	tiled bool
	// joins are the LAST JOINs of the group's own input whose right
	// columns request mode reads only for the rows of some frames
	// (joinprune.go).
	joins []joinNeed
}

// windowEval is one window: its frame, the aggregates computed over it,
// and its navigation functions (lag, at), which read the partition rather
// than the frame.
type windowEval struct {
	index  int // the window's index in the Project's plan windows
	frame  frame
	slots  []int // aggregates: indices into node.aggs
	navs   []int // navigation functions: indices into node.aggs
	nested []int // aggregates over nested aggregates, inner ones first
	// tiles is set when request mode serves the window from tiles.
	tiles *tileServe
}

type builder struct {
	plan *plan.Plan
}

func (b *builder) node(p *plan.Node) (*node, error) {
	n := &node{p: p}
	n.scratch.New = func() any { return newReqScratch(n) }
	var err error
	if p.Input != nil {
		if n.input, err = b.node(p.Input); err != nil {
			return nil, err
		}
	}
	switch p.Op {
	case plan.Scan, plan.Limit:
	case plan.Filter:
		n.cond, err = (&exprCompiler{}).compile(p.Cond)
	case plan.LastJoin:
		err = b.join(n)
	case plan.Project, plan.ConstRow:
		err = b.project(n)
	case plan.Aggregate:
		err = b.aggregate(n)
	default:
		err = fmt.Errorf("unknown node op %q", p.Op)
	}
	return n, err
}

func (b *builder) join(n *node) error {
	var err error
	if n.right, err = b.node(n.p.Right); err != nil {
		return err
	}
	nLeft := len(n.p.Input.Schema)
	if n.p.Cond != nil {
		if n.cond, err = (&exprCompiler{split: nLeft}).compile(n.p.Cond); err != nil {
			return err
		}
	}
	if n.leftKeys, err = compileAll(&exprCompiler{}, n.p.LeftKeys); err != nil {
		return err
	}
	if n.rightKeys, err = compileAll(&exprCompiler{}, n.p.RightKeys); err != nil {
		return err
	}
	if n.p.OrderBy != nil {
		n.orderBy, err = (&exprCompiler{}).compile(n.p.OrderBy)
	}
	return err
}

func compileAll(ec *exprCompiler, es []*plan.Expr) ([]evalFn, error) {
	out := make([]evalFn, len(es))
	for i, e := range es {
		f, err := ec.compile(e)
		if err != nil {
			return nil, err
		}
		out[i] = f
	}
	return out, nil
}

// project compiles the output expressions, collecting their aggregates
// into slots and grouping the windows that have any.
func (b *builder) project(n *node) error {
	ec := &exprCompiler{aggSlot: map[*plan.Expr]int{}}
	for _, e := range n.p.Exprs {
		if err := b.collectAggs(n, ec, e); err != nil {
			return err
		}
	}
	for _, e := range n.p.Exprs {
		f, err := ec.compile(e)
		if err != nil {
			return err
		}
		fill, err := ec.fill(e)
		if err != nil {
			return err
		}
		n.exprs, n.fills = append(n.exprs, f), append(n.fills, fill)
		n.pass = append(n.pass, bareCol(e))
		slot, ok := ec.aggSlot[e]
		if !ok {
			slot = -1
		}
		n.aggOut = append(n.aggOut, slot)
	}
	return b.groupWindows(n)
}

func bareCol(e *plan.Expr) int {
	if e.Op == plan.Col {
		return e.Col
	}
	return -1
}

// collectAggs gives every aggregate in e a slot, resolving its Func.
func (b *builder) collectAggs(n *node, ec *exprCompiler, e *plan.Expr) error {
	if e.Op != plan.Agg {
		for _, a := range e.Args {
			if err := b.collectAggs(n, ec, a); err != nil {
				return err
			}
		}
		return nil
	}
	if n.p.Op != plan.Aggregate && (e.Window < 0 || e.Window >= len(n.p.Windows)) {
		return fmt.Errorf("aggregate %s refers to window %d of %d", e.Fn, e.Window, len(n.p.Windows))
	}
	for _, a := range e.Args { // nested aggregates get their slots first
		if err := b.collectAggs(n, ec, a); err != nil {
			return err
		}
	}
	site := &aggSite{window: e.Window, tiled: e.Tile != nil && e.Tile.Tiled, expr: e}
	types_, consts := make([]types.Type, len(e.Args)), make([]*types.Value, len(e.Args))
	for i, a := range e.Args {
		f, err := ec.compile(a)
		if err != nil {
			return err
		}
		fill, err := ec.fill(a)
		if err != nil {
			return err
		}
		site.nested = site.nested || countAggs(a) > 0
		site.args, site.fills = append(site.args, f), append(site.fills, fill)
		site.argCol = append(site.argCol, bareCol(a))
		types_[i] = a.Type
		if a.Op == plan.Const {
			consts[i] = a.Value
		}
	}
	fn, err := agg.Resolve(e.Fn, types_, consts)
	if err != nil {
		return err
	}
	site.fn = fn
	site.nav, site.ignoreNulls = navOffset(fn)
	ec.aggSlot[e] = len(n.aggs)
	n.aggs = append(n.aggs, site)
	return nil
}

// groupWindows builds the window groups of the windows that aggregates use.
func (b *builder) groupWindows(n *node) error {
	byWindow := map[int][]int{}
	for slot := range n.aggs {
		w := n.aggs[slot].window
		byWindow[w] = append(byWindow[w], slot)
	}
	sigs := map[string]*windowGroup{}
	for wi, w := range n.p.Windows {
		slots := byWindow[wi]
		if len(slots) == 0 {
			continue
		}
		sig, err := groupSig(w)
		if err != nil {
			return err
		}
		g, ok := sigs[sig]
		if !ok {
			if g, err = b.newGroup(w); err != nil {
				return err
			}
			sigs[sig] = g
			n.groups = append(n.groups, g)
		}
		we := &windowEval{index: wi, frame: newFrame(w)}
		for _, slot := range slots {
			switch site := n.aggs[slot]; {
			case site.nested:
				we.nested = append(we.nested, slot)
			case site.nav >= 0:
				we.navs = append(we.navs, slot)
			default:
				we.slots = append(we.slots, slot)
			}
		}
		for _, slot := range we.navs {
			g.maxNav = max(g.maxNav, n.aggs[slot].nav)
			g.navNulls = g.navNulls || n.aggs[slot].ignoreNulls
		}
		g.windows = append(g.windows, we)
	}
	for _, g := range n.groups {
		planJoinNeeds(n, g)
	}
	return nil
}

func groupSig(w *plan.Window) (string, error) {
	b, err := json.Marshal(struct {
		P []*plan.Expr
		O *plan.Expr
		U []*plan.Node
	}{w.PartitionBy, w.OrderBy, w.Unions})
	return string(b), err
}

// navOffset recognizes lag(x, n) and at(x, n) with a constant n >= 0.
func navOffset(fn *agg.Func) (int, bool) {
	if (fn.Name != "lag" && fn.Name != "at") || len(fn.Consts) < 2 || fn.Consts[1] == nil || fn.Consts[1].I < 0 {
		return -1, false
	}
	ignore := len(fn.Consts) > 2 && fn.Consts[2] != nil && fn.Consts[2].I != 0
	return int(fn.Consts[1].I), ignore
}

func (b *builder) newGroup(w *plan.Window) (*windowGroup, error) {
	ec := &exprCompiler{}
	g := &windowGroup{spec: w, orderCol: -1}
	var err error
	if g.partition, err = compileAll(ec, w.PartitionBy); err != nil {
		return nil, err
	}
	if w.OrderBy != nil {
		g.orderCol = bareCol(w.OrderBy)
		if g.order, err = ec.compile(w.OrderBy); err != nil {
			return nil, err
		}
	}
	for _, u := range w.Unions {
		un, err := b.node(u)
		if err != nil {
			return nil, err
		}
		g.unions = append(g.unions, un)
	}
	return g, nil
}
