package conformance

import (
	"context"
	"fmt"
	"strings"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// Mode is how a case is run.
type Mode string

// The modes. Reject is the check that a case OpenMLDB rejects does not
// compile; it does not depend on the execution mode.
const (
	Batch   Mode = "batch"
	Request Mode = "request"
	Reject  Mode = "reject"
)

// Host runs compiled plans: the in-process evaluator, a Beam pipeline, an
// HTTP function, a Lambda handler.
type Host interface {
	// Batch evaluates p over whole tables.
	Batch(ctx context.Context, p *plan.Plan, tables map[string]*types.Block) (*types.Block, error)
	// Open starts request-mode serving of p over an empty store holding
	// the given tables.
	Open(ctx context.Context, p *plan.Plan, tables []*plan.Table) (Session, error)
}

// Session is request-mode serving of one plan.
type Session interface {
	// Insert stores rows of a table.
	Insert(ctx context.Context, table string, rows *types.Block) error
	// Request evaluates one request row; a nil row means a filter dropped
	// it.
	Request(ctx context.Context, row []types.Value) ([]types.Value, error)
	Close() error
}

// Status is the outcome of one case in one mode.
type Status string

// The statuses.
const (
	Pass Status = "pass"
	Fail Status = "fail"
	Skip Status = "skip"
)

// Result is the outcome of one case in one mode.
type Result struct {
	ID       string `json:"id"`
	Category string `json:"category"`
	Mode     Mode   `json:"mode"`
	Status   Status `json:"status"`
	Reason   string `json:"reason,omitempty"`
}

// Run runs every case in the given modes (Batch, Request) on host; cases
// that expect a rejection are checked once, in mode Reject.
func Run(ctx context.Context, cases []*Case, host Host, modes []Mode) []Result {
	var out []Result
	for _, c := range cases {
		if c.Rejected() {
			out = append(out, runReject(c))
			continue
		}
		for _, m := range modes {
			out = append(out, runCase(ctx, c, host, m))
		}
	}
	return out
}

func result(c *Case, m Mode, s Status, format string, args ...any) Result {
	return Result{ID: c.ID, Category: c.Category, Mode: m, Status: s, Reason: fmt.Sprintf(format, args...)}
}

// compile compiles the case's query over its input tables, with its long
// windows as if deployed with OPTIONS(long_windows=...).
func compile(c *Case) (*plan.Plan, []*plan.Table, error) {
	var tables []*plan.Table
	for _, in := range c.Inputs {
		t, err := in.Table()
		if err != nil {
			return nil, nil, err
		}
		tables = append(tables, t)
	}
	p, err := featurelang.CompileQuery(c.ID, c.SQL, tables, featurelang.Options{LongWindows: c.LongWindow, DB: c.DB})
	return p, tables, err
}

// BatchInput compiles the case's query and reads its input tables: what
// batch mode evaluates (batch_request rows aside).
func (c *Case) BatchInput() (*plan.Plan, map[string]*types.Block, error) {
	p, tables, err := compile(c)
	if err != nil {
		return nil, nil, err
	}
	blocks := map[string]*types.Block{}
	for i, in := range c.Inputs {
		if blocks[tables[i].Name], err = in.Block(tables[i].Schema); err != nil {
			return nil, nil, err
		}
	}
	return p, blocks, nil
}

func runReject(c *Case) Result {
	if c.Todo {
		return result(c, Reject, Skip, "todo")
	}
	if _, _, err := compile(c); err == nil {
		return result(c, Reject, Fail, "compiled a query OpenMLDB rejects")
	}
	return result(c, Reject, Pass, "")
}

func runCase(ctx context.Context, c *Case, host Host, m Mode) (res Result) {
	if !c.Runnable(m) {
		return result(c, m, Skip, "not runnable in %s mode", m)
	}
	defer func() {
		if r := recover(); r != nil {
			res = result(c, m, Fail, "panic: %v", r)
		}
	}()
	p, tables, err := compile(c)
	if err != nil {
		return result(c, m, Fail, "compile: %s", firstLine(err.Error()))
	}
	var got *types.Block
	if m == Batch {
		got, err = runBatch(ctx, c, p, tables, host)
	} else {
		got, err = runRequests(ctx, c, p, tables, host)
	}
	if err != nil {
		return result(c, m, Fail, "%s: %s", m, firstLine(err.Error()))
	}
	if why := compare(c, got); why != "" {
		return result(c, m, Fail, "%s", why)
	}
	return result(c, m, Pass, "")
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func runBatch(ctx context.Context, c *Case, p *plan.Plan, tables []*plan.Table, host Host) (*types.Block, error) {
	blocks := map[string]*types.Block{}
	for i, in := range c.Inputs {
		b, err := in.Block(tables[i].Schema)
		if err != nil {
			return nil, err
		}
		blocks[tables[i].Name] = b
	}
	if c.BatchRequest == nil {
		return host.Batch(ctx, p, blocks)
	}
	return batchRequests(ctx, c, p, tables[0], blocks, host)
}

// batchRequests runs a batch_request case in batch mode: each request row,
// appended to the first table, is evaluated over the stored rows plus
// itself, and its output row (the last) is kept — the batch-mode meaning of
// a request.
func batchRequests(ctx context.Context, c *Case, p *plan.Plan, reqTable *plan.Table, blocks map[string]*types.Block, host Host) (*types.Block, error) {
	reqs, err := c.BatchRequest.Block(reqTable.Schema)
	if err != nil {
		return nil, err
	}
	out := types.NewBlock(p.Output, reqs.Len)
	stored := blocks[reqTable.Name]
	for i := 0; i < reqs.Len; i++ {
		with := map[string]*types.Block{}
		for name, b := range blocks {
			with[name] = b
		}
		with[reqTable.Name] = types.Concat(stored, reqs.Gather([]int{i}))
		res, err := host.Batch(ctx, p, with)
		if err != nil {
			return nil, err
		}
		if res.Len != with[reqTable.Name].Len {
			return nil, fmt.Errorf("batch output has %d rows for %d input rows", res.Len, with[reqTable.Name].Len)
		}
		out.AppendFrom(res, res.Len-1)
	}
	return out, nil
}

// runRequests follows the request procedure of the cases README: load
// every table but the first; send each row of the first (or each
// batch_request row) as a request; insert it afterwards (not batch_request
// rows).
func runRequests(ctx context.Context, c *Case, p *plan.Plan, tables []*plan.Table, host Host) (*types.Block, error) {
	s, err := host.Open(ctx, p, tables)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	if len(c.Inputs) == 0 { // a query without FROM: one request of no columns
		res, err := s.Request(ctx, nil)
		if err != nil {
			return nil, err
		}
		return types.BlockOf(p.Output, [][]types.Value{res}), nil
	}
	reqs, reqTable, insertReqs := c.Inputs[0], tables[0], true
	if c.BatchRequest != nil {
		reqs, insertReqs = c.BatchRequest, false
	}
	for i, in := range c.Inputs {
		if i == 0 && insertReqs {
			continue
		}
		b, err := in.Block(tables[i].Schema)
		if err != nil {
			return nil, err
		}
		if err := s.Insert(ctx, tables[i].Name, b); err != nil {
			return nil, err
		}
	}
	if p.RequestTable != reqTable.Name {
		return nil, fmt.Errorf("the query reads requests from %q, the case sends rows of %q", p.RequestTable, reqTable.Name)
	}
	rows, err := reqs.Block(reqTable.Schema)
	if err != nil {
		return nil, err
	}
	out := types.NewBlock(p.Output, rows.Len)
	for i := 0; i < rows.Len; i++ {
		row := rows.Row(i, nil)
		res, err := s.Request(ctx, row)
		if err != nil {
			return nil, fmt.Errorf("request %d: %w", i+1, err)
		}
		if res != nil {
			out.AppendRow(res)
		}
		if insertReqs {
			if err := s.Insert(ctx, reqTable.Name, rows.Gather([]int{i})); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}
