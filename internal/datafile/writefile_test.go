package datafile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
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
