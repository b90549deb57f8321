package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/examples"
	"github.com/fenestra-dev/fenestra/internal/datafile"
)

// TestGenStreamsSameBytes: the files writeExampleFiles streams are, byte
// for byte, those of the tables Generate returns in memory, written whole,
// in every format, for row counts around the ring of late transactions,
// a block, and (for Parquet) a row group.
func TestGenStreamsSameBytes(t *testing.T) {
	t.Parallel()
	e, err := examples.Lookup("cards")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 7, 1000, 54321, datafile.DefaultRowGroupRows + 3*examples.StreamBlock + 5} {
		for _, ext := range []string{"csv", "jsonl", "parquet"} {
			t.Run(fmt.Sprintf("%d rows, %s", n, ext), func(t *testing.T) {
				t.Parallel()
				cfg := examples.Config{Rows: n, Seed: 5, Start: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)}
				streamed, whole := t.TempDir(), t.TempDir()
				ef, err := writeExampleFiles(e, cfg, streamed, ext)
				if err != nil {
					t.Fatal(err)
				}
				tables, err := e.Generate(cfg)
				if err != nil {
					t.Fatal(err)
				}
				for i, tb := range e.Module.Tables {
					if tf := ef.Tables[i]; tf.Table != tb.Name || tf.Rows != tables[tb.Name].Len {
						t.Errorf("listed %s, %d rows; want %s, %d rows", tf.Table, tf.Rows, tb.Name, tables[tb.Name].Len)
					}
					name := tb.Name + "." + ext
					if err := datafile.WriteFile(filepath.Join(whole, name), tables[tb.Name]); err != nil {
						t.Fatal(err)
					}
					a, errA := os.ReadFile(filepath.Join(streamed, name))
					b, errB := os.ReadFile(filepath.Join(whole, name))
					if errA != nil || errB != nil || !bytes.Equal(a, b) {
						t.Errorf("%s: streamed %d bytes, written whole %d, not the same (%v, %v)", name, len(a), len(b), errA, errB)
					}
				}
			})
		}
	}
}
