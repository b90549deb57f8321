package bigtable

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/bigtable"

	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
)

// waitCompacted waits until s has no day row queued for compaction.
func waitCompacted(t testing.TB, s *Store) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !s.compact.idle(); {
		if time.Now().After(deadline) {
			t.Fatalf("compaction still busy after 20 s: %+v", s.CompactStats())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// dayRowCells returns the qualifiers of the segments of the day row of
// tx's card key at ts, and its version cell's value.
func dayRowCells(t testing.TB, s *Store, card string, ts int64) (segments []string, version []byte) {
	t.Helper()
	ctx := context.Background()
	tb, err := s.table(ctx, "tx")
	if err != nil {
		t.Fatal(err)
	}
	key := tb.rowKey(nil, 0, txRows(tx(card, 0, ts)), 0, ts)
	row, err := tb.bt.ReadRow(ctx, string(key), bigtable.RowFilter(bigtable.FamilyFilter("i0")))
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range row["i0"] {
		switch q := it.Column[len("i0:"):]; len(q) {
		case 0:
			version = it.Value
		case qualifierLen:
			segments = append(segments, q)
		}
	}
	return segments, version
}

// readWithSeqs reads every row of card, newest first, as text with their
// sequence numbers.
func readWithSeqs(t testing.TB, s *Store, card string) string {
	t.Helper()
	ctx := context.Background()
	tb, err := s.table(ctx, "tx")
	if err != nil {
		t.Fatal(err)
	}
	r := storage.Range{Table: "tx", Keys: []string{"card"}, Values: []types.Value{types.StringValue(card)}, From: -1 << 62, To: 1 << 62, NewestFirst: true}
	out := types.NewBlock(tb.def.Schema, 0)
	var seqs []uint64
	if err := s.readKey(ctx, tb, 0, tb.def.Indexes[0], r, out, &seqs); err != nil {
		t.Fatal(err)
	}
	text := ""
	for i, row := range out.Rows() {
		text += fmt.Sprintf("%d %v\n", seqs[i], row)
	}
	return text
}

// TestCompaction writes a card's day a row at a time, with a row written
// again in another segment (the later copy wins), and checks that a read queues the day row,
// which is rewritten as one segment holding the same rows with the same
// sequence numbers, its version cell unchanged; a row of another day is
// left alone.
func TestCompaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := initStore(t, txSQL, Config{NoGC: true, CompactAt: 4})
	const day = 86_400_000
	write := func(seq uint64, amount float64, ts int64) {
		if err := s.Write(ctx, "tx", txRows(tx("a", amount, ts)), []uint64{seq}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 12 {
		write(uint64(i+1), float64(i), 5*day+int64(i)*1000)
	}
	// Row 3 again, another amount, in a write with row 13: another
	// segment, whose copy of row 3 is the later one.
	if err := s.Write(ctx, "tx", txRows(tx("a", 300, 5*day+2000), tx("a", 13, 5*day+13_000)), []uint64{3, 13}); err != nil {
		t.Fatal(err)
	}
	write(100, 1, 2*day) // another day: one segment
	segs, version := dayRowCells(t, s, "a", 5*day)
	if len(segs) != 13 {
		t.Fatalf("before compaction: %d segments, want 13", len(segs))
	}
	before := readWithSeqs(t, s, "a")
	waitCompacted(t, s)
	st := s.CompactStats()
	if st.Compacted != 1 || st.Segments != 13 || st.Conflicts != 0 || st.Failed != 0 {
		t.Fatalf("compaction stats %+v; want 1 row of 13 segments compacted", st)
	}
	segs2, version2 := dayRowCells(t, s, "a", 5*day)
	if len(segs2) != 1 || string(version2) != string(version) {
		t.Errorf("after compaction: %d segments (want 1), version %x (want %x, unchanged)", len(segs2), version2, version)
	}
	if other, _ := dayRowCells(t, s, "a", 2*day); len(other) != 1 {
		t.Errorf("the other day row has %d segments, want 1", len(other))
	}
	after := readWithSeqs(t, s, "a")
	if after != before {
		t.Errorf("rows after compaction:\n%s\nwant, as before:\n%s", after, before)
	}
	if want := "3 [a 300 "; !slices.ContainsFunc(splitLines(after), func(l string) bool { return strings.HasPrefix(l, want) }) {
		t.Errorf("row 3's later copy (amount 300) is not the one read:\n%s", after)
	}
	// Writes go on into the compacted row, and a read compacts it again.
	write(3, 301, 5*day+2000)
	for i := 20; i < 24; i++ {
		write(uint64(i), float64(i), 5*day+int64(i)*1000)
	}
	before = readWithSeqs(t, s, "a")
	waitCompacted(t, s)
	if segs3, _ := dayRowCells(t, s, "a", 5*day); len(segs3) != 1 || readWithSeqs(t, s, "a") != before {
		t.Errorf("second compaction: %d segments, rows\n%s\nwant 1 segment and\n%s", len(segs3), readWithSeqs(t, s, "a"), before)
	}
}

func splitLines(s string) []string { return strings.Split(strings.TrimSuffix(s, "\n"), "\n") }

// TestCompactionConflict writes into a day row between compaction's read
// of it and its rewrite: the rewrite is not applied, and the row written
// meanwhile is read, as every row before it.
func TestCompactionConflict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := initStore(t, txSQL, Config{NoGC: true, CompactAt: 3})
	const ts = 9 * 86_400_000
	for i := range 5 {
		if err := s.Write(ctx, "tx", txRows(tx("b", float64(i), ts+int64(i))), []uint64{uint64(i + 1)}); err != nil {
			t.Fatal(err)
		}
	}
	s.compact.beforeApply = func() {
		s.compact.beforeApply = nil
		if err := s.Write(ctx, "tx", txRows(tx("b", 50, ts+50)), []uint64{50}); err != nil {
			t.Error(err)
		}
	}
	readWithSeqs(t, s, "b") // queues the row
	waitCompacted(t, s)
	if st := s.CompactStats(); st.Conflicts != 1 || st.Compacted != 0 {
		t.Fatalf("compaction stats %+v; want 1 conflict, nothing compacted", st)
	}
	segs, _ := dayRowCells(t, s, "b", ts)
	got := readWithSeqs(t, s, "b")
	if len(segs) != 6 || len(splitLines(got)) != 6 || !strings.HasPrefix(got, "50 [b 50 ") {
		t.Errorf("after the conflict: %d segments, rows\n%s\nwant 6 segments, 6 rows, the newest row 50", len(segs), got)
	}
	// The next read compacts it, the row written meanwhile included.
	waitCompacted(t, s)
	if segs, _ := dayRowCells(t, s, "b", ts); len(segs) != 1 || readWithSeqs(t, s, "b") != got {
		t.Errorf("after the next compaction: %d segments, rows\n%s\nwant 1 and\n%s", len(segs), readWithSeqs(t, s, "b"), got)
	}
}
