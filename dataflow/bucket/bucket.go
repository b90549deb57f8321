// Package bucket decides how a feature view's input rows split into buckets
// that the evaluator can run independently, and assigns rows to buckets.
//
// A backfill evaluates a view over months of rows. To spread that work,
// rows are hash-partitioned into buckets and each bucket is evaluated in
// one call of the batch evaluator. That is exact only if every output row
// finds, in its own bucket, every row its windows and joins read. Plan
// analyses a plan and returns a Layout that guarantees it:
//
//   - The FROM table is keyed by the columns that every window on its path
//     partitions by: rows of one window partition share those values, so
//     they land in one bucket. Union tables are keyed by the same columns.
//   - A LAST JOIN's right side is keyed by the right-hand columns of the
//     join's equality conditions on those key columns, so a row's matching
//     rows are in its bucket; a join that cannot be keyed so reads its
//     tables whole in every bucket (broadcast).
//   - A GROUP BY on the path counts as a window partitioned by its
//     columns: a group's rows share a bucket, and its output row takes
//     the place of the group's first row, so merging the buckets' rows in
//     FROM-table order puts the groups in order of first appearance, as
//     one evaluation does.
//   - A view without windows spreads the FROM table's rows freely.
//   - When no such split exists (windows that share no partition column,
//     a whole-table aggregate, a LIMIT or GROUP BY inside a subquery, a
//     table needed both keyed and whole), the Layout has a single bucket:
//     always correct, never parallel.
//
// Keys hash through eval.AppendKey, the evaluator's own definition of key
// equality (integers of any width alike, -0 = +0, NULL = NULL), with a
// fixed hash, so every worker of a distributed run agrees.
package bucket

