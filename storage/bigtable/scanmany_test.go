package bigtable

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	btpb "cloud.google.com/go/bigtable/apiv2/bigtablepb"
	"google.golang.org/grpc"

	"github.com/fenestra-dev/fenestra/emulators"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// scanManySQL has an index without TTL, one with an absolute TTL, one
// whose TTL has a latest part (read by Scan), one with an absandlat TTL
// of no latest count, an index without TS, and TS columns that may be
// NULL.
const scanManySQL = `
CREATE TABLE sm (k string, b bigint, v int, ts timestamp, t2 bigint, x int,
  INDEX(KEY=k, TS=ts),
  INDEX(KEY=b, TS=ts, TTL=2d, TTL_TYPE=absolute),
  INDEX(KEY=(k, b), TS=ts, TTL=(3d, 2), TTL_TYPE=absorlat),
  INDEX(KEY=b, TS=t2, TTL=(1d, 0), TTL_TYPE=absandlat),
  INDEX(KEY=v));`

// TestScanManyAgainstScan writes random rows (equal times, NULL times,
// several segments a day row, rows written again with the same sequence
// number, some at another time) and requires ScanMany to return, for each
// of random sets of queries, what Scan returns for it, value by value, in
// a block of its own, as the clock moves through the rows' times.
func TestScanManyAgainstScan(t *testing.T) {
	t.Parallel()
	const day = int64(dayWidth)
	base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	var clock atomic.Int64
	clock.Store(base + 2*day)
	addr, _ := startCheckedEmulator(t)
	s := openStore(t, addr, Config{Clock: func() time.Time { return time.UnixMilli(clock.Load()) }, NoGC: true})
	ctx := context.Background()
	if err := s.Init(ctx, compile(t, scanManySQL)); err != nil {
		t.Fatal(err)
	}
	tbl, err := s.table(ctx, "sm")
	if err != nil {
		t.Fatal(err)
	}
	def := tbl.def
	rng := rand.New(rand.NewPCG(3, 4))
	keyK := []types.Value{types.NullOf(types.String), types.StringValue("a"), types.StringValue("b"), types.StringValue("c")}
	keyB := []types.Value{types.NullOf(types.Int64), types.Int64Value(-1), types.Int64Value(1)}
	keyV := []types.Value{types.IntValue(types.Int32, 1), types.IntValue(types.Int32, 2)}
	pick := func(vals []types.Value) types.Value { return vals[rng.IntN(len(vals))] }
	// Times fall on quarter hours of 6 days: equal times are common.
	randTS := func() int64 { return base + rng.Int64N(6*96)*day/96 }
	tsValue := func() types.Value {
		if rng.IntN(10) == 0 {
			return types.NullOf(types.Timestamp)
		}
		return types.TimestampValue(randTS())
	}
	bySeq := map[uint64][]types.Value{}
	var seqList []uint64
	seq := uint64(0)
	queries, batched, compared := 0, 0, 0
	for round := range 10 {
		rows := types.NewBlock(def.Schema, 0)
		var seqs []uint64
		for range 30 + rng.IntN(60) { // a write per round: more segments a day row each round
			x := types.IntValue(types.Int32, rng.Int64N(1000))
			var row []types.Value
			var sq uint64
			switch {
			case len(seqList) > 0 && rng.IntN(4) == 0: // written again: a new x, perhaps another time
				sq = seqList[rng.IntN(len(seqList))]
				row = slices.Clone(bySeq[sq])
				row[5] = x
				if rng.IntN(3) == 0 && !row[3].Null { // the same day, another time
					row[3].I = row[3].I - row[3].I%day + rng.Int64N(96)*day/96
				}
			default:
				t2 := types.Int64Value(randTS() + rng.Int64N(3) - 1)
				if rng.IntN(10) == 0 {
					t2 = types.NullOf(types.Int64)
				}
				row = []types.Value{pick(keyK), pick(keyB), pick(keyV), tsValue(), t2, x}
				seq += 1 + uint64(rng.IntN(3))
				sq = seq
				seqList = append(seqList, sq)
			}
			bySeq[sq] = row
			rows.AppendRow(row)
			seqs = append(seqs, sq)
		}
		if err := s.Write(ctx, "sm", rows, seqs); err != nil {
			t.Fatal(err)
		}
		clock.Add(rng.Int64N(day / 2)) // the absolute TTLs cut inside the rows' days
		for range 40 {
			qs := randScanMany(rng, randTS, keyK, keyB, keyV)
			got, err := s.ScanMany(ctx, qs)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(qs) {
				t.Fatalf("round %d: %d blocks for %d queries", round, len(got), len(qs))
			}
			for i, q := range qs {
				want, err := s.Scan(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if d := blockDiff(got[i], want); d != "" {
					t.Fatalf("round %d, query %d of %d %+v at %d: ScanMany and Scan differ: %s", round, i, len(qs), q, clock.Load(), d)
				}
				compared += want.Len
				scribble(got[i]) // which no other query's block may see
				if _, _, ok := batchIndex(tbl, q); ok {
					batched++
				}
			}
			queries += len(qs)
		}
	}
	if compared < 10_000 || batched < queries/2 {
		t.Errorf("only %d rows compared over %d queries, %d of them read together", compared, queries, batched)
	}
	t.Logf("%d queries (%d read together), %d rows compared", queries, batched, compared)
}

// randScanMany returns a random set of queries of table sm: ranges of a
// few keys (equal, overlapping, adjacent, disjoint, empty, reversed,
// unbounded), mixed with whole keys, limits, and queries Scan answers
// alone.
func randScanMany(rng *rand.Rand, randTS func() int64, keyK, keyB, keyV []types.Value) []eval.Query {
	pick := func(vals []types.Value) types.Value { return vals[rng.IntN(len(vals))] }
	keys := []eval.Query{{Keys: []string{"k"}, Values: []types.Value{pick(keyK)}, TS: "ts"}}
	for range rng.IntN(3) {
		q := eval.Query{Keys: []string{"k"}, Values: []types.Value{pick(keyK)}, TS: "ts"}
		switch rng.IntN(3) {
		case 0:
			q.Keys, q.Values = []string{"b"}, []types.Value{pick(keyB)}
		case 1:
			q.Keys, q.Values, q.TS = []string{"b"}, []types.Value{pick(keyB)}, "t2"
		}
		keys = append(keys, q)
	}
	qs := make([]eval.Query, 1+rng.IntN(10))
	for i := range qs {
		q := keys[rng.IntN(len(keys))]
		q.Table, q.From, q.To = "sm", randTS(), randTS()
		switch rng.IntN(12) {
		case 0:
			q.From = math.MinInt64 // NULL times too
		case 1:
			q.To = math.MaxInt64
		case 2:
			q.From = q.To + 1 // empty
		case 3, 4:
			if i > 0 { // beside or over the previous one
				p := qs[i-1]
				q.Keys, q.Values, q.TS = p.Keys, p.Values, p.TS
				q.From = p.To + 1 - rng.Int64N(2)*rng.Int64N(max(1, min(p.To-p.From, 1<<40)))
			}
		case 5:
			if i > 0 {
				q = qs[i-1] // the same query again
			}
		case 6:
			q.TS = "" // a whole key, in arrival order
		case 7:
			q.Limit = 1 + rng.IntN(4)
		case 8: // an index whose TTL has a latest part
			q.Keys, q.Values = []string{"k", "b"}, []types.Value{pick(keyK), pick(keyB)}
		case 9: // the index without TS, which does not serve a TS
			q.Keys, q.Values = []string{"v"}, []types.Value{pick(keyV)}
			if rng.IntN(2) == 0 {
				q.TS = ""
			}
		case 10:
			if rng.IntN(4) == 0 {
				q.Keys, q.Values, q.TS = nil, nil, "" // the whole table
			}
		}
		if q.From > q.To && rng.IntN(3) > 0 {
			q.From, q.To = q.To, q.From
		}
		qs[i] = q
	}
	return qs
}

// blockDiff describes how a differs from b, or returns "" when they hold
// the same columns and identical values.
func blockDiff(a, b *types.Block) string {
	if a == nil || b == nil {
		return fmt.Sprintf("block %v, want %v", a, b)
	}
	if !slices.Equal(a.Schema, b.Schema) {
		return fmt.Sprintf("schema %v, want %v", a.Schema, b.Schema)
	}
	if a.Len != b.Len {
		return fmt.Sprintf("%d rows, want %d", a.Len, b.Len)
	}
	for c := range a.Cols {
		for i := range a.Len {
			if x, y := a.Cols[c].Value(i), b.Cols[c].Value(i); !types.Identical(x, y) {
				return fmt.Sprintf("row %d, column %s: %v, want %v", i, a.Schema[c].Name, x, y)
			}
		}
	}
	return ""
}

// scribble overwrites every value of b, as a caller modifying its block.
func scribble(b *types.Block) {
	for c := range b.Cols {
		col := &b.Cols[c]
		for i := range col.I {
			col.I[i] = -7
		}
		for i := range col.F {
			col.F[i] = -7
		}
		for i := range col.S {
			col.S[i] = "scribbled"
		}
		for i := range col.Nulls {
			col.Nulls[i] = !col.Nulls[i]
		}
	}
}

// TestScanManyOneCall: ScanMany reads the time ranges of the keys of one
// index, and the whole keys of it, in one ReadRows call, whatever their
// number; a day row two ranges share comes once; another index is another
// call, and a query Scan answers specially (a limit, a latest TTL) one of
// its own.
func TestScanManyOneCall(t *testing.T) {
	t.Parallel()
	addr, c := startCheckedEmulator(t)
	calls := &c.calls
	const day = int64(dayWidth)
	day0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	// Compaction off: its reads would count among the test's.
	s := openStore(t, addr, Config{Clock: func() time.Time { return time.UnixMilli(day0 + 10*day) }, NoGC: true, CompactAt: -1})
	ctx := context.Background()
	if err := s.Init(ctx, compile(t, scanManySQL)); err != nil {
		t.Fatal(err)
	}
	def, err := s.Describe(ctx, "sm")
	if err != nil {
		t.Fatal(err)
	}
	rows := types.NewBlock(def.Schema, 0)
	var seqs []uint64
	for d := range int64(10) { // keys a and b, 4 rows a day each: a segment a day row
		for i := range int64(4) {
			for _, k := range []string{"a", "b"} {
				ts := day0 + d*day + i*day/4
				rows.AppendRow([]types.Value{types.StringValue(k), types.Int64Value(1), types.IntValue(types.Int32, 1),
					types.TimestampValue(ts), types.Int64Value(ts), types.IntValue(types.Int32, i)})
				seqs = append(seqs, uint64(len(seqs)+1))
			}
		}
	}
	if err := s.Write(ctx, "sm", rows, seqs); err != nil {
		t.Fatal(err)
	}
	key := func(k string) []types.Value { return []types.Value{types.StringValue(k)} }
	rg := func(k string, from, to int64) eval.Query {
		return eval.Query{Table: "sm", Keys: []string{"k"}, Values: key(k), TS: "ts", From: day0 + from, To: day0 + to}
	}
	whole := eval.Query{Table: "sm", Keys: []string{"k"}, Values: key("b")}
	ofB := eval.Query{Table: "sm", Keys: []string{"b"}, Values: []types.Value{types.Int64Value(1)}, TS: "ts", From: day0 + 9*day, To: day0 + 9*day + day/2}
	limited := rg("a", 0, 3*day)
	limited.Limit = 2
	latest := eval.Query{Table: "sm", Keys: []string{"k", "b"}, Values: []types.Value{types.StringValue("a"), types.Int64Value(1)}, TS: "ts", From: day0, To: day0 + 9*day}
	for _, tc := range []struct {
		name     string
		qs       []eval.Query
		calls    int64
		segments int64 // segment cells received; -1: not checked
	}{
		{"one range", []eval.Query{rg("a", 0, day/2)}, 1, 1},
		// both edges of a window of 30 hours, and a bucket between
		{"edges sharing day rows", []eval.Query{rg("a", 0, day/4), rg("a", day+day/4, day+day/4), rg("a", day/2, day)}, 1, 2},
		{"ranges 8 days apart", []eval.Query{rg("a", 0, day/2), rg("a", 8*day, 9*day-1)}, 1, 2},
		{"adjacent and overlapping", []eval.Query{rg("a", 0, day-1), rg("a", day, 2*day-1), rg("a", day/2, 3*day)}, 1, 4},
		{"two keys", []eval.Query{rg("a", 2*day, 3*day), rg("b", 2*day, 3*day), rg("a", 5*day, 6*day)}, 1, 6},
		{"ranges and a whole key", []eval.Query{rg("a", 0, day), whole, rg("b", 0, day)}, 1, 12},
		{"empty and reversed ranges", []eval.Query{rg("a", day, day-1), rg("a", 0, day), rg("b", 3*day, 2*day)}, 1, 2},
		{"another index", []eval.Query{rg("a", 0, day), ofB}, 2, 3},
		{"a limit and a latest TTL", []eval.Query{rg("a", 0, day), limited, rg("b", 0, day), latest}, 3, -1},
	} {
		// Batched says which queries share a call: the calls are one per
		// index of the batched ones, and one per other query.
		batched, indexes := 0, map[string]bool{}
		for _, q := range tc.qs {
			if s.Batched(q) {
				batched++
				indexes[strings.Join(q.Keys, ",")] = true
			}
		}
		if want := int64(len(tc.qs) - batched + len(indexes)); want != tc.calls {
			t.Errorf("%s: Batched says %d calls, want %d", tc.name, want, tc.calls)
		}
		calls.Store(0)
		c.reset()
		got, err := s.ScanMany(ctx, tc.qs)
		if err != nil {
			t.Fatal(err)
		}
		if calls.Load() != tc.calls || tc.segments >= 0 && c.segments.Load() != tc.segments {
			t.Errorf("%s: %d ReadRows calls receiving %d segments, want %d calls and %d segments", tc.name, calls.Load(), c.segments.Load(), tc.calls, tc.segments)
		}
		for i, q := range tc.qs {
			want, err := s.Scan(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if d := blockDiff(got[i], want); d != "" {
				t.Errorf("%s, query %d: %s", tc.name, i, d)
			}
		}
	}
}

// startCheckedEmulator starts an emulator that counts ReadRows calls and
// the cells they send, and fails the test when a call's row ranges are
// not as Bigtable requires them (the emulator takes any): sorted, not
// empty, neither overlapping nor meeting.
func startCheckedEmulator(t *testing.T) (addr string, c *readCounts) {
	t.Helper()
	c = &readCounts{}
	check := func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if info.FullMethod != "/google.bigtable.v2.Bigtable/ReadRows" {
			return handler(srv, ss)
		}
		c.calls.Add(1)
		return handler(srv, &checkedStream{ServerStream: &countingStream{ServerStream: ss, counts: &c.streamCounts}, t: t})
	}
	// The project's emulator, for its lock of writes against reads:
	// compaction writes while the test reads.
	addr, stop, err := emulators.StartBigtable("", grpc.ChainStreamInterceptor(check))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return addr, c
}

type readCounts struct {
	calls atomic.Int64
	streamCounts
}

// checkedStream checks the row ranges of the ReadRows request it receives.
type checkedStream struct {
	grpc.ServerStream
	t *testing.T
}

func (c *checkedStream) RecvMsg(m any) error {
	err := c.ServerStream.RecvMsg(m)
	if r, ok := m.(*btpb.ReadRowsRequest); ok && err == nil {
		if msg := badRanges(r.GetRows().GetRowRanges()); msg != "" {
			c.t.Errorf("ReadRows with %s", msg)
		}
	}
	return err
}

// badRanges describes how ranges, which must be closed-open, are not
// sorted, disjoint and apart, or returns "".
func badRanges(ranges []*btpb.RowRange) string {
	var prevEnd []byte
	for i, r := range ranges {
		start, end := r.GetStartKeyClosed(), r.GetEndKeyOpen()
		switch {
		case r.GetStartKeyOpen() != nil || r.GetEndKeyClosed() != nil:
			return fmt.Sprintf("range %d of %d not closed-open", i, len(ranges))
		case len(end) > 0 && bytes.Compare(start, end) >= 0:
			return fmt.Sprintf("range %d of %d empty: [%x, %x)", i, len(ranges), start, end)
		case i > 0 && (len(prevEnd) == 0 || bytes.Compare(prevEnd, start) >= 0):
			return fmt.Sprintf("range %d of %d [%x, %x) not after the one before, ending at %x", i, len(ranges), start, end, prevEnd)
		}
		prevEnd = end
	}
	return ""
}

// BenchmarkScanMany reads two days of one key's rows 28 days apart (100
// rows each, as both edges of a long window whose buckets between come
// from tiles) with ScanMany, and with a Scan of each, from the in-process
// emulator, and reports latency percentiles.
func BenchmarkScanMany(b *testing.B) {
	const day = 86_400_000
	clock := func() time.Time { return benchStart.Add(30 * 24 * time.Hour) }
	s := initStore(b, benchSQL, Config{Clock: clock, NoGC: true})
	ctx := context.Background()
	first := benchStart.UnixMilli()
	seq := uint64(0)
	for d := range int64(30) { // a day of 100 rows a write, among neighbours
		rows, seqs := benchRows(100, 1, seq)
		for i := range rows.Len {
			rows.Cols[4].I[i] = first + d*day + int64(i)*day/100
		}
		seq += 100
		other, oseqs := benchRows(1000, 50, seq)
		for i := range other.Len {
			other.Cols[1].S[i] = fmt.Sprintf("card%05d", 1+i%50)
			other.Cols[4].I[i] = first + d*day + int64(i)*day/1000
		}
		seq += 1000
		for _, w := range []struct {
			rows *types.Block
			seqs []uint64
		}{{rows, seqs}, {other, oseqs}} {
			if err := s.Write(ctx, "tx", w.rows, w.seqs); err != nil {
				b.Fatal(err)
			}
		}
	}
	q := eval.Query{Table: "tx", Keys: []string{"card"}, Values: []types.Value{types.StringValue("card00000")}, TS: "ts"}
	qs := []eval.Query{q, q}
	qs[0].From, qs[0].To = first+day, first+2*day-1
	qs[1].From, qs[1].To = first+29*day, first+30*day-1
	check := func(bs []*types.Block) {
		for i, blk := range bs {
			if blk.Len != 100 {
				b.Fatalf("query %d: %d rows, want 100", i, blk.Len)
			}
		}
	}
	for _, mode := range []string{"Scan×2", "ScanMany"} {
		b.Run(mode, func(b *testing.B) {
			read := func() {
				if mode == "ScanMany" {
					bs, err := s.ScanMany(ctx, qs)
					if err != nil {
						b.Fatal(err)
					}
					check(bs)
					return
				}
				bs := make([]*types.Block, len(qs))
				for i, q := range qs {
					var err error
					if bs[i], err = s.Scan(ctx, q); err != nil {
						b.Fatal(err)
					}
				}
				check(bs)
			}
			timeReads(b, read)
		})
	}
}
