package eval

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// MemSource is an in-memory Source: tables of rows in arrival order. Scans
// are linear; it is meant for tests, the conformance runner and small
// local runs. It is safe for concurrent use.
type MemSource struct {
	mu     sync.RWMutex
	tables map[string]*types.Block
}

// NewMemSource returns an empty source.
func NewMemSource() *MemSource { return &MemSource{tables: map[string]*types.Block{}} }

// Create adds an empty table (replacing any table of that name).
func (m *MemSource) Create(name string, schema types.Schema) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tables[name] = types.NewBlock(schema, 0)
}

// Insert appends rows to a table created before; each row must match its
// schema.
func (m *MemSource) Insert(name string, rows ...[]types.Value) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.tables[name]
	if !ok {
		return fmt.Errorf("memsource: unknown table %q", name)
	}
	for _, r := range rows {
		if len(r) != len(b.Schema) {
			return fmt.Errorf("memsource: %s row has %d values, want %d", name, len(r), len(b.Schema))
		}
		b.AppendRow(r)
	}
	return nil
}

// Scan implements Source.
func (m *MemSource) Scan(ctx context.Context, q Query) (*types.Block, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	b, ok := m.tables[q.Table]
	if !ok {
		return nil, fmt.Errorf("memsource: unknown table %q", q.Table)
	}
	keyCols := make([]int, len(q.Keys))
	for i, k := range q.Keys {
		if keyCols[i] = b.Schema.Index(k); keyCols[i] < 0 {
			return nil, fmt.Errorf("memsource: table %q has no column %q", q.Table, k)
		}
	}
	var want, buf []byte
	for _, v := range q.Values {
		want = appendKey(want, v)
	}
	tsCol := -1
	if q.TS != "" {
		if tsCol = b.Schema.Index(q.TS); tsCol < 0 {
			return nil, fmt.Errorf("memsource: table %q has no column %q", q.Table, q.TS)
		}
	}
	var rows []int
	for i := 0; i < b.Len; i++ {
		buf = buf[:0]
		for _, c := range keyCols {
			buf = appendKey(buf, b.Cols[c].Value(i))
		}
		if string(buf) != string(want) {
			continue
		}
		if tsCol >= 0 && (b.Cols[tsCol].IsNull(i) || b.Cols[tsCol].I[i] < q.From || b.Cols[tsCol].I[i] > q.To) {
			continue
		}
		rows = append(rows, i)
	}
	if tsCol >= 0 {
		ts := b.Cols[tsCol].I
		slices.SortStableFunc(rows, func(x, y int) int { return cmpInt(ts[x], ts[y]) })
		if q.Limit > 0 && len(rows) > q.Limit {
			rows = rows[len(rows)-q.Limit:]
		}
	}
	return b.Gather(rows), ctx.Err()
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
