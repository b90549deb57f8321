package storagetest

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/rowcsv"
	"github.com/fenestra-dev/fenestra/storage"
)

// tileStore returns the runner's store as a storage.TileStore.
func (r *runner) tileStore() (storage.TileStore, error) {
	ts, ok := r.store.(storage.TileStore)
	if !ok {
		return nil, fmt.Errorf("the store (%T) does not keep tiles", r.store)
	}
	return ts, nil
}

// tileArgs reads index=n window=name width=w.
func tileArgs(t *plan.Table, c *testCase) (ord int, ix *plan.Index, window uint64, width int64, err error) {
	if ord, err = strconv.Atoi(c.args["index"]); err != nil {
		return 0, nil, 0, 0, fmt.Errorf("index=%q: %w", c.args["index"], err)
	}
	if ord >= 0 && ord < len(t.Indexes) {
		ix = t.Indexes[ord]
	} else {
		ix = &plan.Index{}
	}
	if width, err = parseWidth(c.args["width"]); err != nil {
		return 0, nil, 0, 0, err
	}
	return ord, ix, storage.WindowID("", c.args["window"]), width, nil
}

// parseWidth reads milliseconds, or a number with a unit: 1d, 6h, 90m.
func parseWidth(s string) (int64, error) {
	units := []struct {
		suffix string
		ms     int64
	}{{"ms", 1}, {"s", 1000}, {"m", 60_000}, {"h", 3_600_000}, {"d", 86_400_000}}
	for _, u := range units {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			if v, err := strconv.ParseInt(n, 10, 64); err == nil {
				return v * u.ms, nil
			}
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("width=%q: want milliseconds or a number with a unit (ms, s, m, h, d)", s)
	}
	return v, nil
}

// tileSchema is the CSV schema of tiles of index ix: its KEY columns,
// then start, rows, maxseq and partials.
func tileSchema(t *plan.Table, ix *plan.Index) types.Schema {
	var s types.Schema
	for _, k := range ix.Keys {
		if c := t.Schema.Index(k); c >= 0 {
			s = append(s, t.Schema[c])
		}
	}
	return append(s, types.Field{Name: "start", Type: types.Timestamp}, types.Field{Name: "rows", Type: types.Int64},
		types.Field{Name: "maxseq", Type: types.String}, types.Field{Name: "partials", Type: types.String})
}

func (r *runner) writeTiles(ctx context.Context, c *testCase) (string, error) {
	t, err := r.table(ctx, c)
	if err != nil {
		return "", err
	}
	ts, err := r.tileStore()
	if err != nil {
		return "", err
	}
	ord, ix, window, width, err := tileArgs(t, c)
	if err != nil {
		return "", err
	}
	schema := tileSchema(t, ix)
	rows, err := rowcsv.Read(strings.NewReader(c.input), schema, "write-tiles", c.line+1)
	if err != nil {
		return "", err
	}
	nk := len(schema) - 4
	var tiles []storage.Tile
	for _, row := range rows.Rows() {
		tile := storage.Tile{Index: ord, Window: window, Key: row[:nk], Start: row[nk].I, Width: width, Rows: uint64(row[nk+1].I)}
		if tile.MaxSeq, err = strconv.ParseUint(row[nk+2].S, 10, 64); err != nil {
			return "", fmt.Errorf("maxseq %q: %w", row[nk+2].S, err)
		}
		if tile.Partials, err = parsePartials(row[nk+3].S); err != nil {
			return "", err
		}
		tiles = append(tiles, tile)
	}
	if err := ts.WriteTiles(ctx, t.Name, tiles); err != nil {
		return "", err
	}
	return "ok\n", nil
}

