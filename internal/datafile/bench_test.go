package datafile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// benchRows is the number of rows of the benchmark data: a day of card
// transactions.
const benchRows = 1_000_000

// benchData is the benchmark table (card_id int64, ts timestamp, amount
// double, merchant string) as a block and as encoded files.
var benchData = sync.OnceValue(func() (d table) {
	d.schema = types.Schema{{Name: "card_id", Type: types.Int64}, {Name: "ts", Type: types.Timestamp},
		{Name: "amount", Type: types.Double}, {Name: "merchant", Type: types.String}}
	rng := rand.New(rand.NewPCG(1, 1))
	merchants := make([]string, 1000)
	for i := range merchants {
		merchants[i] = fmt.Sprintf("merchant_%d", i)
		if i%100 == 0 {
			merchants[i] = fmt.Sprintf("Joe's Diner, store %d", i) // needs quotes
		}
	}
	b := types.NewBlock(d.schema, benchRows)
	ts := int64(1700000000000)
	for range benchRows {
		ts += rng.Int64N(170)
		c := &b.Cols
		(*c)[0].I = append((*c)[0].I, 4000000000000000+rng.Int64N(1e7))
		(*c)[1].I = append((*c)[1].I, ts)
		(*c)[2].F = append((*c)[2].F, float64(rng.IntN(1e6))/100)
		(*c)[3].S = append((*c)[3].S, merchants[rng.IntN(len(merchants))])
	}
	b.Len = benchRows
	d.block = b
	d.files = map[Format][]byte{}
	for _, f := range []Format{CSV, JSONL} {
		var buf bytes.Buffer
		w := NewWriter(&buf, f, d.schema)
		if err := w.Write(b); err != nil {
			panic(err)
		}
		if err := w.Flush(); err != nil {
			panic(err)
		}
		d.files[f] = buf.Bytes()
	}
	return d
})

func BenchmarkReadCSV(b *testing.B)   { benchRead(b, CSV) }
func BenchmarkReadJSONL(b *testing.B) { benchRead(b, JSONL) }

// benchRead reads the benchmark file in blocks of 4096 rows, as a
// pipeline does.
func benchRead(b *testing.B, f Format) {
	readLoop(b, benchData(), f)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchRows, "ns/row")
}

// readLoop reads d's file of format f whole, b.N times, in blocks of
// 4096 rows.
func readLoop(b *testing.B, d table, f Format) {
	data := d.files[f]
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	blk := types.NewBlock(d.schema, 4096)
	lines := make([]int64, 0, 4096)
	for b.Loop() {
		r, err := Open(bytes.NewReader(data), "bench", f, d.schema)
		if err != nil {
			b.Fatal(err)
		}
		readRows(b, r, blk, lines)
	}
}

