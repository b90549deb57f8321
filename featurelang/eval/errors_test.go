package eval_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

var (
	errTx = &plan.Table{Name: "tx", Schema: types.Schema{
		{Name: "card", Type: types.String}, {Name: "ts", Type: types.Timestamp}, {Name: "amt", Type: types.Double}}}
	errProfile = &plan.Table{Name: "profile", Schema: types.Schema{
		{Name: "card", Type: types.String}, {Name: "name", Type: types.String}}}
)

const errSQL = `SELECT tx.card, sum(tx.amt) OVER w AS s, p.name
FROM tx LAST JOIN profile p ON tx.card = p.card
WINDOW w AS (PARTITION BY tx.card ORDER BY tx.ts ROWS_RANGE BETWEEN 10s PRECEDING AND CURRENT ROW)`

func errEvaluator(t *testing.T) *eval.Evaluator {
	t.Helper()
	p, err := featurelang.CompileQuery("err.sql", errSQL, []*plan.Table{errTx, errProfile}, featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := eval.New(p)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func errTables() map[string]*types.Block {
	return map[string]*types.Block{
		"tx": types.BlockOf(errTx.Schema, [][]types.Value{
			{types.StringValue("a"), types.TimestampValue(1000), types.DoubleValue(1.5)},
			{types.StringValue("a"), types.TimestampValue(2000), types.DoubleValue(2)},
		}),
		"profile": types.BlockOf(errProfile.Schema, [][]types.Value{
			{types.StringValue("a"), types.StringValue("alice")},
		}),
	}
}

func TestBatchInputErrors(t *testing.T) {
	t.Parallel()
	ev := errEvaluator(t)
	if _, err := ev.Batch(context.Background(), errTables()); err != nil {
		t.Fatalf("valid input: %v", err)
	}
	tests := []struct {
		name   string
		change func(m map[string]*types.Block)
	}{
		{"missing table", func(m map[string]*types.Block) { delete(m, "profile") }},
		{"missing request table", func(m map[string]*types.Block) { delete(m, "tx") }},
		{"column type", func(m map[string]*types.Block) {
			s := types.Schema{{Name: "card", Type: types.String}, {Name: "ts", Type: types.Int64}, {Name: "amt", Type: types.Double}}
			m["tx"] = types.NewBlock(s, 0)
		}},
		{"float for double", func(m map[string]*types.Block) {
			s := types.Schema{{Name: "card", Type: types.String}, {Name: "ts", Type: types.Timestamp}, {Name: "amt", Type: types.Float}}
			m["tx"] = types.BlockOf(s, [][]types.Value{{types.StringValue("a"), types.TimestampValue(1), types.FloatValue(1)}})
		}},
		{"too few columns", func(m map[string]*types.Block) {
			m["profile"] = types.NewBlock(errProfile.Schema[:1], 0)
		}},
		{"too many columns", func(m map[string]*types.Block) {
			m["profile"] = types.NewBlock(append(errProfile.Schema[:2:2], types.Field{Name: "x", Type: types.Int32}), 0)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := errTables()
			tt.change(m)
			out, err := ev.Batch(context.Background(), m)
			if !errors.Is(err, eval.ErrInput) {
				t.Errorf("Batch = %v, %v; want an error wrapping ErrInput", out, err)
			}
		})
	}
}

func TestRequestInputErrors(t *testing.T) {
	t.Parallel()
	ev := errEvaluator(t)
	src := eval.NewMemSource()
	src.Create("tx", errTx.Schema)
	src.Create("profile", errProfile.Schema)
	good := []types.Value{types.StringValue("a"), types.TimestampValue(1000), types.DoubleValue(1)}
	if _, err := ev.Request(context.Background(), good, src); err != nil {
		t.Fatalf("valid request: %v", err)
	}
	tests := []struct {
		name string
		req  []types.Value
	}{
		{"empty", nil},
		{"short", good[:2]},
		{"long", append(good[:3:3], types.Int64Value(1))},
		{"int for timestamp", []types.Value{types.StringValue("a"), types.Int64Value(1000), types.DoubleValue(1)}},
		{"float for double", []types.Value{types.StringValue("a"), types.TimestampValue(1000), types.FloatValue(1)}},
		{"int for string key", []types.Value{types.Int64Value(1), types.TimestampValue(1000), types.DoubleValue(1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := ev.Request(context.Background(), tt.req, src)
			if !errors.Is(err, eval.ErrInput) {
				t.Errorf("Request = %v, %v; want an error wrapping ErrInput", out, err)
			}
		})
	}
	// A typed NULL of another type is still a NULL: accepted.
	nulls := []types.Value{types.NullOf(types.Int64), types.NullOf(types.Null), types.NullOf(types.String)}
	if _, err := ev.Request(context.Background(), nulls, src); err != nil {
		t.Errorf("a request of NULLs: %v", err)
	}
}

// failingSource fails every Scan of one table.
type failingSource struct {
	eval.Source
	table string
	err   error
}

func (s failingSource) Scan(ctx context.Context, q eval.Query) (*types.Block, error) {
	if q.Table == s.table {
		return nil, s.err
	}
	return s.Source.Scan(ctx, q)
}

func TestSourceErrorPropagates(t *testing.T) {
	t.Parallel()
	ev := errEvaluator(t)
	mem := eval.NewMemSource()
	mem.Create("tx", errTx.Schema)
	mem.Create("profile", errProfile.Schema)
	req := []types.Value{types.StringValue("a"), types.TimestampValue(1000), types.DoubleValue(1)}
	for _, table := range []string{"tx", "profile"} {
		boom := errors.New("storage: unavailable")
		_, err := ev.Request(context.Background(), req, failingSource{Source: mem, table: table, err: boom})
		if !errors.Is(err, boom) {
			t.Errorf("a Source failing on %s: Request error %v, want one wrapping %v", table, err, boom)
		}
	}
}

func TestCancelledContext(t *testing.T) {
	t.Parallel()
	ev := errEvaluator(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ev.Batch(ctx, errTables()); !errors.Is(err, context.Canceled) {
		t.Errorf("Batch with a cancelled context: %v, want context.Canceled", err)
	}
	mem := eval.NewMemSource()
	mem.Create("tx", errTx.Schema)
	mem.Create("profile", errProfile.Schema)
	req := []types.Value{types.StringValue("a"), types.TimestampValue(1000), types.DoubleValue(1)}
	if _, err := ev.Request(ctx, req, mem); !errors.Is(err, context.Canceled) {
		t.Errorf("Request with a cancelled context: %v, want context.Canceled", err)
	}
}

// cancellingSource cancels the request's context during its first Scan,
// as a deadline expiring mid-request would.
type cancellingSource struct {
	eval.Source
	cancel context.CancelFunc
}

func (s cancellingSource) Scan(ctx context.Context, q eval.Query) (*types.Block, error) {
	s.cancel()
	return s.Source.Scan(ctx, q)
}

func TestContextCancelledMidRequest(t *testing.T) {
	t.Parallel()
	ev := errEvaluator(t)
	mem := eval.NewMemSource()
	mem.Create("tx", errTx.Schema)
	mem.Create("profile", errProfile.Schema)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := []types.Value{types.StringValue("a"), types.TimestampValue(1000), types.DoubleValue(1)}
	out, err := ev.Request(ctx, req, cancellingSource{Source: mem, cancel: cancel})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Request cancelled mid-way = %v, %v; want context.Canceled", out, err)
	}
}

func TestErrInputMessage(t *testing.T) {
	t.Parallel()
	ev := errEvaluator(t)
	m := errTables()
	delete(m, "profile")
	_, err := ev.Batch(context.Background(), m)
	if err == nil || !strings.Contains(err.Error(), `"profile"`) {
		t.Errorf("missing table error %v does not name the table", err)
	}
}

// laterCancel is a context that reports cancellation after its Err has
// been asked n times: a deterministic cancellation in the middle of a run.
type laterCancel struct {
	context.Context
	n int
}

func (c *laterCancel) Err() error {
	if c.n--; c.n < 0 {
		return context.Canceled
	}
	return nil
}

// TestBatchStopsMidRun checks that Batch notices a cancellation while it
// slides windows, not only between plan nodes.
func TestBatchStopsMidRun(t *testing.T) {
	t.Parallel()
	p, err := featurelang.CompileQuery("q", `SELECT count(v) OVER w AS c FROM t
WINDOW w AS (PARTITION BY k ORDER BY ts ROWS BETWEEN 3 PRECEDING AND CURRENT ROW)`,
		[]*plan.Table{{Name: "t", Schema: types.Schema{{Name: "k", Type: types.Int64}, {Name: "v", Type: types.Int64}, {Name: "ts", Type: types.Timestamp}}}}, featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := eval.New(p)
	if err != nil {
		t.Fatal(err)
	}
	rows := types.NewBlock(p.Tables[0].Schema, 0)
	for i := range 5000 {
		rows.AppendRow([]types.Value{types.Int64Value(int64(i)), types.Int64Value(1), types.TimestampValue(int64(i))})
	}
	// Three checks pass (the project node, its input scan, the first
	// partition); the next, 1,024 partitions later, reports it.
	_, err = ev.Batch(&laterCancel{Context: context.Background(), n: 3}, map[string]*types.Block{"t": rows})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled from inside the window loop", err)
	}
}

// badSource returns blocks that do not fit the plan's table.
type badSource struct{ b *types.Block }

func (s badSource) Scan(context.Context, eval.Query) (*types.Block, error) { return s.b, nil }

// TestRequestRejectsMalformedSource checks that a Source returning rows of
// the wrong types or shape gives an error, not a panic.
func TestRequestRejectsMalformedSource(t *testing.T) {
	t.Parallel()
	schema := types.Schema{{Name: "k", Type: types.String}, {Name: "v", Type: types.Double}, {Name: "ts", Type: types.Timestamp}}
	p, err := featurelang.CompileQuery("q", `SELECT sum(v) OVER w AS s FROM t
WINDOW w AS (PARTITION BY k ORDER BY ts ROWS_RANGE BETWEEN 1h PRECEDING AND CURRENT ROW)`,
		[]*plan.Table{{Name: "t", Schema: schema}}, featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := eval.New(p)
	if err != nil {
		t.Fatal(err)
	}
	req := []types.Value{types.StringValue("a"), types.DoubleValue(1), types.TimestampValue(10)}
	wrongTypes := types.NewBlock(types.Schema{{Name: "k", Type: types.Int64}, {Name: "v", Type: types.Double}, {Name: "ts", Type: types.Timestamp}}, 0)
	ragged := types.NewBlock(schema, 0)
	ragged.AppendRow(req)
	ragged.Len = 2
	for name, b := range map[string]*types.Block{"wrong types": wrongTypes, "ragged": ragged} {
		if _, err := ev.Request(context.Background(), req, badSource{b}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
