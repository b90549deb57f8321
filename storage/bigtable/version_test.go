package bigtable

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"cloud.google.com/go/bigtable"
	btpb "cloud.google.com/go/bigtable/apiv2/bigtablepb"
	"google.golang.org/grpc"

	"github.com/fenestra-dev/fenestra/emulators"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
)

// TestVersionTime: a day row's version cell has the timestamp of the
// last millisecond of its day, the same for every TS value of the day
// and never older than a segment's (cellTime of a TS value of the day).
func TestVersionTime(t *testing.T) {
	t.Parallel()
	const day0 = int64(1704067200000)
	for _, ts := range []int64{math.MinInt64, math.MinInt64 + 1, -dayWidth - 1, -dayWidth, -1, 0, 1, dayWidth - 1, dayWidth,
		day0, day0 + 1, day0 + dayWidth - 1, math.MaxInt64 / 1000, math.MaxInt64/1000 + 1, math.MaxInt64 - dayWidth, math.MaxInt64} {
		v := versionTime(ts)
		d := dayOf(ts)
		first, last := ts, ts // the day's first and last TS values
		if d > math.MinInt64/dayWidth {
			first = d * dayWidth
		}
		if d < math.MaxInt64/dayWidth {
			last = d*dayWidth + dayWidth - 1
		}
		if v < cellTime(ts) || v != versionTime(first) || v != versionTime(last) || v != cellTime(last) || v%1000 != 0 {
			t.Errorf("ts %d (day %d): version timestamp %d; segment timestamp %d, day's end %d", ts, d, v, cellTime(ts), cellTime(last))
		}
	}
	if got := versionTime(day0); got != 1704153599999000 {
		t.Errorf("the version of 2024-01-01 at %d", got)
	}
}

// TestAppendVersion: versions are 16 bytes, the process's writer number
// last, and no two calls give the same, from any goroutine.
func TestAppendVersion(t *testing.T) {
	t.Parallel()
	const goroutines, each = 8, 2000
	got := make([][]byte, goroutines*each)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				got[g*each+i] = appendVersion(nil)
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for i, v := range got {
		if len(v) != versionLen || binary.BigEndian.Uint64(v[8:]) != versionWriter || bytes.Equal(v, noVersion) {
			t.Fatalf("version %x: want 16 bytes ending in %016x", v, versionWriter)
		}
		if i%each > 0 && bytes.Compare(v, got[i-1]) <= 0 {
			t.Fatalf("version %x after %x in one goroutine", v, got[i-1])
		}
		if seen[string(v)] {
			t.Fatalf("version %x given twice", v)
		}
		seen[string(v)] = true
	}
}

// TestWriteVersions: every entry of a write's MutateRows calls sets its
// row's version cell, at the day's end, to a value of its own, also when
// one row takes several segments of one write, and when a write repeats
// another exactly.
func TestWriteVersions(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var entries []*btpb.MutateRowsRequest_Entry
	record := func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if info.FullMethod != "/google.bigtable.v2.Bigtable/MutateRows" {
			return handler(srv, ss)
		}
		return handler(srv, &recordingStream{ServerStream: ss, record: func(req *btpb.MutateRowsRequest) {
			mu.Lock()
			defer mu.Unlock()
			entries = append(entries, req.Entries...)
		}})
	}
	addr, stop, err := emulators.StartBigtable("", grpc.ChainStreamInterceptor(record))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	s := openStore(t, addr, Config{NoGC: true})
	ctx := context.Background()
	if err := s.Init(ctx, compile(t, `CREATE TABLE tx (card string, note string, ts timestamp, INDEX(KEY=card, TS=ts));`)); err != nil {
		t.Fatal(err)
	}
	const day0 = int64(1704067200000)
	schema := types.Schema{{Name: "card", Type: types.String}, {Name: "note", Type: types.String}, {Name: "ts", Type: types.Timestamp}}
	rows := types.NewBlock(schema, 0)
	var seqs []uint64
	note := strings.Repeat("x", 200)
	for i := range 3000 { // 660 kB in day0's row of "a": several segments
		rows.AppendRow([]types.Value{types.StringValue("a"), types.StringValue(note), types.TimestampValue(day0 + int64(i))})
		seqs = append(seqs, uint64(i))
	}
	rows.AppendRow([]types.Value{types.StringValue("a"), types.StringValue(""), types.TimestampValue(day0 - 1)}) // the day before
	rows.AppendRow([]types.Value{types.NullOf(types.String), types.StringValue(""), types.NullOf(types.Timestamp)})
	seqs = append(seqs, 1<<40, 1<<41)
	for range 2 {
		if err := s.Write(ctx, "tx", rows, seqs); err != nil {
			t.Fatal(err)
		}
	}
	perRow := map[string]int{}
	versions := map[string]bool{}
	for _, e := range entries {
		var sets []*btpb.Mutation_SetCell
		for _, m := range e.Mutations {
			if sc := m.GetSetCell(); sc != nil && sc.FamilyName == "i0" && string(sc.ColumnQualifier) == versionQualifier {
				sets = append(sets, sc)
			}
		}
		want := bigtable.Timestamp(0) // before 1970: the NULL TS's row
		if d := int64(^be64(string(e.RowKey[len(e.RowKey)-8:])) ^ 1<<63); d >= 0 {
			want = versionTime(d * dayWidth)
		}
		if len(sets) != 1 || len(e.Mutations) != 2 || sets[0].TimestampMicros != int64(want) || len(sets[0].Value) != versionLen {
			t.Fatalf("row %x: %d mutations, version cells %v; want a segment and a version at %d", e.RowKey, len(e.Mutations), sets, want)
		}
		if versions[string(sets[0].Value)] {
			t.Fatalf("row %x: version %x set twice", e.RowKey, sets[0].Value)
		}
		versions[string(sets[0].Value)] = true
		perRow[string(e.RowKey)]++
	}
	if len(perRow) != 3 || perRow[string(appendDay(appendKey([]byte{0}, types.String, types.StringValue("a")), day0))] < 6 {
		t.Errorf("entries by row %v: want 3 rows, day0's of \"a\" in at least 3 segments a write", perRow)
	}
}