// readRows reads all of r in blocks of 4096 rows and checks it holds
// benchRows rows.
func readRows(b *testing.B, r RowReader, blk *types.Block, lines []int64) {
	rows := 0
	for {
		blk.Reset()
		lines = lines[:0]
		n, err := r.Next(blk, &lines, 4096)
		rows += n
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	if rows != benchRows {
		b.Fatalf("read %d rows", rows)
	}
}

func BenchmarkWriteCSV(b *testing.B)   { benchWrite(b, CSV) }
func BenchmarkWriteJSONL(b *testing.B) { benchWrite(b, JSONL) }

// benchWrite writes the benchmark table in blocks of 4096 rows.
func benchWrite(b *testing.B, f Format) {
	d := benchData()
	b.SetBytes(int64(len(d.files[f])))
	b.ReportAllocs()
	var blocks []*types.Block
	for lo := 0; lo < benchRows; lo += 4096 {
		blocks = append(blocks, d.block.Gather(seq(lo, min(lo+4096, benchRows))))
	}
	for b.Loop() {
		w := NewWriter(io.Discard, f, d.schema)
		for _, blk := range blocks {
			if err := w.Write(blk); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchRows, "ns/row")
}

// table is a benchmark table as a block and as files.
type table struct {
	schema types.Schema
	block  *types.Block
	files  map[Format][]byte
}

// benchTable returns rows rows of a table of six columns (card_id int64,
// ts timestamp, amount double, merchant string, online bool, mcc int32
// with a tenth NULL) as CSV and as Parquet in row groups of groupRows.
func benchTable(rows, groupRows int) table {
	schema := types.Schema{{Name: "card_id", Type: types.Int64}, {Name: "ts", Type: types.Timestamp},
		{Name: "amount", Type: types.Double}, {Name: "merchant", Type: types.String},
		{Name: "online", Type: types.Bool}, {Name: "mcc", Type: types.Int32}}
	rng := rand.New(rand.NewPCG(2, 2))
	merchants := make([]string, 1000)
	for i := range merchants {
		merchants[i] = fmt.Sprintf("merchant_%d", i)
	}
	b := types.NewBlock(schema, rows)
	mcc := &b.Cols[5]
	mcc.Nulls = make([]bool, 0, rows)
	ts := int64(1700000000000)
	for range rows {
		ts += rng.Int64N(170)
		c := &b.Cols
		(*c)[0].I = append((*c)[0].I, 4000000000000000+rng.Int64N(1e7))
		(*c)[1].I = append((*c)[1].I, ts)
		(*c)[2].F = append((*c)[2].F, float64(rng.IntN(1e6))/100)
		(*c)[3].S = append((*c)[3].S, merchants[rng.IntN(len(merchants))])
		(*c)[4].I = append((*c)[4].I, int64(rng.IntN(2)))
		null := rng.IntN(10) == 0
		mcc.Nulls = append(mcc.Nulls, null)
		if null {
			mcc.I = append(mcc.I, 0)
		} else {
			mcc.I = append(mcc.I, 5000+rng.Int64N(1000))
		}
	}
	b.Len = rows
	d := table{schema: schema, block: b, files: map[Format][]byte{}}
	var buf bytes.Buffer
	w := NewWriter(&buf, CSV, schema)
	if err := errors.Join(w.Write(b), w.Close()); err != nil {
		panic(err)
	}
	d.files[CSV] = bytes.Clone(buf.Bytes())
	buf.Reset()
	pw, err := NewParquetWriter(&buf, schema, ParquetOptions{RowGroupRows: groupRows})
	if err != nil {
		panic(err)
	}
	if err := errors.Join(pw.Write(b), pw.Close()); err != nil {
		panic(err)
	}
	d.files[Parquet] = buf.Bytes()
	return d
}

// readBench is the table of BenchmarkRead: a million rows.
var readBench = sync.OnceValue(func() table { return benchTable(benchRows, DefaultRowGroupRows) })

// BenchmarkRead reads a million rows of a six-column table from CSV and
// from Parquet (snappy, row groups of 128K rows) in blocks of 4096 rows,
// as a pipeline does, and reports rows/s.
func BenchmarkRead(b *testing.B) {
	d := readBench()
	for _, f := range []Format{CSV, Parquet} {
		b.Run(f.String(), func(b *testing.B) {
			readLoop(b, d, f)
			data := d.files[f]
			b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(len(data))/benchRows, "file-B/row")
		})
	}
}

// BenchmarkWriteParquet writes the table of BenchmarkRead as Parquet.
func BenchmarkWriteParquet(b *testing.B) {
	d := readBench()
	b.SetBytes(int64(len(d.files[Parquet])))
	b.ReportAllocs()
	var blocks []*types.Block
	for lo := 0; lo < benchRows; lo += 4096 {
		blocks = append(blocks, d.block.Gather(seq(lo, min(lo+4096, benchRows))))
	}
	for b.Loop() {
		w, err := NewParquetWriter(io.Discard, d.schema, ParquetOptions{})
		if err != nil {
			b.Fatal(err)
		}
		for _, blk := range blocks {
			if err := w.Write(blk); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