import (
	"fmt"
	"slices"
	"strings"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// Kind says how a table's rows are routed to buckets.
type Kind int

// The routes.
const (
	// Keyed rows go to the bucket of the hash of their key columns.
	Keyed Kind = iota
	// Spread rows may go to any bucket (chosen by their position).
	Spread
	// Whole tables are read in full by every bucket.
	Whole
)

func (k Kind) String() string {
	return [...]string{"keyed", "spread", "whole"}[k]
}

// Route is how one table's rows reach buckets.
type Route struct {
	Kind Kind
	// Cols are the key columns of a Keyed table, in hashing order.
	Cols []int
}

// Layout is how a plan's tables split into buckets.
type Layout struct {
	// Split is false when the plan must see all rows in one evaluation;
	// Reason then says why.
	Split  bool
	Reason string
	// Routes has a route for every table of the plan.
	Routes map[string]Route
	// Limit is the root LIMIT (-1 without one). Each bucket applies it
	// too, so after merging the buckets' rows in FROM-table order the
	// first Limit rows are the answer.
	Limit int64
	// Always is set when the view has an output row even without input
	// rows (a whole-table aggregate on its path: count(*) of no rows is
	// 0): its one bucket must be evaluated even when no row reaches it.
	Always bool
}

// Plan analyses p. It never fails: a plan it cannot split gets a one-bucket
// layout, which is always correct.
func Plan(p *plan.Plan) *Layout {
	l := &Layout{Limit: -1}
	root := p.Root
	for root.Op == plan.Limit {
		if l.Limit < 0 || root.N < l.Limit {
			l.Limit = root.N
		}
		root = root.Input
	}
	for n := root; n != nil; n = n.Input {
		l.Always = l.Always || n.Op == plan.Aggregate && len(n.GroupBy) == 0
	}
	a := &analysis{routes: map[string]Route{}}
	a.spine(root)
	if a.err != "" {
		return whole(p, l, a.err)
	}
	for _, t := range p.Tables {
		if _, ok := a.routes[t.Name]; !ok {
			a.routes[t.Name] = Route{Kind: Whole}
		}
	}
	l.Split, l.Routes = true, a.routes
	return l
}

// whole returns the one-bucket layout of p.
func whole(p *plan.Plan, l *Layout, reason string) *Layout {
	l.Split, l.Reason, l.Routes = false, reason, map[string]Route{}
	for _, t := range p.Tables {
		l.Routes[t.Name] = Route{Kind: Whole}
	}
	return l
}

// String describes the layout for explain output and logs.
func (l *Layout) String() string {
	if !l.Split {
		return "one bucket: " + l.Reason
	}
	names := make([]string, 0, len(l.Routes))
	for n := range l.Routes {
		names = append(names, n)
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, n := range names {
		r := l.Routes[n]
		parts[i] = n + " " + r.Kind.String()
		if r.Kind == Keyed {
			parts[i] += fmt.Sprint(r.Cols)
		}
	}
	return "buckets: " + strings.Join(parts, ", ")
}

type analysis struct {
	routes map[string]Route
	err    string
}

func (a *analysis) fail(format string, args ...any) {
	if a.err == "" {
		a.err = fmt.Sprintf(format, args...)
	}
}

// assign records the route of table name, failing on a conflict.
func (a *analysis) assign(name string, r Route) {
	old, ok := a.routes[name]
	if !ok {
		a.routes[name] = r
		return
	}
	if old.Kind != r.Kind || !slices.Equal(old.Cols, r.Cols) {
		a.fail("table %s is read both %s and %s", name, old.Kind, r.Kind)
	}
}

// spine routes the path from root down its inputs to the FROM table. It
// chooses the key columns at the FROM table (those every window on the
// path partitions by), then checks every node on the way up.
func (a *analysis) spine(root *plan.Node) {
	var path []*plan.Node
	n := root
	for ; n.Op != plan.Scan; n = n.Input {
		switch n.Op {
		case plan.ConstRow:
			a.fail("the query reads no table")
			return
		case plan.Limit:
			a.fail("a LIMIT inside the query")
			return
		case plan.Aggregate:
			if len(n.GroupBy) == 0 {
				a.fail("a whole-table aggregate reads every row")
				return
			}
		}
		path = append(path, n)
	}
	slices.Reverse(path)
	scan := n
	key := a.chooseKey(scan, path)
	pos := slices.Clone(key) // positions of the key columns in the current node
	if len(key) == 0 {
		pos = nil
		if hasWindows(path) {
			a.fail("the windows share no partition column of table %s", scan.Table)
			return
		}
		a.assign(scan.Table, Route{Kind: Spread})
	} else {
		a.assign(scan.Table, Route{Kind: Keyed, Cols: key})
	}
	for _, n := range path {
		pos = a.up(n, pos)
		if a.err != "" {
			return
		}
	}
}

// up checks node n given the key positions in its input (nil: spread) and
// returns the key positions in its output (an element is -1 once the
// column is no longer carried).
func (a *analysis) up(n *plan.Node, pos []int) []int {
	switch n.Op {
	case plan.Filter:
		return pos
	case plan.LastJoin:
		a.joinRight(n, pos)
		return pos
	case plan.Project:
		for _, w := range n.Windows {
			a.window(w, pos)
		}
		return forward(n, pos)
	case plan.Aggregate:
		a.partitioned("GROUP BY", n.GroupBy, pos)
		return forward(n, pos)
	}
	a.fail("unexpected %s", n.Op)
	return nil
}

// down routes subtree n (a union source or a join's right side) so that
// its rows with equal values at positions key share a bucket.
func (a *analysis) down(n *plan.Node, key []int) {
	switch n.Op {
	case plan.Scan:
		a.assign(n.Table, Route{Kind: Keyed, Cols: key})
	case plan.Filter:
		a.down(n.Input, key)
	case plan.LastJoin:
		if slices.ContainsFunc(key, func(k int) bool { return k >= len(n.Input.Schema) }) {
			a.fail("a key column comes from a joined table")
			return
		}
		a.down(n.Input, key)
		a.joinRight(n, key)
	case plan.Aggregate:
		a.fail("a GROUP BY inside a subquery")
	case plan.Project:
		in := backward(n, key)
		if in == nil {
			a.fail("a key column is computed")
			return
		}
		a.down(n.Input, in)
		for _, w := range n.Windows {
			a.window(w, in)
		}
	default:
		a.fail("a %s inside a subquery", n.Op)
	}
}

// window checks that rows with equal partition values share the key
// (pos, over the window's input) and routes its union sources by it.
func (a *analysis) window(w *plan.Window, pos []int) {
	a.partitioned("window "+w.Name, w.PartitionBy, pos)
	for _, u := range w.Unions {
		a.down(u, pos)
	}
}

// partitioned checks that rows with equal values of by (a window's
// partition or GROUP BY, named what) share the key pos.
func (a *analysis) partitioned(what string, by []*plan.Expr, pos []int) {
	for _, p := range pos {
		if p < 0 || !slices.ContainsFunc(by, func(e *plan.Expr) bool { return colOf(e) == p }) {
			a.fail("%s does not partition by every key column", what)
			return
		}
	}
}

// joinRight routes the right side of LAST JOIN n: keyed when each left
// key position (over n's input) is an equality key of the join against a
// right column, else whole.
func (a *analysis) joinRight(n *plan.Node, pos []int) {
	if right := joinKey(n, pos); right != nil {
		a.down(n.Right, right)
		return
	}
	a.whole(n.Right)
}

// whole routes every table of subtree n to be read in full.
func (a *analysis) whole(n *plan.Node) {
	if n == nil {
		return
	}
	if n.Op == plan.Scan {
		a.assign(n.Table, Route{Kind: Whole})
	}
	a.whole(n.Input)
	a.whole(n.Right)
	for _, w := range n.Windows {
		for _, u := range w.Unions {
			a.whole(u)
		}
	}
}

// joinKey maps key positions over a LAST JOIN's left input to the right
// columns they are joined with, or returns nil.
func joinKey(n *plan.Node, pos []int) []int {
	if len(pos) == 0 {
		return nil
	}
	right := make([]int, len(pos))
	for i, p := range pos {
		right[i] = -1
		for j, lk := range n.LeftKeys {
			if p >= 0 && colOf(lk) == p {
				if r := colOf(n.RightKeys[j]); r >= 0 {
					right[i] = r
					break
				}
			}
		}
		if right[i] < 0 {
			return nil
		}
	}
	return right
}

// chooseKey returns the columns of the FROM table that every window on
// the path partitions by, in column order; for a path without windows,
// the columns the first LAST JOIN can be keyed on (else none).
func (a *analysis) chooseKey(scan *plan.Node, path []*plan.Node) []int {
	all := make([]int, len(scan.Schema))
	for i := range all {
		all[i] = i
	}
	if !hasWindows(path) {
		return joinCandidate(path, all)
	}
	keep := make([]bool, len(all))
	for i := range keep {
		keep[i] = true
	}
	pos := all
	drop := func(by []*plan.Expr) {
		for c, p := range pos {
			if p < 0 || !slices.ContainsFunc(by, func(e *plan.Expr) bool { return colOf(e) == p }) {
				keep[c] = false
			}
		}
	}
	for _, n := range path {
		switch n.Op {
		case plan.Project:
			for _, w := range n.Windows {
				drop(w.PartitionBy)
			}
			pos = forward(n, pos)
		case plan.Aggregate:
			drop(n.GroupBy)
			pos = forward(n, pos)
		}
	}
	var key []int
	for c, k := range keep {
		if k {
			key = append(key, c)
		}
	}
	return key
}

// joinCandidate returns the FROM-table columns that are the equality keys
// of the first LAST JOIN on the path with plain column keys, or nil.
func joinCandidate(path []*plan.Node, all []int) []int {
	pos := all
	for _, n := range path {
		switch n.Op {
		case plan.LastJoin:
			var key []int
			for j, lk := range n.LeftKeys {
				l, r := colOf(lk), colOf(n.RightKeys[j])
				if l < 0 || r < 0 {
					continue
				}
				if c := slices.Index(pos, l); c >= 0 && !slices.Contains(key, c) {
					key = append(key, c)
				}
			}
			if len(key) > 0 {
				slices.Sort(key)
				return key
			}
		case plan.Project, plan.Aggregate:
			pos = forward(n, pos)
		}
	}
	return nil
}

// hasWindows reports whether a node of path partitions its rows: a
// window or a GROUP BY.
func hasWindows(path []*plan.Node) bool {
	return slices.ContainsFunc(path, func(n *plan.Node) bool { return len(n.Windows) > 0 || n.Op == plan.Aggregate })
}

// forward maps input positions through a Project to the output positions
// that pass them through unchanged (-1 when none does).
func forward(n *plan.Node, pos []int) []int {
	out := make([]int, len(pos))
	for i, p := range pos {
		out[i] = -1
		if p < 0 {
			continue
		}
		for j, e := range n.Exprs {
			if e.Op == plan.Col && e.Col == p {
				out[i] = j
				break
			}
		}
	}
	if pos == nil {
		return nil
	}
	return out
}

// backward maps output positions of a Project to the input columns they
// pass through, or returns nil when one is computed.
func backward(n *plan.Node, pos []int) []int {
	in := make([]int, len(pos))
	for i, p := range pos {
		if in[i] = colOf(n.Exprs[p]); in[i] < 0 {
			return nil
		}
	}
	return in
}

// colOf returns the input column e reads unchanged, or -1.
func colOf(e *plan.Expr) int {
	if e != nil && e.Op == plan.Col {
		return e.Col
	}
	return -1
}

// Hasher assigns rows of one table to buckets by its route.
type Hasher struct {
	cols []int
	n    uint64
	buf  []byte
}

// NewHasher returns a hasher of rows keyed by cols into n buckets. Not
// safe for concurrent use (it reuses a buffer).
func NewHasher(cols []int, n int) *Hasher {
	return &Hasher{cols: cols, n: uint64(n)}
}

// Bucket returns the bucket of row i of b.
func (h *Hasher) Bucket(b *types.Block, i int) int {
	return int(h.hash(b, i) % h.n)
}

// Place returns the bucket of row i of b and its wave, one of waves
// (0 when waves is 1 or less): a share of the keys that depends on the
// key and waves alone, not on the bucket count, so every key is in
// exactly one wave whatever the buckets, and a wave's keys spread over
// all the buckets (the wave is the hash's high 32 bits modulo waves,
// the bucket the hash modulo the bucket count).
func (h *Hasher) Place(b *types.Block, i, waves int) (bucket, wave int) {
	return h.PlaceHash(h.hash(b, i), waves)
}

// PlaceHash is Place of a row whose key hashes to x (Hash).
func (h *Hasher) PlaceHash(x uint64, waves int) (bucket, wave int) {
	if waves > 1 {
		wave = int((x >> 32) % uint64(waves))
	}
	return int(x % h.n), wave
}

// Hash returns the hash of row i of b's key, fixed across processes:
// the bucket of the row is the hash modulo the bucket count.
func (h *Hasher) Hash(b *types.Block, i int) uint64 { return h.hash(b, i) }

// hash returns the hash of row i of b's key.
func (h *Hasher) hash(b *types.Block, i int) uint64 {
	h.buf = h.buf[:0]
	for _, c := range h.cols {
		h.buf = eval.AppendKey(h.buf, b.Cols[c].Value(i))
	}
	return fnv1a(h.buf)
}

// fnv1a is the 64-bit FNV-1a hash, fixed across processes and versions
// (Go's maphash is seeded per process, so workers would disagree).
func fnv1a(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	// Mix the high bits down: FNV's low bits are weak for short keys.
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return h
}