// recordingStream passes the MutateRows requests a server receives to
// record.
type recordingStream struct {
	grpc.ServerStream
	record func(*btpb.MutateRowsRequest)
}

func (r *recordingStream) RecvMsg(m any) error {
	err := r.ServerStream.RecvMsg(m)
	if req, ok := m.(*btpb.MutateRowsRequest); ok && err == nil {
		r.record(req)
	}
	return err
}

// buildTiles builds and writes the tiles of every bucket of card "a" of
// tx under index 0 at width, and returns how many.
func buildTiles(t *testing.T, s *Store, width int64) int {
	t.Helper()
	ctx := context.Background()
	a := []types.Value{types.StringValue("a")}
	bs, err := s.ReadBuckets(ctx, storage.TileRange{Table: "tx", Key: a, Width: width, From: math.MinInt64, To: math.MaxInt64})
	if err != nil {
		t.Fatal(err)
	}
	tiles := make([]storage.Tile, len(bs))
	for i, b := range bs {
		tiles[i] = storage.Tile{Key: a, Start: b.Start, Width: width, Rows: uint64(b.Rows.Len), Token: b.Token}
	}
	if err := s.WriteTiles(ctx, "tx", tiles); err != nil {
		t.Fatal(err)
	}
	return len(tiles)
}

// currentTiles returns the starts of the current tiles of card "a" at
// width.
func currentTiles(t *testing.T, s *Store, width int64) []int64 {
	t.Helper()
	tiles, err := s.ReadTiles(context.Background(), storage.TileRange{Table: "tx", Key: []types.Value{types.StringValue("a")},
		Width: width, From: math.MinInt64, To: math.MaxInt64})
	if err != nil {
		t.Fatal(err)
	}
	var out []int64
	for _, tile := range tiles {
		out = append(out, tile.Start)
	}
	return out
}

