package sidebyside

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// TestCompareFiles checks the equality check itself: what counts as a
// difference, what as float rounding.
func TestCompareFiles(t *testing.T) {
	t.Parallel()
	schema := types.Schema{{Name: "tx_id", Type: types.Int64}, {Name: "spend", Type: types.Double},
		{Name: "n", Type: types.Int64}, {Name: "category", Type: types.String}}
	const fenestra = "tx_id,spend,n,category\n1,45.050000000000004,2,online\n2,,0,\n3,11,1,travel\n"
	for _, tc := range []struct {
		name                                string
		duck                                string
		ok                                  bool
		differing, rounding, missing, extra int
	}{
		{name: "same values, other order and spelling", duck: "tx_id,spend,n,category\n3,11.0,1,travel\n2,,0,\n1,45.050000000000004,2,online\n", ok: true},
		{name: "last bits", duck: "tx_id,spend,n,category\n1,45.05,2,online\n2,,0,\n3,11,1,travel\n", ok: true, rounding: 1},
		{name: "beyond tolerance", duck: "tx_id,spend,n,category\n1,45.0500001,2,online\n2,,0,\n3,11,1,travel\n", differing: 1},
		{name: "NULL against a value", duck: "tx_id,spend,n,category\n1,45.050000000000004,2,online\n2,0,0,grocery\n3,11,1,travel\n", differing: 2},
		{name: "count", duck: "tx_id,spend,n,category\n1,45.050000000000004,3,online\n2,,0,\n3,11,1,travel\n", differing: 1},
		{name: "rows", duck: "tx_id,spend,n,category\n1,45.050000000000004,2,online\n2,,0,\n4,11,1,travel\n", missing: 1, extra: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			a, b := filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.csv")
			if err := os.WriteFile(a, []byte(fenestra), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(b, []byte(tc.duck), 0o644); err != nil {
				t.Fatal(err)
			}
			d, err := compareFiles(a, b, schema)
			if err != nil {
				t.Fatal(err)
			}
			if d.OK() != tc.ok || d.Differing != tc.differing || d.Rounding != tc.rounding || d.Missing != tc.missing || d.Extra != tc.extra {
				t.Errorf("got %s (ok %v, %d missing, %d extra), want ok %v, %d differing, %d rounding, %d missing, %d extra; examples %q",
					d, d.OK(), d.Missing, d.Extra, tc.ok, tc.differing, tc.rounding, tc.missing, tc.extra, d.Examples)
			}
		})
	}
}

// TestCompareFilesRefuses checks that a file not of the view's columns, or
// with a duplicate key, is an error, not a comparison.
func TestCompareFilesRefuses(t *testing.T) {
	t.Parallel()
	schema := types.Schema{{Name: "tx_id", Type: types.Int64}, {Name: "spend", Type: types.Double}}
	for _, text := range []string{"tx_id,total\n1,2\n", "tx_id,spend\n1,2\n1,3\n", "tx_id,spend\n1,x\n"} {
		path := filepath.Join(t.TempDir(), "a.csv")
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := compareFiles(path, path, schema); err == nil {
			t.Errorf("%q: no error", text)
		}
	}
}