func parsePartials(s string) ([][]byte, error) {
	var out [][]byte
	for _, f := range strings.Fields(s) {
		if f == "-" {
			out = append(out, []byte{})
			continue
		}
		p, err := hex.DecodeString(f)
		if err != nil {
			return nil, fmt.Errorf("partial %q: %w", f, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func formatPartials(ps [][]byte) string {
	var out []string
	for _, p := range ps {
		if len(p) == 0 {
			out = append(out, "-")
			continue
		}
		out = append(out, hex.EncodeToString(p))
	}
	return strings.Join(out, " ")
}

func (r *runner) readTiles(ctx context.Context, c *testCase) (string, error) {
	t, ts, tr, ix, err := r.tileSetup(ctx, c)
	if err != nil {
		return "", err
	}
	tiles, err := ts.ReadTiles(ctx, tr)
	if err != nil {
		return "", err
	}
	b := types.NewBlock(tileSchema(t, ix), len(tiles))
	for _, tile := range tiles {
		row := append(append([]types.Value(nil), tile.Key...), types.TimestampValue(tile.Start), types.Int64Value(int64(tile.Rows)),
			types.StringValue(strconv.FormatUint(tile.MaxSeq, 10)), types.StringValue(formatPartials(tile.Partials)))
		b.AppendRow(row)
	}
	return rowcsv.Format(b), nil
}

// tileRange reads the TileRange of a read-tiles, read-buckets or
// build-tiles command: index=n window=name width=w [key=...] [from=t] [to=t].
// tileSetup returns what a tile command of c reads: the table, the tile
// store, the range and its index.
func (r *runner) tileSetup(ctx context.Context, c *testCase) (*plan.Table, storage.TileStore, storage.TileRange, *plan.Index, error) {
	t, err := r.table(ctx, c)
	if err != nil {
		return nil, nil, storage.TileRange{}, nil, err
	}
	ts, err := r.tileStore()
	if err != nil {
		return nil, nil, storage.TileRange{}, nil, err
	}
	tr, ix, err := tileRange(t, c)
	return t, ts, tr, ix, err
}

func tileRange(t *plan.Table, c *testCase) (storage.TileRange, *plan.Index, error) {
	ord, ix, window, width, err := tileArgs(t, c)
	if err != nil {
		return storage.TileRange{}, nil, err
	}
	tr := storage.TileRange{Table: t.Name, Index: ord, Window: window, Width: width, From: math.MinInt64, To: math.MaxInt64}
	if key, ok := c.args["key"]; ok {
		c.args["keys"] = strings.Join(ix.Keys, ",")
		_, tr.Key, err = keyArgs(t, c)
		delete(c.args, "keys")
		if err != nil {
			return storage.TileRange{}, nil, err
		}
		if len(ix.Keys) == 0 {
			return storage.TileRange{}, nil, errors.New("key=" + key + " but the index has no KEY columns")
		}
	}
	if err := timeArgs(c, &tr.From, &tr.To, new(int)); err != nil {
		return storage.TileRange{}, nil, err
	}
	return tr, ix, nil
}

func (r *runner) readBuckets(ctx context.Context, c *testCase) (string, error) {
	t, ts, tr, _, err := r.tileSetup(ctx, c)
	if err != nil {
		return "", err
	}
	bs, err := ts.ReadBuckets(ctx, tr)
	if err != nil {
		return "", err
	}
	schema := append(types.Schema{{Name: "start", Type: types.Timestamp}, {Name: "seq", Type: types.String}}, t.Schema...)
	out := types.NewBlock(schema, 0)
	var row []types.Value
	for _, b := range bs {
		if b.Rows.Len == 0 || len(b.Seqs) != b.Rows.Len {
			return "", fmt.Errorf("bucket %d: %d rows, %d sequence numbers", b.Start, b.Rows.Len, len(b.Seqs))
		}
		for i := range b.Rows.Len {
			row = append(row[:0], types.TimestampValue(b.Start), types.StringValue(strconv.FormatUint(b.Seqs[i], 10)))
			for c := range b.Rows.Cols {
				row = append(row, b.Rows.Cols[c].Value(i))
			}
			out.AppendRow(row)
		}
	}
	return rowcsv.Format(out), nil
}

func (r *runner) buildTiles(ctx context.Context, c *testCase) (string, error) {
	t, ts, tr, _, err := r.tileSetup(ctx, c)
	if err != nil {
		return "", err
	}
	bs, err := ts.ReadBuckets(ctx, tr)
	if err != nil {
		return "", err
	}
	tiles := make([]storage.Tile, len(bs))
	for i, b := range bs {
		tiles[i] = bucketTile(tr, b, nil)
	}
	if err := ts.WriteTiles(ctx, t.Name, tiles); err != nil {
		return "", err
	}
	return fmt.Sprintf("ok: %d tiles\n", len(tiles)), nil
}

// bucketTile returns the tile a builder makes of bucket b of range r,
// with partials ps: the bucket's row count, highest sequence number and
// token.
func bucketTile(r storage.TileRange, b storage.Bucket, ps [][]byte) storage.Tile {
	t := storage.Tile{Index: r.Index, Window: r.Window, Key: r.Key, Start: b.Start, Width: r.Width,
		Partials: ps, Rows: uint64(len(b.Seqs)), Token: b.Token}
	if len(b.Seqs) > 0 {
		t.MaxSeq = slices.Max(b.Seqs)
	}
	return t
}
