package hot

import "fmt"

// Check reports the first broken invariant of s's memory: a run out of
// window order or out of step with its columns, a row under a key or TS
// not its own, a sequence number map out of step with the runs, or Rows
// counting otherwise.
func (s *Store) Check() error {
	total := 0
	for name, t := range *s.tables.Load() {
		t.mu.RLock()
		for x, ix := range t.ixs {
			n, err := ix.check()
			if err != nil {
				t.mu.RUnlock()
				return fmt.Errorf("table %s, index %d: %w", name, x, err)
			}
			total += n
		}
		t.mu.RUnlock()
	}
	if total != s.Rows() {
		return fmt.Errorf("memory holds %d rows, Rows says %d", total, s.Rows())
	}
	return nil
}

// check checks an index and returns how many rows it holds.
func (ix *index) check() (int, error) {
	n := 0
	for key, r := range ix.runs {
		if ix.byID[r.id] != r {
			return 0, fmt.Errorf("run %q: id %d names another run", key, r.id)
		}
		if r.key != key || r.len() == 0 || r.rows.Len != r.len() || len(r.ts) != r.len() {
			return 0, fmt.Errorf("run %q: key %q, %d rows, %d TS values, %d sequence numbers", key, r.key, r.rows.Len, len(r.ts), r.len())
		}
		for c := range r.rows.Cols {
			col := &r.rows.Cols[c]
			if col.Len() != r.len() || col.Nulls != nil && len(col.Nulls) != r.len() {
				return 0, fmt.Errorf("run %q: column %d holds %d values, %d NULL flags, for %d rows", key, c, col.Len(), len(col.Nulls), r.len())
			}
		}
		for p := range r.len() {
			if p > 0 && (r.ts[p-1] > r.ts[p] || r.ts[p-1] == r.ts[p] && r.seqs[p-1] >= r.seqs[p]) {
				return 0, fmt.Errorf("run %q: row %d is out of order", key, p)
			}
			if string(ix.rowKey(nil, r.rows, p)) != key || orderValue(r.rows, ix.tsCol, p) != r.ts[p] {
				return 0, fmt.Errorf("run %q: row %d (sequence %d) has another key or TS", key, p, r.seqs[p])
			}
			if at, ok := ix.bySeq[r.seqs[p]]; !ok || ix.byID[at.run] != r || at.ts != r.ts[p] {
				return 0, fmt.Errorf("run %q: sequence %d is not mapped to it", key, r.seqs[p])
			}
		}
		n += r.len()
	}
	live := 0
	for _, r := range ix.byID {
		if r != nil {
			live++
		}
	}
	if live != len(ix.runs) || live+len(ix.free) != len(ix.byID) {
		return 0, fmt.Errorf("%d runs by key, %d by id, %d ids free of %d", len(ix.runs), live, len(ix.free), len(ix.byID))
	}
	if n != len(ix.bySeq) {
		return 0, fmt.Errorf("%d rows, %d sequence numbers mapped", n, len(ix.bySeq))
	}
	return n, nil
}
