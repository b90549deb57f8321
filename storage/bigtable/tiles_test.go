package bigtable

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/bigtable"
	btpb "cloud.google.com/go/bigtable/apiv2/bigtablepb"
	"google.golang.org/grpc"

	"github.com/fenestra-dev/fenestra/emulators"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
	"github.com/fenestra-dev/fenestra/storage/storagetest"
)

// TestDocumentedTile pins the tile example of docs/storage-format.md: the
// tile of window storage.WindowID("v1", "w1") of card "a" over the day
// starting 2024-01-01 00:00 UTC, 3 rows up to sequence 7, partials 01 and
// 0203, under index 0, with the token of the document's example day row.
func TestDocumentedTile(t *testing.T) {
	t.Parallel()
	tab := &table{def: compile(t, txSQL)[0], keyCols: [][]int{{0}}}
	tile := storage.Tile{Window: storage.WindowID("v1", "w1"), Key: []types.Value{types.StringValue("a")},
		Start: 1704067200000, Width: 86_400_000, Rows: 3, MaxSeq: 7, Partials: [][]byte{{0x01}, {0x02, 0x03}},
		Token: documentedToken}
	key, _ := tab.tilePrefixKey(nil, 0, tile.Window, tile.Width, tile.Key)
	key = appendStart(key, tile.Start)
	const wantKey = "fe" + "00" + "5d9e41688118edaf" + "0000000005265c00" + "01610001" + "8000018cc251f400"
	if got := hex.EncodeToString(key); got != wantKey {
		t.Errorf("row key %s, the document says %s", got, wantKey)
	}
	const wantVal = "02" + "123b8a5e781daecb" + "03" + "07" + "02" + "0101" + "020203"
	if got := hex.EncodeToString(appendTile(nil, &tile)); got != wantVal {
		t.Errorf("value %s, the document says %s", got, wantVal)
	}
	if got := cellTime(tile.Start); got != 1704067200000000 {
		t.Errorf("cell timestamp %d", got)
	}
}

// documentedToken is the token of the example of docs/storage-format.md,
// "Tokens".
const documentedToken = 0x123b8a5e781daecb

// TestDocumentedToken pins the token example of docs/storage-format.md:
// card "a" has rows at 2024-01-01 08:00:00, 08:00:01 and 09:00:00 UTC+8
// (sequence numbers 5, 6, 7), written at once, so the day row of
// 2024-01-01 UTC holds one segment and the version cell of that write,
// here of stamp 1704067260000000 (2024-01-01 00:01 UTC) and writer
// 0123456789abcdef; the token of the day's bucket hashes that row's day
// and version. The store must write the cell as documented and compute
// the same.
func TestDocumentedToken(t *testing.T) {
	t.Parallel()
	seg := []placed{{ts: 1704070800000, seq: 7}, {ts: 1704067201000, seq: 6}, {ts: 1704067200000, seq: 5}}
	qual := appendSegmentQualifier(nil, seg)
	const wantQual = "7ffffe733d771d7f" + "fffffffffffffff8" + "cd96cbc798e12eff"
	if got := hex.EncodeToString(qual); got != wantQual {
		t.Errorf("qualifier %s, the document says %s", got, wantQual)
	}
	const wantVersion = "00060dd713b4a700" + "0123456789abcdef"
	version, _ := hex.DecodeString(wantVersion)
	key := string(appendDay([]byte{0, 1, 'a', 0, 1}, 1704067200000))
	day := newDayRow(key, version)
	const wantState = "7fffffffffffb2f4" + wantVersion
	if got := hex.EncodeToString(day.state); got != wantState || day.day != 19723 {
		t.Errorf("day row state %s (day %d), the document says %s (day 19723)", got, day.day, wantState)
	}
	if got := bucketToken([]dayRow{day}, 1704067200000, 86_400_000); got != documentedToken {
		t.Errorf("token %016x, the document says %016x", got, uint64(documentedToken))
	}
	if got := bucketToken(nil, 1704067200000, 86_400_000); got != 0 {
		t.Errorf("token of a bucket without rows: %016x", got)
	}
	const versionTS = 1704153599999000 // 2024-01-01 23:59:59.999 UTC
	if got := versionTime(1704070800000); got != versionTS {
		t.Errorf("version cell timestamp %d, the document says %d", got, versionTS)
	}
	s := initStore(t, txSQL, Config{NoGC: true})
	ctx := context.Background()
	if err := s.Write(ctx, "tx", txRows(tx("a", 1, 1704067200000), tx("a", 2, 1704067201000), tx("a", 3, 1704070800000)), []uint64{5, 6, 7}); err != nil {
		t.Fatal(err)
	}
	stored := versionCells(t, s, key)
	if len(stored) != 1 || stored[0].Timestamp != versionTS || len(stored[0].Value) != versionLen ||
		binary.BigEndian.Uint64(stored[0].Value[8:]) != versionWriter {
		t.Fatalf("version cells %+v: want one at %d, of 16 bytes, writer %016x", stored, versionTS, versionWriter)
	}
	want := bucketToken([]dayRow{newDayRow(key, stored[0].Value)}, 1704067200000, 86_400_000)
	bs, err := s.ReadBuckets(ctx, storage.TileRange{Table: "tx", Key: []types.Value{types.StringValue("a")}, Width: 86_400_000, From: math.MinInt64, To: math.MaxInt64})
	if err != nil || len(bs) != 1 || bs[0].Token != want || bs[0].Rows.Len != 3 {
		t.Fatalf("ReadBuckets: %+v, %v; want one bucket of 3 rows, token %016x", bs, err, want)
	}
}

