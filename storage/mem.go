package storage

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// Mem is an in-memory Store, for tests of other packages and local runs.
// It keeps every row with its sequence number and reads by filtering and
// sorting, so it is the reference the other implementations are tested
// against (see storagetest). Safe for concurrent use.
type Mem struct {
	mu     sync.RWMutex
	now    Clock
	tables map[string]*memTable
	writes uint64 // Write calls so far: the stamp of the next is writes+1
	// deployments are the stored deployments, by deploymentKey.
	deployments map[string]Deployment
}

type memTable struct {
	def  *plan.Table
	rows *types.Block
	seqs []uint64
	// stamps[i] is the stamp of the Write call that last wrote row i:
	// bucket tokens (see memToken) hash them.
	stamps []uint64
	// bySeq maps a sequence number to its row, so a rewrite overwrites.
	bySeq map[uint64]int
	// tiles are the table's tiles, one per identity (see TileStore).
	tiles []Tile
}

var (
	_ TileStore       = (*Mem)(nil)
	_ DeploymentStore = (*Mem)(nil)
)

// NewMem returns an empty store whose TTLs use clock now (time.Now when
// nil).
func NewMem(now Clock) *Mem {
	if now == nil {
		now = time.Now
	}
	return &Mem{now: now, tables: map[string]*memTable{}, deployments: map[string]Deployment{}}
}

// Init implements Store.
func (m *Mem) Init(ctx context.Context, tables []*plan.Table) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range tables {
		if old, ok := m.tables[t.Name]; ok {
			if !sameDefinition(old.def, t) {
				return fmt.Errorf("%w: table %s exists with columns (%s)", ErrSchema, t.Name, old.def.Schema)
			}
			continue
		}
		m.tables[t.Name] = &memTable{def: t, rows: types.NewBlock(t.Schema, 0), bySeq: map[uint64]int{}}
	}
	return nil
}

// sameDefinition compares schemas and indexes.
func sameDefinition(a, b *plan.Table) bool {
	pa, _ := plan.Marshal(&plan.Plan{Tables: []*plan.Table{a}})
	pb, _ := plan.Marshal(&plan.Plan{Tables: []*plan.Table{b}})
	return string(pa) == string(pb)
}

func (m *Mem) table(name string) (*memTable, error) {
	t, ok := m.tables[name]
	if !ok {
		return nil, &NoTableError{Table: name}
	}
	return t, nil
}

// Describe implements Store.
func (m *Mem) Describe(ctx context.Context, table string) (*plan.Table, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	t, err := m.table(table)
	if err != nil {
		return nil, err
	}
	return t.def, nil
}

// Write implements Store.
func (m *Mem) Write(ctx context.Context, table string, rows *types.Block, seqs []uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, err := m.table(table)
	if err != nil {
		return err
	}
	if err := CheckRows(t.def, rows, seqs); err != nil {
		return err
	}
	m.writes++
	for i := 0; i < rows.Len; i++ {
		row := rows.Row(i, nil)
		if at, ok := t.bySeq[seqs[i]]; ok {
			for c := range t.rows.Cols {
				t.rows.Cols[c].Set(at, row[c])
			}
			t.stamps[at] = m.writes
			continue
		}
		t.bySeq[seqs[i]] = t.rows.Len
		t.rows.AppendRow(row)
		t.seqs = append(t.seqs, seqs[i])
		t.stamps = append(t.stamps, m.writes)
	}
	return ctx.Err()
}

// Dump implements Dumper: every row of the table, once, in the order first
// written, in one block; a row's stamp is that of the Write that last
// wrote it.
func (m *Mem) Dump(ctx context.Context, table string, f func(rows *types.Block, seqs, stamps []uint64) error) error {
	m.mu.RLock()
	t, err := m.table(table)
	if err != nil {
		m.mu.RUnlock()
		return err
	}
	all := make([]int, t.rows.Len)
	for i := range all {
		all[i] = i
	}
	rows, seqs, stamps := t.rows.Gather(all), slices.Clone(t.seqs), slices.Clone(t.stamps)
	m.mu.RUnlock()
	return f(rows, seqs, stamps)
}

// CheckRows reports rows that do not fit a table's schema, or a sequence
// slice of the wrong length.
func CheckRows(def *plan.Table, rows *types.Block, seqs []uint64) error {
	if len(seqs) != rows.Len {
		return fmt.Errorf("storage: %d rows but %d sequence numbers", rows.Len, len(seqs))
	}
	if len(rows.Schema) != len(def.Schema) {
		return fmt.Errorf("%w: rows of %d columns for table %s (%s)", ErrSchema, len(rows.Schema), def.Name, def.Schema)
	}
	for i, f := range def.Schema {
		if rows.Schema[i].Type != f.Type {
			return fmt.Errorf("%w: column %d (%s) of table %s is %s, rows have %s", ErrSchema, i+1, f.Name, def.Name, f.Type, rows.Schema[i].Type)
		}
	}
	return nil
}

