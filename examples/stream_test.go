package examples

import (
	"errors"
	"fmt"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/rowcsv"
)

// memTables collects what Stream writes, and checks how it writes it: a
// table at a time, each once, and (if streamed) the transactions in
// blocks of at most StreamBlock rows.
type memTables struct {
	t        *testing.T
	tables   map[string]*memTable
	open     *memTable
	streamed bool
}

type memTable struct {
	m      *memTables
	rows   *types.Block
	closed bool
	fail   error // returned by the second Write
	writes int
}

func (m *memTables) create(t *plan.Table) (TableWriter, error) {
	if m.open != nil && !m.open.closed {
		m.t.Errorf("%s created while another table is open", t.Name)
	}
	if m.tables[t.Name] != nil {
		m.t.Errorf("%s created twice", t.Name)
	}
	m.open = &memTable{m: m, rows: types.NewBlock(t.Schema, 0)}
	m.tables[t.Name] = m.open
	return m.open, nil
}

func (w *memTable) Write(b *types.Block) error {
	if w.closed {
		w.m.t.Error("Write after Close")
	}
	if w.writes++; w.writes == 2 && w.fail != nil {
		return w.fail
	}
	if w.m.streamed && w.m.tables["tx"] == w && b.Len > StreamBlock {
		w.m.t.Errorf("a block of %d transactions, more than %d", b.Len, StreamBlock)
	}
	for i := range b.Len {
		w.rows.AppendFrom(b, i)
	}
	return nil
}

func (w *memTable) Close() error {
	w.closed = true
	return nil
}

// TestStreamCards: Stream writes the rows Generate returns, in the same
// order, whatever the number of rows (one, fewer than a late transaction
// moves, more than a block, not a multiple of one), and so does the
// in-memory path of an example that does not stream.
func TestStreamCards(t *testing.T) {
	t.Parallel()
	e, err := Lookup("cards")
	if err != nil {
		t.Fatal(err)
	}
	inMemory := *e
	inMemory.stream = nil
	for _, n := range []int{1, 7, 1000, 54321} {
		for _, ex := range []*Example{e, &inMemory} {
			t.Run(fmt.Sprintf("%d rows, streaming %v", n, ex.stream != nil), func(t *testing.T) {
				t.Parallel()
				cfg := Config{Rows: n, Seed: 3, Start: testStart}
				want, err := ex.Generate(cfg)
				if err != nil {
					t.Fatal(err)
				}
				m := &memTables{t: t, tables: map[string]*memTable{}, streamed: ex.stream != nil}
				if err := ex.Stream(cfg, m.create); err != nil {
					t.Fatal(err)
				}
				for _, tb := range ex.Module.Tables {
					got := m.tables[tb.Name]
					if got == nil || !got.closed {
						t.Fatalf("%s: not written and closed", tb.Name)
					}
					if a, b := rowcsv.Format(got.rows), rowcsv.Format(want[tb.Name]); a != b {
						t.Errorf("%s: streamed %d rows, Generate %d, not the same", tb.Name, got.rows.Len, want[tb.Name].Len)
					}
				}
			})
		}
	}
}

// TestStreamError: Stream returns a writer's error, and closes it.
func TestStreamError(t *testing.T) {
	t.Parallel()
	e, err := Lookup("cards")
	if err != nil {
		t.Fatal(err)
	}
	m := &memTables{t: t, tables: map[string]*memTable{}}
	bad := errors.New("disk full")
	create := func(tb *plan.Table) (TableWriter, error) {
		w, err := m.create(tb)
		if tb.Name == "tx" {
			w.(*memTable).fail = bad
		}
		return w, err
	}
	if err := e.Stream(Config{Rows: 3 * StreamBlock, Seed: 1, Start: testStart}, create); !errors.Is(err, bad) {
		t.Errorf("Stream = %v, want %v", err, bad)
	}
	if tx := m.tables["tx"]; tx == nil || !tx.closed {
		t.Error("the failed writer was not closed")
	}
	if err := e.Stream(Config{Rows: 0, Start: testStart}, create); err == nil {
		t.Error("0 rows: no error")
	}
}