// versionCells returns the cells of the version column of Bigtable row
// key of table tx, index 0.
func versionCells(t *testing.T, s *Store, key string) []bigtable.ReadItem {
	t.Helper()
	row, err := s.client.Open("fenestra_tx").ReadRow(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	var out []bigtable.ReadItem
	for _, it := range row["i0"] {
		if it.Column == "i0:"+versionQualifier {
			out = append(out, it)
		}
	}
	return out
}

// TestTileValueCorrupt: a tile value that does not decode is an error,
// never a tile.
func TestTileValueCorrupt(t *testing.T) {
	t.Parallel()
	good := appendTile(nil, &storage.Tile{Rows: 300, MaxSeq: math.MaxUint64, Partials: [][]byte{{1, 2}, {}, bytes.Repeat([]byte{9}, 200)}})
	var tile storage.Tile
	if err := decodeTile(good, &tile); err != nil || tile.Rows != 300 || tile.MaxSeq != math.MaxUint64 || len(tile.Partials) != 3 || len(tile.Partials[2]) != 200 {
		t.Fatalf("round trip: %+v, %v", tile, err)
	}
	for i := range len(good) {
		if err := decodeTile(good[:i], &tile); !errors.Is(err, errTileValue) {
			t.Errorf("value cut to %d bytes: %v", i, err)
		}
	}
	if err := decodeTile(append(good, 0), &tile); !errors.Is(err, errTileValue) {
		t.Errorf("trailing byte: %v", err)
	}
	if err := decodeTile(append([]byte{3}, good[1:]...), &tile); !errors.Is(err, errTileValue) {
		t.Errorf("format 3: %v", err)
	}
	if err := decodeTile(append([]byte{1}, good[9:]...), &tile); !errors.Is(err, errTileNoToken) {
		t.Errorf("format 1 (before tokens): %v", err)
	}
}

// TestTileKeys: a tile key of the wrong length or type fails the write
// and the read, in both stores alike; a read key no stored key can equal
// finds nothing.
func TestTileKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, s := range []interface {
		storage.Store
		storage.TileStore
	}{storage.NewMem(nil), openStore(t, startEmulator(t), Config{NoGC: true})} {
		if err := s.Init(ctx, compile(t, diffSQL)); err != nil {
			t.Fatal(err)
		}
		w := storage.Tile{Index: 2, Key: []types.Value{types.StringValue("x")}, Start: time.Now().UnixMilli(), Width: 1}
		if err := s.WriteTiles(ctx, "ev", []storage.Tile{w}); !errors.Is(err, storage.ErrSchema) {
			t.Errorf("%T: a string key for a bigint column: %v", s, err)
		}
		w.Key = []types.Value{types.IntValue(types.Int16, 1), types.Int64Value(2)}
		if err := s.WriteTiles(ctx, "ev", []storage.Tile{w}); !errors.Is(err, storage.ErrSchema) {
			t.Errorf("%T: two values for one KEY column: %v", s, err)
		}
		w.Key = []types.Value{types.IntValue(types.Int16, 1)} // any integer width
		if err := s.WriteTiles(ctx, "ev", []storage.Tile{w}); err != nil {
			t.Errorf("%T: an int16 key for a bigint column: %v", s, err)
		}
		r := storage.TileRange{Table: "ev", Index: 2, Key: []types.Value{types.Int64Value(1)}, Width: 1, From: math.MinInt64, To: math.MaxInt64}
		if got, err := s.ReadTiles(ctx, r); err != nil || len(got) != 1 {
			t.Errorf("%T: reading key 1: %v, %v", s, got, err)
		}
		r.Key = []types.Value{types.DoubleValue(1.5)}
		if got, err := s.ReadTiles(ctx, r); err != nil || len(got) != 0 {
			t.Errorf("%T: reading key 1.5: %v, %v", s, got, err)
		}
		r.Key = nil
		if _, err := s.ReadTiles(ctx, r); !errors.Is(err, storage.ErrSchema) {
			t.Errorf("%T: reading without a key: %v", s, err)
		}
	}
}

