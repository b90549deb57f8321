package datafile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// TestWriteFile writes a block as CSV, JSON Lines and Parquet by the
// file's name and reads it back identical; a name of no known format is
// refused and writes nothing.
func TestWriteFile(t *testing.T) {
	t.Parallel()
	schema := types.Schema{{Name: "k", Type: types.String}, {Name: "v", Type: types.Double}}
	b := types.BlockOf(schema, [][]types.Value{{types.StringValue("a,\"b"), types.DoubleValue(1.5)}, {types.NullOf(types.String), types.NullOf(types.Double)}})
	dir := t.TempDir()
	for _, name := range []string{"t.csv", "t.jsonl", "t.parquet"} {
		path := filepath.Join(dir, name)
		if err := WriteFile(path, b); err != nil {
			t.Fatal(err)
		}
		r, err := OpenFile(path, schema)
		if err != nil {
			t.Fatal(err)
		}
		got := types.NewBlock(schema, 0)
		for {
			if _, err := r.Next(got, nil, 100); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatal(err)
			}
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		if got.Len != b.Len {
			t.Fatalf("%s: %d rows back, want %d", name, got.Len, b.Len)
		}
		for i := 0; i < b.Len; i++ {
			for c := range schema {
				if !types.Identical(got.Cols[c].Value(i), b.Cols[c].Value(i)) {
					t.Errorf("%s row %d column %d: %v, want %v", name, i, c, got.Cols[c].Value(i), b.Cols[c].Value(i))
				}
			}
		}
	}
	if err := WriteFile(filepath.Join(dir, "t.orc"), b); err == nil {
		t.Error("a .orc name: no error")
	}
	if _, err := os.Stat(filepath.Join(dir, "t.orc.tmp")); !os.IsNotExist(err) {
		t.Errorf("a refused write left a file: %v", err)
	}
}

// TestCreateFile writes rows block by block, reusing the block, and gets
// the bytes WriteFile writes of them all at once, in every format (for
// Parquet, in blocks of a multiple of its write batch); a failed write
// leaves neither the file nor its temporary file.
func TestCreateFile(t *testing.T) {
	t.Parallel()
	schema := types.Schema{{Name: "id", Type: types.Int64}, {Name: "k", Type: types.String}, {Name: "v", Type: types.Double}}
	const n, block = 5000, 2 * writeBatch
	row := func(i int) []types.Value {
		v := types.DoubleValue(float64(i) / 7)
		if i%13 == 0 {
			v = types.NullOf(types.Double)
		}
		return []types.Value{types.Int64Value(int64(i)), types.StringValue(fmt.Sprintf("k%d", i%97)), v}
	}
	all := types.NewBlock(schema, n)
	for i := range n {
		all.AppendRow(row(i))
	}
	dir := t.TempDir()
	for _, ext := range []string{"csv", "jsonl", "parquet"} {
		whole, streamed := filepath.Join(dir, "whole."+ext), filepath.Join(dir, "streamed."+ext)
		if err := WriteFile(whole, all); err != nil {
			t.Fatal(err)
		}
		w, err := CreateFile(streamed, schema)
		if err != nil {
			t.Fatal(err)
		}
		b := types.NewBlock(schema, block)
		for i := range n {
			b.AppendRow(row(i))
			if b.Len == block || i == n-1 {
				if err := w.Write(b); err != nil {
					t.Fatal(err)
				}
				b.Reset()
			}
		}
		if _, err := os.Stat(streamed); !os.IsNotExist(err) {
			t.Errorf("%s: the file is there before Close: %v", ext, err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		a, _ := os.ReadFile(whole)
		s, _ := os.ReadFile(streamed)
		if len(a) == 0 || !bytes.Equal(a, s) {
			t.Errorf("%s: written in blocks, %d bytes; written whole, %d bytes, not the same", ext, len(s), len(a))
		}
	}
	bad := filepath.Join(dir, "bad.csv")
	w, err := CreateFile(bad, schema)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(types.NewBlock(schema[:1], 0)); err == nil {
		t.Error("a block of other columns: no error")
	}
	if err := w.Close(); err == nil || !strings.Contains(err.Error(), "writing "+bad) {
		t.Errorf("Close after a failed Write = %v, want the write's error", err)
	}
	for _, p := range []string{bad, bad + ".tmp"} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("a failed write left %s: %v", p, err)
		}
	}
}
