package eval_test

import (
	"context"
	"flag"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

var (
	diffIters = flag.Int("diff.iters", 0, "cases TestRequestEqualsBatch generates (0: 3000, or 300 with -short)")
	diffSeed  = flag.Uint64("diff.seed", 1, "first seed of TestRequestEqualsBatch; case i uses seed+i")
)

func diffCases(t *testing.T) int {
	switch {
	case *diffIters > 0:
		return *diffIters
	case testing.Short():
		return 300
	}
	return 3000
}

// TestRequestEqualsBatch checks the evaluator's guarantee on random
// queries: Request(r) against stored rows equals, bit for bit, the output
// row of r in Batch over the stored rows with r appended to the request
// table. It also checks that Batch gives one row per FROM row. A failure
// prints the case shrunk to a minimal reproduction.
func TestRequestEqualsBatch(t *testing.T) {
	ctx := context.Background()
	failures := 0
	seen := map[string]int{} // features covered, logged with -v
	for i := range diffCases(t) {
		c := newCase(*diffSeed + uint64(i))
		p, err := c.compile()
		if err != nil {
			t.Fatalf("seed %d: the generator wrote a query that does not compile: %v\n%s", c.seed, err, c.query.SQL())
		}
		ev, err := eval.New(p)
		if err != nil {
			t.Fatalf("seed %d: eval.New: %v\n%s", c.seed, err, c.query.SQL())
		}
		if msg := c.checkBatchRows(ctx, ev); msg != "" {
			t.Errorf("seed %d: %s\n%s", c.seed, msg, c.describe(-1))
			failures++
		}
		c.count(seen)
		for ri := range c.reqs {
			if msg := c.checkRequest(ctx, ev, ri); msg != "" {
				min := shrink(c, ri)
				t.Errorf("seed %d: request %d: %s\n%s\nminimal reproduction:\n%s%s", c.seed, ri, msg, c.describe(ri), min.describe(0), min.why())
				failures++
				break
			}
		}
		if failures >= 5 {
			t.Fatalf("stopping after %d failing cases", failures)
		}
	}
	t.Logf("cases with each feature: %v", seen)
}

// count adds the features the case's query uses to seen.
func (c *genCase) count(seen map[string]int) {
	sql := c.query.SQL()
	for _, f := range []string{"UNION t2", "UNION t1", "UNION t2, t1", "AS u", "LAST JOIN t3", "AS s", "AS b", "AS q",
		"WHERE", "ROWS BETWEEN", "ROWS_RANGE", "UNBOUNDED", "OPEN", "EXCLUDE CURRENT_ROW", "EXCLUDE CURRENT_TIME",
		"MAXSIZE", "INSTANCE_NOT_IN_WINDOW", "lag(", "first_value(", "last_value(", "count_where(",
		"sum_where(", "distinct_count(", "avg(", "min(", "max(", "count(*)", ") + ("} {
		if strings.Contains(sql, f) {
			seen[f]++
		}
	}
	for _, r := range c.reqs {
		switch {
		case r[0].Null:
			seen["request NULL key"]++
		case r[1].Null:
			seen["request NULL order"]++
		}
	}
}

func (c *genCase) compile() (*plan.Plan, error) {
	return featurelang.CompileQuery("gen.sql", c.query.SQL(), c.tables, featurelang.Options{})
}

// batchTables returns the stored tables as blocks, with extra appended to
// t1 when it is not nil.
func (c *genCase) batchTables(extra []types.Value) map[string]*types.Block {
	m := map[string]*types.Block{}
	for _, t := range c.tables {
		rows := c.rows[t.Name]
		if extra != nil && t.Name == "t1" {
			rows = append(slices.Clip(rows), extra)
		}
		m[t.Name] = types.BlockOf(t.Schema, rows)
	}
	return m
}

func (c *genCase) source() *eval.MemSource {
	src := eval.NewMemSource()
	for _, t := range c.tables {
		src.Create(t.Name, t.Schema)
		if err := src.Insert(t.Name, c.rows[t.Name]...); err != nil {
			panic(err)
		}
	}
	return src
}

// checkBatchRows checks that Batch over the stored rows has one output row
// per t1 row when there is no WHERE.
func (c *genCase) checkBatchRows(ctx context.Context, ev *eval.Evaluator) string {
	out, err := ev.Batch(ctx, c.batchTables(nil))
	if err != nil {
		return fmt.Sprintf("Batch: %v", err)
	}
	if !c.query.filtered() && out.Len != len(c.rows["t1"]) {
		return fmt.Sprintf("Batch returned %d rows for %d rows of t1", out.Len, len(c.rows["t1"]))
	}
	for i, col := range out.Cols {
		if col.Len() != out.Len {
			return fmt.Sprintf("Batch output column %d has %d values for %d rows", i, col.Len(), out.Len)
		}
	}
	return ""
}

// checkRequest compares Request(reqs[ri]) with its row of Batch; it returns
// "" when they agree.
func (c *genCase) checkRequest(ctx context.Context, ev *eval.Evaluator, ri int) string {
	req := c.reqs[ri]
	want, err := c.batchRow(ctx, ev, req)
	if err != nil {
		return fmt.Sprintf("Batch: %v", err)
	}
	got, err := ev.Request(ctx, req, c.source())
	if err != nil {
		return fmt.Sprintf("Request: %v", err)
	}
	if !identicalRows(got, want) {
		return fmt.Sprintf("Request and Batch differ:\n  request: %s\n  batch:   %s", fmtRow(got), fmtRow(want))
	}
	many := &multiSource{Source: c.source()}
	if got, err = ev.Request(ctx, req, many); err != nil {
		return fmt.Sprintf("Request over a MultiSource: %v", err)
	}
	if !identicalRows(got, want) {
		return fmt.Sprintf("Request over a MultiSource (%d ScanMany calls) and Batch differ:\n  request: %s\n  batch:   %s", many.calls, fmtRow(got), fmtRow(want))
	}
	return ""
}

// multiSource is a Source with ScanMany, answering each query with Scan.
type multiSource struct {
	eval.Source
	calls int
}

func (m *multiSource) ScanMany(ctx context.Context, qs []eval.Query) ([]*types.Block, error) {
	m.calls++
	out := make([]*types.Block, len(qs))
	for i, q := range qs {
		b, err := m.Scan(ctx, q)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

// batchRow returns the Batch output row of req appended to t1, or nil when
// the query drops it. The row is found by its id, through a probe query
// with the same FROM and WHERE.
func (c *genCase) batchRow(ctx context.Context, ev *eval.Evaluator, req []types.Value) ([]types.Value, error) {
	tables := c.batchTables(req)
	out, err := ev.Batch(ctx, tables)
	if err != nil {
		return nil, err
	}
	probe, err := featurelang.CompileQuery("probe.sql", c.query.probeSQL(), c.tables, featurelang.Options{})
	if err != nil {
		return nil, fmt.Errorf("probe %s: %w", c.query.probeSQL(), err)
	}
	pev, err := eval.New(probe)
	if err != nil {
		return nil, err
	}
	ids, err := pev.Batch(ctx, tables)
	if err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	if ids.Len != out.Len {
		return nil, fmt.Errorf("%d output rows, the probe %s has %d", out.Len, c.query.probeSQL(), ids.Len)
	}
	id := req[len(req)-1]
	for i := range ids.Len {
		if types.Identical(ids.Cols[0].Value(i), id) {
			if i != ids.Len-1 {
				return nil, fmt.Errorf("the request is output row %d of %d, not the last", i, ids.Len)
			}
			return out.Row(i, nil), nil
		}
	}
	return nil, nil
}

func identicalRows(a, b []types.Value) bool {
	if (a == nil) != (b == nil) || len(a) != len(b) {
		return false
	}
	for i := range a {
		if !types.Identical(a[i], b[i]) {
			return false
		}
	}
	return true
}

func identicalBlocks(a, b *types.Block) bool {
	if a.Len != b.Len || len(a.Schema) != len(b.Schema) {
		return false
	}
	for i := range a.Schema {
		if a.Schema[i] != b.Schema[i] {
			return false
		}
	}
	for i := range a.Len {
		if !identicalRows(a.Row(i, nil), b.Row(i, nil)) {
			return false
		}
	}
	return true
}

// fmtValue renders a value unambiguously: its type, and floats by their
// shortest form (which identifies the bits, -0 included).
func fmtValue(v types.Value) string {
	if v.Null {
		return "NULL"
	}
	switch v.Type {
	case types.String:
		return fmt.Sprintf("%q", v.S)
	case types.Timestamp:
		return fmt.Sprintf("ts(%d)", v.I)
	case types.Double, types.Float:
		if v.F == 0 && math.Signbit(v.F) {
			return v.Type.String() + "(-0)"
		}
		return v.Type.String() + "(" + types.FormatFloat(v.F, 64) + ")"
	}
	return v.Type.String() + "(" + v.String() + ")"
}

func fmtRow(row []types.Value) string {
	if row == nil {
		return "(no row)"
	}
	parts := make([]string, len(row))
	for i, v := range row {
		parts[i] = fmtValue(v)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// describe renders the case: query, tables with their rows, and request
// ri (all of them when ri < 0).
func (c *genCase) describe(ri int) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "  %s\n", c.query.SQL())
	for _, t := range c.tables {
		fmt.Fprintf(&sb, "  table %s (%s)", t.Name, t.Schema)
		for _, ix := range t.Indexes {
			fmt.Fprintf(&sb, " INDEX(KEY=%s, TS=%s)", strings.Join(ix.Keys, ","), ix.TS)
		}
		sb.WriteString("\n")
		for _, r := range c.rows[t.Name] {
			fmt.Fprintf(&sb, "    %s\n", fmtRow(r))
		}
	}
	for i, r := range c.reqs {
		if ri < 0 || i == ri {
			fmt.Fprintf(&sb, "  request t1 %s\n", fmtRow(r))
		}
	}
	return sb.String()
}

// why reruns the only request of a shrunk case and returns its failure.
func (c *genCase) why() string {
	p, err := c.compile()
	if err != nil {
		return err.Error()
	}
	ev, err := eval.New(p)
	if err != nil {
		return err.Error()
	}
	return "  " + c.checkRequest(context.Background(), ev, 0)
}

// shrink returns a smaller case whose only request still fails: fewer
// select items, no WHERE, fewer stored rows.
func shrink(c *genCase, ri int) *genCase {
	cur := c.clone()
	cur.reqs = [][]types.Value{c.reqs[ri]}
	fails := func(k *genCase) bool {
		p, err := k.compile()
		if err != nil {
			return false
		}
		ev, err := eval.New(p)
		if err != nil {
			return false
		}
		return k.checkRequest(context.Background(), ev, 0) != ""
	}
	for changed := true; changed; {
		changed = false
		for i := 0; i < len(cur.query.items) && len(cur.query.items) > 1; i++ {
			k := cur.clone()
			k.query.items = slices.Delete(k.query.items, i, i+1)
			if fails(k) {
				cur, changed, i = k, true, i-1
			}
		}
		if cur.query.where != "" {
			k := cur.clone()
			k.query.where = ""
			if fails(k) {
				cur, changed = k, true
			}
		}
		for _, t := range cur.tables {
			for i := 0; i < len(cur.rows[t.Name]); i++ {
				k := cur.clone()
				k.rows[t.Name] = slices.Delete(k.rows[t.Name], i, i+1)
				if fails(k) {
					cur, changed, i = k, true, i-1
				}
			}
		}
	}
	return cur
}

func (c *genCase) clone() *genCase {
	k := *c
	k.rows = map[string][][]types.Value{}
	for n, rows := range c.rows {
		k.rows[n] = slices.Clone(rows)
	}
	k.query.items = slices.Clone(c.query.items)
	k.reqs = slices.Clone(c.reqs)
	return &k
}
