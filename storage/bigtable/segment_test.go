package bigtable

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
)

// segmentOf encodes rows of txRows's schema as one segment, newest first,
// and returns its qualifier and value.
func segmentOf(t testing.TB, stamp uint64, rows *types.Block, seqs []uint64) (qual, val []byte) {
	t.Helper()
	c, err := NewCodec(rows.Schema)
	if err != nil {
		t.Fatal(err)
	}
	live := make([]int, rows.Len)
	ps := make([]placed, rows.Len)
	for i := range live {
		live[i] = i
		ps[i] = placed{row: i, ts: rows.Cols[2].I[i], seq: seqs[i]}
	}
	tb := &table{codec: c}
	vals := tb.encodeRows(rows, live)
	slices.SortFunc(ps, func(a, b placed) int { return newestFirst(stored{ts: a.ts, seq: a.seq}, stored{ts: b.ts, seq: b.seq}) })
	return appendSegmentQualifier(nil, ps), appendSegment(nil, stamp, ps, vals)
}

// TestSegmentRoundTrip: a segment's rows decode back newest first, with
// their times, sequence numbers, stamp and encodings; the qualifier
// depends on the rows' times and sequence numbers only.
func TestSegmentRoundTrip(t *testing.T) {
	t.Parallel()
	rows := txRows(tx("a", 1, 3000), tx("a", 2, 1000), tx("a", 3, 3000), tx("a\x00", math.NaN(), math.MinInt64+1))
	seqs := []uint64{7, 1 << 63, 9, math.MaxUint64}
	qual, val := segmentOf(t, 42, rows, seqs)
	got, err := appendSegmentRows(nil, val)
	if err != nil {
		t.Fatal(err)
	}
	var desc []string
	for _, r := range got {
		desc = append(desc, fmt.Sprintf("%d/%d/%d", r.ts, r.seq, r.stamp))
	}
	want := []string{"3000/9/42", "3000/7/42", fmt.Sprintf("1000/%d/42", uint64(1<<63)), fmt.Sprintf("%d/%d/42", int64(math.MinInt64+1), uint64(math.MaxUint64))}
	if !slices.Equal(desc, want) {
		t.Errorf("rows %v, want %v", desc, want)
	}
	out := types.NewBlock(rows.Schema, 0)
	c, _ := NewCodec(rows.Schema)
	for _, r := range got {
		if err := c.Decode(r.val, out); err != nil {
			t.Fatal(err)
		}
	}
	if column(out.Rows(), 1) != "3 1 2 NaN" {
		t.Errorf("amounts %s", column(out.Rows(), 1))
	}
	rows.Cols[1].F[0] = 99 // other values, the same times and sequence numbers
	again, other := segmentOf(t, 43, rows, seqs)
	if !bytes.Equal(again, qual) || bytes.Equal(other, val) {
		t.Error("the qualifier must depend on times and sequence numbers only, the value on the rows")
	}
	if _, drop := segmentOf(t, 42, txRows(tx("a", 1, 3000)), []uint64{7}); bytes.Equal(drop, val) {
		t.Error("a segment of other rows encodes alike")
	}
	for n := range len(val) { // every truncation is an error, never a panic
		if _, err := appendSegmentRows(nil, val[:n]); err == nil {
			t.Errorf("truncated to %d bytes: no error", n)
		}
	}
}

// TestMergeSegments: rows of several segments of a Bigtable row merge
// newest first, the copy of the latest write winning.
func TestMergeSegments(t *testing.T) {
	t.Parallel()
	rows := []stored{
		{ts: 5, seq: 1, stamp: 1, val: []byte("old")}, {ts: 2, seq: 2, stamp: 1},
		{ts: 5, seq: 1, stamp: 2, val: []byte("new")}, {ts: 3, seq: 3, stamp: 2}, {ts: 2, seq: 4, stamp: 2},
	}
	got := mergeSegments(rows, false)
	var desc []string
	for _, r := range got {
		desc = append(desc, fmt.Sprintf("%d/%d/%d%s", r.ts, r.seq, r.stamp, r.val))
	}
	if want := []string{"5/1/2new", "3/3/2", "2/4/2", "2/2/1"}; !slices.Equal(desc, want) {
		t.Errorf("merged %v, want %v", desc, want)
	}
}