// TestTilesAgainstMem writes random tiles, rewrites among them, to the
// Bigtable store and to storage.Mem, and checks that random reads give
// identical results as the clock moves past the TTL of index 2.
func TestTilesAgainstMem(t *testing.T) {
	t.Parallel()
	clock := time.Date(2024, 1, 1, 0, 30, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	bt := openStore(t, startEmulator(t), Config{Clock: now, NoGC: true})
	mem := storage.NewMem(now)
	ctx := context.Background()
	tables := compile(t, diffSQL)
	for _, s := range []storage.Store{bt, mem} {
		if err := s.Init(ctx, tables); err != nil {
			t.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	strs := []string{"", "a", "a\x00", "a\x00b", "\xff", "\xfe\x00", "ab", "b"}
	keyK := []types.Value{types.NullOf(types.String)}
	for _, s := range strs {
		keyK = append(keyK, types.StringValue(s))
	}
	keyB := []types.Value{types.NullOf(types.Int64), types.Int64Value(math.MinInt64), types.Int64Value(-1), types.Int64Value(0), types.Int64Value(math.MaxInt64)}
	// Index 0 is KEY=k TS=ts, no TTL; index 2 is KEY=b TS=ts TTL=20m.
	indexes := []struct {
		ord  int
		keys []types.Value
	}{{0, keyK}, {2, keyB}}
	widths := []int64{60_000, 300_000, 3_600_000}
	windows := []uint64{storage.WindowID("v1", "w1"), storage.WindowID("v1", "w2"), 0, math.MaxUint64}
	base := clock.Add(-time.Hour).UnixMilli()
	randTile := func() storage.Tile {
		ix := indexes[rng.IntN(len(indexes))]
		w := widths[rng.IntN(len(widths))]
		start, _ := storage.BucketStart(base+rng.Int64N(90)*60_000, w)
		if rng.IntN(20) == 0 { // before 1970 and at the extremes
			start, _ = storage.BucketStart(-rng.Int64N(1<<40), w)
		}
		tile := storage.Tile{Index: ix.ord, Window: windows[rng.IntN(len(windows))], Key: []types.Value{ix.keys[rng.IntN(len(ix.keys))]},
			Start: start, Width: w, Rows: rng.Uint64N(1000), MaxSeq: rng.Uint64()}
		for range rng.IntN(6) {
			p := make([]byte, rng.IntN(40))
			for i := range p {
				p[i] = byte(rng.Uint32())
			}
			tile.Partials = append(tile.Partials, p)
		}
		return tile
	}
	var written []storage.Tile
	found := 0
	for round := range 6 {
		var tiles []storage.Tile
		for range 50 + rng.IntN(50) {
			if len(written) > 0 && rng.IntN(4) == 0 { // replace an earlier tile, or write it again
				tile := written[rng.IntN(len(written))]
				if rng.IntN(2) == 0 {
					tile.Rows++
					tile.Partials = append(slices.Clone(tile.Partials), []byte{byte(round)})
				}
				tiles = append(tiles, tile)
				continue
			}
			tiles = append(tiles, randTile())
		}
		written = append(written, tiles...)
		for _, s := range []storage.TileStore{bt, mem} {
			if err := s.WriteTiles(ctx, "ev", tiles); err != nil {
				t.Fatal(err)
			}
		}
		clock = clock.Add(time.Duration(rng.IntN(15)) * time.Minute)
		for q := range 200 {
			var r storage.TileRange
			if q%2 == 0 { // the identity of a written tile
				w := written[rng.IntN(len(written))]
				r = storage.TileRange{Table: "ev", Index: w.Index, Window: w.Window, Key: w.Key, Width: w.Width, From: math.MinInt64, To: math.MaxInt64}
			} else {
				t := randTile()
				r = storage.TileRange{Table: "ev", Index: t.Index, Window: t.Window, Key: t.Key, Width: t.Width, From: math.MinInt64, To: math.MaxInt64}
			}
			switch rng.IntN(4) {
			case 1:
				r.From = base + rng.Int64N(90)*60_000 - 30_000
			case 2:
				r.To = base + rng.Int64N(90)*60_000
			case 3:
				r.From = base + rng.Int64N(90)*60_000
				r.To = r.From + rng.Int64N(30)*60_000
			}
			got, want := runTiles(bt.ReadTiles(ctx, r)), runTiles(mem.ReadTiles(ctx, r))
			if got != want {
				t.Fatalf("round %d, read %+v at %v:\n--- bigtable\n%s--- mem\n%s", round, r, clock, got, want)
			}
			if got != "" {
				found++
			}
		}
	}
	if found < 300 {
		t.Errorf("only %d of 1,200 reads found tiles", found)
	}
}

func runTiles(tiles []storage.Tile, err error) string {
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	var b strings.Builder
	for _, t := range tiles {
		fmt.Fprintf(&b, "%d %x %v %d/%d rows=%d maxseq=%d", t.Index, t.Window, t.Key, t.Start, t.Width, t.Rows, t.MaxSeq)
		for _, p := range t.Partials {
			fmt.Fprintf(&b, " [%x]", p)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestTileTokens runs the tile consistency cases on the Bigtable store.
func TestTileTokens(t *testing.T) {
	t.Parallel()
	storagetest.RunTileTokens(t, func(t *testing.T, clock storage.Clock) storage.Store {
		return openStore(t, startEmulator(t), Config{Clock: clock, NoGC: true})
	})
}

// TestTileTokensByDay: the token of a bucket under a day is its day
// row's, so a write anywhere in the day makes every tile of the day stale
// (coarse, never wrong); and writes of rows already stored, cut into the
// same segments, with other values or even the same ones, make their
// tiles stale too: the version cells leave no blind spot.
func TestTileTokensByDay(t *testing.T) {
	t.Parallel()
	s := initStore(t, txSQL, Config{NoGC: true})
	ctx := context.Background()
	const day0, day, hour = int64(1704067200000), int64(86_400_000), int64(3_600_000)
	a := []types.Value{types.StringValue("a")}
	r := storage.TileRange{Table: "tx", Key: a, Width: hour, From: math.MinInt64, To: math.MaxInt64}
	build := func() int {
		t.Helper()
		bs, err := s.ReadBuckets(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		tiles := make([]storage.Tile, len(bs))
		for i, b := range bs {
			tiles[i] = storage.Tile{Key: a, Start: b.Start, Width: hour, Rows: uint64(b.Rows.Len), Token: b.Token}
		}
		if err := s.WriteTiles(ctx, "tx", tiles); err != nil {
			t.Fatal(err)
		}
		return len(tiles)
	}
	current := func() int {
		t.Helper()
		tiles, err := s.ReadTiles(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		return len(tiles)
	}
	write := func(rows *types.Block, seqs ...uint64) {
		t.Helper()
		if err := s.Write(ctx, "tx", rows, seqs); err != nil {
			t.Fatal(err)
		}
	}
	write(txRows(tx("a", 1, day0+hour), tx("a", 2, day0+2*hour), tx("a", 3, day0+day+hour)), 1, 2, 3)
	if n := build(); n != 3 || current() != 3 {
		t.Fatalf("built %d tiles, %d current", n, current())
	}
	write(txRows(tx("a", 4, day0+5*hour)), 4) // a bucket of its own, in day0
	if n := current(); n != 1 {
		t.Errorf("after a row in another hour of day0: %d current tiles, want 1 (the next day's)", n)
	}
	if n := build(); n != 4 || current() != 4 {
		t.Errorf("rebuilt %d tiles, %d current", n, current())
	}
	write(txRows(tx("a", 30, day0+day+hour)), 3) // the same row alone, another value: the same cut
	if n := current(); n != 3 {
		t.Errorf("after the same row written again with another value: %d current tiles, want 3", n)
	}
	if n := build(); n != 4 || current() != 4 {
		t.Errorf("rebuilt %d tiles, %d current", n, current())
	}
	write(txRows(tx("a", 30, day0+day+hour)), 3) // the very same write again: identical segments
	if n := current(); n != 3 {
		t.Errorf("after the same write repeated exactly: %d current tiles, want 3", n)
	}
}

// countingStore opens a store on an emulator of its own that counts the
// ReadRows calls it serves and what they send back.
func countingStore(t *testing.T) (*Store, *atomic.Int64, *streamCounts) {
	t.Helper()
	calls, c := new(atomic.Int64), new(streamCounts)
	count := func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if info.FullMethod != "/google.bigtable.v2.Bigtable/ReadRows" {
			return handler(srv, ss)
		}
		calls.Add(1)
		return handler(srv, &countingStream{ServerStream: ss, counts: c})
	}
	addr, stop, err := emulators.StartBigtable("", grpc.ChainStreamInterceptor(count))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	// Compaction off: its reads would count among the test's.
	return openStore(t, addr, Config{NoGC: true, CompactAt: -1}), calls, c
}

// TestReadTilesOneCall: ReadTiles reads tiles and tokens in one ReadRows
// call, whatever the width and the number of day rows, and receives one
// cell of each day row, its version, and no segment: no row value.
func TestReadTilesOneCall(t *testing.T) {
	t.Parallel()
	s, calls, c := countingStore(t)
	ctx := context.Background()
	if err := s.Init(ctx, compile(t, txSQL)); err != nil {
		t.Fatal(err)
	}
	const day0, day = int64(1704067200000), int64(86_400_000)
	a := []types.Value{types.StringValue("a")}
	for d := range int64(10) { // a row a write: two segments a day
		for i := range int64(2) {
			if err := s.Write(ctx, "tx", txRows(tx("a", 1, day0+d*day+5+i)), []uint64{uint64(2*d + i)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, width := range []int64{day / 4, day, 3 * day} {
		r := storage.TileRange{Table: "tx", Key: a, Width: width, From: math.MinInt64, To: math.MaxInt64}
		bs, err := s.ReadBuckets(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		tiles := make([]storage.Tile, len(bs))
		for i, b := range bs {
			tiles[i] = storage.Tile{Key: a, Start: b.Start, Width: width, Rows: uint64(b.Rows.Len), Token: b.Token, Partials: [][]byte{{1, 2, 3}}}
		}
		if err := s.WriteTiles(ctx, "tx", tiles); err != nil {
			t.Fatal(err)
		}
		calls.Store(0)
		c.reset()
		got, err := s.ReadTiles(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(bs) || calls.Load() != 1 || c.versions.Load() != 10 || c.versionBytes.Load() != 10*versionLen ||
			c.segments.Load() != 0 || c.tiles.Load() != int64(len(bs)) || c.tileBytes.Load() == 0 {
			t.Errorf("width %d: %d of %d tiles in %d ReadRows calls, receiving %d version cells (%d bytes), %d segment cells and %d tile cells (%d bytes)",
				width, len(got), len(bs), calls.Load(), c.versions.Load(), c.versionBytes.Load(), c.segments.Load(), c.tiles.Load(), c.tileBytes.Load())
		}
	}
}

// countingStream counts the cells a ReadRows stream sends: version cells,
// segments and tiles, and their value bytes.
type countingStream struct {
	grpc.ServerStream
	counts *streamCounts
}

type streamCounts struct {
	versions, versionBytes, segments, tiles, tileBytes atomic.Int64
}

func (c *streamCounts) reset() {
	for _, n := range []*atomic.Int64{&c.versions, &c.versionBytes, &c.segments, &c.tiles, &c.tileBytes} {
		n.Store(0)
	}
}

func (c *countingStream) SendMsg(m any) error {
	if r, ok := m.(*btpb.ReadRowsResponse); ok {
		var key, qual []byte
		for _, ch := range r.Chunks {
			if len(ch.RowKey) > 0 {
				key = ch.RowKey
			}
			if ch.Qualifier != nil {
				qual = ch.Qualifier.Value
			}
			n := int64(len(ch.Value))
			switch {
			case key[0] == tilePrefix:
				c.counts.tiles.Add(1)
				c.counts.tileBytes.Add(n)
			case string(qual) == versionQualifier:
				c.counts.versions.Add(1)
				c.counts.versionBytes.Add(n)
			default:
				c.counts.segments.Add(1)
			}
		}
	}
	return c.ServerStream.SendMsg(m)
}