// Read implements Store.
func (m *Mem) Read(ctx context.Context, r Range) (*types.Block, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	t, err := m.table(r.Table)
	if err != nil {
		return nil, err
	}
	_, ix, err := FindIndex(t.def, r.Keys, r.TS)
	if err != nil {
		return nil, err
	}
	tsCol := t.def.Schema.Index(ix.TS)
	rows := t.keyRows(ix, r.Keys, r.Values, At(m.now, r.AsOf)) // newest first, TTL applied
	var out []int
	for _, i := range rows {
		ts := orderValue(t.rows, tsCol, i)
		if ts >= r.From && ts <= r.To {
			out = append(out, i)
			if r.Limit > 0 && len(out) == r.Limit {
				break
			}
		}
	}
	if !r.NewestFirst {
		slices.Reverse(out)
	}
	return t.rows.Gather(out), ctx.Err()
}

// keyRows returns the rows of one key of index ix, newest first (by TS,
// then sequence), without those its TTL expired at now.
func (t *memTable) keyRows(ix *plan.Index, keys []string, values []types.Value, now time.Time) []int {
	var rows []int
	for i := 0; i < t.rows.Len; i++ {
		if matches(t.rows, i, keys, values) {
			rows = append(rows, i)
		}
	}
	return t.newestLive(rows, ix, now)
}

// newestLive sorts rows of one key newest first and drops those the TTL of
// ix expired at now (a latest TTL ranks within the key).
func (t *memTable) newestLive(rows []int, ix *plan.Index, now time.Time) []int {
	tsCol := t.def.Schema.Index(ix.TS)
	slices.SortFunc(rows, func(a, b int) int {
		if ta, tb := orderValue(t.rows, tsCol, a), orderValue(t.rows, tsCol, b); ta != tb {
			return cmpDesc(ta, tb)
		}
		return -cmp.Compare(t.seqs[a], t.seqs[b])
	})
	out := rows[:0]
	for rank, i := range rows {
		if !Expired(ix, now, orderValue(t.rows, tsCol, i), rank) {
			out = append(out, i)
		}
	}
	return out
}

// live returns the rows of the table that index ix keeps at now, in row
// order.
func (t *memTable) live(ix *plan.Index, now time.Time) []int {
	groups := map[string][]int{}
	var order []string
	for i := 0; i < t.rows.Len; i++ {
		k := keyString(t.rows, i, ix.Keys)
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	var rows []int
	for _, k := range order {
		rows = append(rows, t.newestLive(groups[k], ix, now)...)
	}
	slices.Sort(rows)
	return rows
}

// keyString renders a row's key columns as a map key.
func keyString(b *types.Block, i int, keys []string) string {
	var out []byte
	for _, k := range keys {
		v := b.Cols[b.Schema.Index(k)].Value(i)
		if v.Type.IsFloat() && v.F == 0 {
			v.F = 0 // -0 and +0 are one key, as in Read
		}
		out = fmt.Appendf(out, "%t|%s|%d\x00", v.Null, v.Type, len(v.String()))
		out = append(out, v.String()...)
	}
	return string(out)
}

func cmpDesc(a, b int64) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}

// orderValue is a row's TS, with NULL (and no TS column) as MinInt64, as
// windows order them.
func orderValue(b *types.Block, col, row int) int64 {
	if col < 0 || b.Cols[col].IsNull(row) {
		return math.MinInt64
	}
	return b.Cols[col].I[row]
}

// matches reports whether row i has the key values (NULL equal to NULL).
func matches(b *types.Block, i int, keys []string, values []types.Value) bool {
	for k, name := range keys {
		v := b.Cols[b.Schema.Index(name)].Value(i)
		w := values[k]
		if v.Null || w.Null {
			if v.Null != w.Null {
				return false
			}
			continue
		}
		if types.Compare(v, w) != 0 {
			return false
		}
	}
	return true
}

// Scan implements eval.Source. With TS set and an index on the keys, it is
// Read: one key's rows in a time range, oldest first. Otherwise it takes
// the rows of the key (or of the whole table) in arrival order, through
// the index on the keys or else the table's first index, whose TTL
// applies, and, with TS set, FinishScan keeps those in the time range,
// ordered by time.
func (m *Mem) Scan(ctx context.Context, q eval.Query) (*types.Block, error) {
	m.mu.RLock()
	t, err := m.table(q.Table)
	m.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	_, ix, ixErr := FindIndex(t.def, q.Keys, q.TS)
	if q.TS != "" && len(q.Keys) > 0 && ixErr == nil {
		return m.Read(ctx, Range{Table: q.Table, Keys: q.Keys, Values: q.Values, TS: q.TS, From: q.From, To: q.To, Limit: q.Limit, AsOf: q.AsOf})
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if ixErr != nil {
		if len(t.def.Indexes) == 0 {
			return nil, fmt.Errorf("%w: table %s has no index", ErrNoIndex, t.def.Name)
		}
		ix = t.def.Indexes[0]
	}
	var rows []int
	for _, i := range t.live(ix, At(m.now, q.AsOf)) {
		if matches(t.rows, i, q.Keys, q.Values) {
			rows = append(rows, i)
		}
	}
	slices.SortFunc(rows, func(a, b int) int { return cmp.Compare(t.seqs[a], t.seqs[b]) })
	return FinishScan(t.rows.Gather(rows), q), ctx.Err()
}