// TestLargeDay: one key's rows of one day larger than a segment are cut
// into several, each write fits the emulator's default message size, and
// reading back (whole, with limits, in time ranges) and rewriting behave.
func TestLargeDay(t *testing.T) {
	t.Parallel()
	s := initStore(t, `CREATE TABLE tx (card string, note string, ts timestamp, INDEX(KEY=card, TS=ts));`, Config{NoGC: true})
	ctx := context.Background()
	schema := types.Schema{{Name: "card", Type: types.String}, {Name: "note", Type: types.String}, {Name: "ts", Type: types.Timestamp}}
	const n = 6000
	note := string(bytes.Repeat([]byte("x"), 200)) // 6,000 rows of ~220 bytes: several segments
	rows := types.NewBlock(schema, n)
	seqs := make([]uint64, n)
	for i := range n {
		rows.AppendRow([]types.Value{types.StringValue("a"), types.StringValue(note), types.TimestampValue(int64(i / 3))})
		seqs[i] = uint64(i)
	}
	for range 2 { // the second write rewrites the same segments
		if err := s.Write(ctx, "tx", rows, seqs); err != nil {
			t.Fatal(err)
		}
	}
	prefix := appendKey([]byte{0}, types.String, types.StringValue("a"))
	bt, err := s.client.Open("fenestra_tx").ReadRow(ctx, string(appendDay(prefix, 0)))
	if err != nil {
		t.Fatal(err)
	}
	if cells := len(bt["i0"]); cells < 4 || cells > 8 {
		t.Errorf("%d cells hold the day's 1.3 MB of rows, want about 1.3 MB / 256 KiB", cells)
	}
	key := []types.Value{types.StringValue("a")}
	for _, c := range []struct {
		r    storage.Range
		want int
	}{
		{storage.Range{From: math.MinInt64, To: math.MaxInt64}, n},
		{storage.Range{From: 100, To: 199}, 300},
		{storage.Range{From: math.MinInt64, To: math.MaxInt64, Limit: 2500}, 2500},
		{storage.Range{From: 0, To: 10, Limit: 7}, 7},
	} {
		c.r.Table, c.r.Keys, c.r.Values, c.r.TS = "tx", []string{"card"}, key, "ts"
		got, err := s.Read(ctx, c.r)
		if err != nil {
			t.Fatal(err)
		}
		if got.Len != c.want {
			t.Errorf("%+v: %d rows, want %d", c.r, got.Len, c.want)
			continue
		}
		ts := got.Cols[2].I
		if !slices.IsSorted(ts) || ts[0] < c.r.From || ts[len(ts)-1] > c.r.To {
			t.Errorf("%+v: times %d..%d, not sorted in range", c.r, ts[0], ts[len(ts)-1])
		}
		if c.r.Limit > 0 && c.r.To == math.MaxInt64 && ts[len(ts)-1] != (n-1)/3 {
			t.Errorf("%+v: the newest rows are kept, got up to %d", c.r, ts[len(ts)-1])
		}
	}
}

// FuzzSegment: any bytes decode as a segment or fail, never panic, and a
// segment that decodes has rows within its bytes.
func FuzzSegment(f *testing.F) {
	_, val := segmentOf(f, 42, txRows(tx("a", 1, 3000), tx("b", 2, -1)), []uint64{1, 2})
	f.Add(val)
	f.Add([]byte{segmentFormat, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := appendSegmentRows(nil, data)
		if err != nil {
			return
		}
		total := 0
		for _, r := range rows {
			total += len(r.val)
		}
		if total > len(data) {
			t.Fatalf("%d bytes of rows in a %d-byte segment", total, len(data))
		}
	})
}