// deleteColumns deletes the cells of Bigtable row key of table tx, in
// family fam, whose qualifiers keep accepts, as GC or an older build
// would leave the row.
func deleteColumns(t *testing.T, s *Store, fam, key string, keep func(qual string) bool) {
	t.Helper()
	ctx := context.Background()
	bt := s.client.Open("fenestra_tx")
	row, err := bt.ReadRow(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	m := bigtable.NewMutation()
	n := 0
	for _, it := range row[fam] {
		if q := strings.TrimPrefix(it.Column, fam+":"); keep(q) {
			m.DeleteCellsInColumn(fam, q)
			n++
		}
	}
	if n == 0 {
		t.Fatalf("row %x holds no such cell", key)
	}
	if err := bt.Apply(ctx, key, m); err != nil {
		t.Fatal(err)
	}
}

// TestRowsWithoutVersion: day rows written before version cells (by an
// older build: segments only) have a token, the same for ReadBuckets and
// ReadTiles, so their tiles are current; a write gives a row a version
// and makes its tiles stale.
func TestRowsWithoutVersion(t *testing.T) {
	t.Parallel()
	s := initStore(t, txSQL, Config{NoGC: true})
	ctx := context.Background()
	const day0, day = int64(1704067200000), int64(86_400_000)
	for d := range int64(3) {
		if err := s.Write(ctx, "tx", txRows(tx("a", 1, day0+d*day), tx("a", 2, day0+d*day+1)), []uint64{uint64(2 * d), uint64(2*d + 1)}); err != nil {
			t.Fatal(err)
		}
	}
	prefix := appendKey([]byte{0}, types.String, types.StringValue("a"))
	for d := range int64(3) {
		deleteColumns(t, s, "i0", string(appendDay(prefix, day0+d*day)), func(q string) bool { return q == versionQualifier })
	}
	bs, err := s.ReadBuckets(ctx, storage.TileRange{Table: "tx", Key: []types.Value{types.StringValue("a")}, Width: day, From: math.MinInt64, To: math.MaxInt64})
	if err != nil || len(bs) != 3 {
		t.Fatalf("ReadBuckets: %d buckets, %v", len(bs), err)
	}
	if want := bucketToken([]dayRow{newDayRow(string(appendDay(prefix, day0)), noVersion)}, day0, day); bs[0].Token != want {
		t.Errorf("token %016x, want %016x: the day and 16 zero bytes", bs[0].Token, want)
	}
	if n := buildTiles(t, s, day); n != 3 || !slices.Equal(currentTiles(t, s, day), []int64{day0, day0 + day, day0 + 2*day}) {
		t.Fatalf("built %d tiles, current %v", n, currentTiles(t, s, day))
	}
	if err := s.Write(ctx, "tx", txRows(tx("a", 3, day0+day+2)), []uint64{10}); err != nil {
		t.Fatal(err)
	}
	if got := currentTiles(t, s, day); !slices.Equal(got, []int64{day0, day0 + 2*day}) {
		t.Errorf("after a write to the second day, current tiles %v", got)
	}
}

// TestRowsOfVersionOnly: a day row left with its version cell alone (GC
// deleted its segments, older than the version) is no row to reads: not
// to limits nor latest TTLs, which count Bigtable rows, nor to scans; and
// tokens of buckets that span it agree between ReadBuckets and ReadTiles.
func TestRowsOfVersionOnly(t *testing.T) {
	t.Parallel()
	s := initStore(t, `CREATE TABLE tx (card string, acct string, amount double, ts timestamp,
  INDEX(KEY=card, TS=ts), INDEX(KEY=acct, TS=ts, TTL=2, TTL_TYPE=latest));`, Config{NoGC: true})
	ctx := context.Background()
	const d0, day = int64(1704153600000), int64(86_400_000) // day 19724: 2- and 4-day buckets start there
	schema := types.Schema{{Name: "card", Type: types.String}, {Name: "acct", Type: types.String}, {Name: "amount", Type: types.Double}, {Name: "ts", Type: types.Timestamp}}
	for d := range int64(4) {
		rows := types.BlockOf(schema, [][]types.Value{{types.StringValue("a"), types.StringValue("x"), types.DoubleValue(float64(d)), types.TimestampValue(d0 + d*day)}})
		if err := s.Write(ctx, "tx", rows, []uint64{uint64(d)}); err != nil {
			t.Fatal(err)
		}
	}
	isSegment := func(q string) bool { return len(q) == qualifierLen }
	deleteColumns(t, s, "i0", string(appendDay(appendKey([]byte{0}, types.String, types.StringValue("a")), d0+2*day)), isSegment)
	deleteColumns(t, s, "i1", string(appendDay(appendKey([]byte{1}, types.String, types.StringValue("x")), d0+2*day)), isSegment)
	read := func(keys string, key string, limit int) string {
		t.Helper()
		b, err := s.Read(ctx, storage.Range{Table: "tx", Keys: []string{keys}, Values: []types.Value{types.StringValue(key)}, TS: "ts",
			From: math.MinInt64, To: math.MaxInt64, Limit: limit, NewestFirst: true})
		if err != nil {
			t.Fatal(err)
		}
		return column(b.Rows(), 2)
	}
	for limit, want := range []string{"3 1 0", "3", "3 1", "3 1 0"} {
		if got := read("card", "a", limit); got != want {
			t.Errorf("card a, limit %d: amounts %s, want %s", limit, got, want)
		}
	}
	if got := read("acct", "x", 0); got != "3 1" {
		t.Errorf("acct x, latest 2: amounts %s, want 3 1", got)
	}
	q := eval.Query{Table: "tx", Keys: []string{"card"}, Values: []types.Value{types.StringValue("a")}}
	scans, err := s.ScanMany(ctx, []eval.Query{q, {Table: "tx"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, all := column(scans[0].Rows(), 2), column(scans[1].Rows(), 2); got != "0 1 3" || all != "0 1 3" {
		t.Errorf("scans: card a %s, all %s; want 0 1 3", got, all)
	}
	for _, width := range []int64{day, 2 * day, 4 * day} {
		n := buildTiles(t, s, width)
		if got := currentTiles(t, s, width); len(got) != n || n != map[int64]int{day: 3, 2 * day: 2, 4 * day: 1}[width] {
			t.Errorf("width %d: built %d tiles, current %v", width, n, got)
		}
	}
}
