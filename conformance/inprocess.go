package conformance

import (
	"context"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// InProcess is the Host that runs plans with the evaluator in this process.
// It rebuilds every plan from its JSON encoding first, as a remote host
// would, so the cases also prove that plans survive serialization.
type InProcess struct{}

// evaluator round-trips p through JSON and builds its evaluator.
func evaluator(p *plan.Plan) (*eval.Evaluator, error) {
	b, err := plan.Marshal(p)
	if err != nil {
		return nil, err
	}
	q, err := plan.Unmarshal(b)
	if err != nil {
		return nil, err
	}
	return eval.New(q)
}

// Batch implements Host.
func (InProcess) Batch(ctx context.Context, p *plan.Plan, tables map[string]*types.Block) (*types.Block, error) {
	ev, err := evaluator(p)
	if err != nil {
		return nil, err
	}
	return ev.Batch(ctx, tables)
}

// Open implements Host with an eval.MemSource store.
func (InProcess) Open(ctx context.Context, p *plan.Plan, tables []*plan.Table) (Session, error) {
	ev, err := evaluator(p)
	if err != nil {
		return nil, err
	}
	src := eval.NewMemSource()
	for _, t := range tables {
		src.Create(t.Name, t.Schema)
	}
	return &memSession{ev: ev, src: src}, nil
}

// memSession serves requests from the stored rows, and, for a plan with
// long windows, from tiles built from them as well: request mode over
// tiles must answer every case as over raw rows.
type memSession struct {
	ev    *eval.Evaluator
	src   *eval.MemSource
	tiles *eval.MemTiles // built on the first request after an insert
}

func (s *memSession) Insert(ctx context.Context, table string, rows *types.Block) error {
	s.tiles = nil
	return s.src.Insert(table, rows.Rows()...)
}

func (s *memSession) Request(ctx context.Context, row []types.Value) ([]types.Value, error) {
	if s.ev.Plan().Options["long_windows"] == "" {
		return s.ev.Request(ctx, row, s.src)
	}
	if s.tiles == nil {
		t, err := s.src.Tiled(ctx, s.ev)
		if err != nil {
			return nil, err
		}
		s.tiles = t
	}
	return s.ev.Request(ctx, row, s.tiles)
}

func (s *memSession) Close() error { return nil }
