package sidebyside

import (
	"bufio"
	"cmp"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// RelTolerance is how far apart two doubles may be, relative to the larger
// magnitude, and still count as equal: fenestra's float sums are exact
// (correctly rounded), DuckDB's may differ in the last bits.
const RelTolerance = 1e-9

// kind is how a column's values are parsed and compared.
type kind uint8

const (
	kindText  kind = iota // compared as written
	kindInt               // int64, equal
	kindFloat             // float64, within RelTolerance
)

// kindOf returns the kind a value of type t is compared as.
func kindOf(t types.Type) kind {
	switch {
	case t.IsInteger():
		return kindInt
	case t.IsFloat():
		return kindFloat
	}
	return kindText
}

// column holds one column's values; null[i] marks NULL (an empty field in
// both engines' CSV).
type column struct {
	kind kind
	null []bool
	ints []int64
	flts []float64
	text []string
}

// table is a CSV file's rows as typed columns, and the order of its rows
// by the key (first) column.
type table struct {
	path   string
	header []string
	cols   []column
	n      int
	byKey  []int32
}

// readTable reads the CSV file at path, with a header row naming schema's
// columns in order. The first column must be an integer key, unique.
func readTable(path string, schema types.Schema) (*table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReaderSize(f, 1<<20))
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: header: %w", path, err)
	}
	t := &table{path: path, header: slices.Clone(header), cols: make([]column, len(schema))}
	for i, fld := range schema {
		if i >= len(header) || header[i] != fld.Name {
			return nil, fmt.Errorf("%s: header %q, want the view's columns %s", path, strings.Join(header, ","), schema)
		}
		t.cols[i].kind = kindOf(fld.Type)
	}
	if len(header) != len(schema) || t.cols[0].kind != kindInt {
		return nil, fmt.Errorf("%s: header %q, want the view's columns %s, the first an integer key", path, strings.Join(header, ","), schema)
	}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		for i, v := range rec {
			if err := t.cols[i].append(v); err != nil {
				return nil, fmt.Errorf("%s:%d: column %s: %w", path, line, header[i], err)
			}
		}
		t.n++
	}
	return t, t.index()
}

func (c *column) append(v string) error {
	null := v == ""
	c.null = append(c.null, null)
	switch c.kind {
	case kindInt:
		var x int64
		if !null {
			var err error
			if x, err = strconv.ParseInt(v, 10, 64); err != nil {
				return err
			}
		}
		c.ints = append(c.ints, x)
	case kindFloat:
		var x float64
		if !null {
			var err error
			if x, err = strconv.ParseFloat(v, 64); err != nil {
				return err
			}
		}
		c.flts = append(c.flts, x)
	default:
		c.text = append(c.text, strings.Clone(v)) // not the reused record's line
	}
	return nil
}

// index sorts the rows by key and refuses NULL or duplicate keys.
func (t *table) index() error {
	keys := t.cols[0]
	t.byKey = make([]int32, t.n)
	for i := range t.byKey {
		if keys.null[i] {
			return fmt.Errorf("%s: row %d: NULL key", t.path, i+1)
		}
		t.byKey[i] = int32(i)
	}
	slices.SortFunc(t.byKey, func(a, b int32) int {
		return cmp.Compare(keys.ints[a], keys.ints[b])
	})
	for i := 1; i < t.n; i++ {
		if k := keys.ints[t.byKey[i]]; k == keys.ints[t.byKey[i-1]] {
			return fmt.Errorf("%s: key %s=%d twice", t.path, t.header[0], k)
		}
	}
	return nil
}

// A Diff is what a comparison of two outputs found.
type Diff struct {
	// Rows is the number of keys both outputs have; Missing and Extra the
	// keys only the first (fenestra) or only the second (DuckDB) has.
	Rows, Missing, Extra int
	// Differing counts the values that differ (floats: beyond
	// RelTolerance); Rounding the doubles that are not identical but
	// within it.
	Differing, Rounding int
	// MaxRel is the largest relative difference among Rounding's.
	MaxRel float64
	// Columns has a line per column with a difference of either kind.
	Columns []ColumnDiff
	// Examples are the first differing values, for the report.
	Examples []string
}

// ColumnDiff counts one column's differences.
type ColumnDiff struct {
	Name                string
	Differing, Rounding int
}

// OK reports whether the outputs are the same rows and values, up to
// float rounding within RelTolerance.
func (d *Diff) OK() bool { return d.Differing == 0 && d.Missing == 0 && d.Extra == 0 }

func (d *Diff) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d rows compared, %d differing values", d.Rows, d.Differing)
	if d.Missing+d.Extra > 0 {
		fmt.Fprintf(&b, ", %d rows only in fenestra's, %d only in DuckDB's", d.Missing, d.Extra)
	}
	fmt.Fprintf(&b, "; %d doubles differ within %g relative (max %.2g)", d.Rounding, RelTolerance, d.MaxRel)
	return b.String()
}

// maxExamples bounds Diff.Examples.
const maxExamples = 8

// compareTables compares a (fenestra's) and b (DuckDB's) row by row, the
// rows matched by key, whatever their order in the files.
func compareTables(a, b *table) *Diff {
	d := &Diff{Columns: make([]ColumnDiff, len(a.cols))}
	for c := range d.Columns {
		d.Columns[c].Name = a.header[c]
	}
	ka, kb := a.cols[0].ints, b.cols[0].ints
	i, j := 0, 0
	for i < a.n || j < b.n {
		switch {
		case j == b.n || i < a.n && ka[a.byKey[i]] < kb[b.byKey[j]]:
			d.Missing++
			d.example("%s=%d: only in fenestra's output", a.header[0], ka[a.byKey[i]])
			i++
		case i == a.n || kb[b.byKey[j]] < ka[a.byKey[i]]:
			d.Extra++
			d.example("%s=%d: only in DuckDB's output", a.header[0], kb[b.byKey[j]])
			j++
		default:
			d.Rows++
			d.compareRow(a, b, int(a.byKey[i]), int(b.byKey[j]))
			i++
			j++
		}
	}
	d.Columns = slices.DeleteFunc(d.Columns, func(c ColumnDiff) bool { return c.Differing == 0 && c.Rounding == 0 })
	return d
}

// compareRow compares row ra of a with row rb of b, column by column.
func (d *Diff) compareRow(a, b *table, ra, rb int) {
	for c := 1; c < len(a.cols); c++ {
		x, y := &a.cols[c], &b.cols[c]
		nx, ny := x.null[ra], y.null[rb]
		var same, rounding bool
		var rel float64
		switch {
		case nx || ny:
			same = nx == ny
		case x.kind == kindInt:
			same = x.ints[ra] == y.ints[rb]
		case x.kind == kindFloat:
			same, rel = floatsClose(x.flts[ra], y.flts[rb])
			rounding = same && rel != 0
		default:
			same = x.text[ra] == y.text[rb]
		}
		switch {
		case !same:
			d.Differing++
			d.Columns[c].Differing++
			if len(d.Examples) < maxExamples {
				d.example("%s=%d: %s: fenestra %s, DuckDB %s", a.header[0], a.cols[0].ints[ra], a.header[c], x.format(ra), y.format(rb))
			}
		case rounding:
			d.Rounding++
			d.Columns[c].Rounding++
			d.MaxRel = max(d.MaxRel, rel)
		}
	}
}

// floatsClose reports whether x and y are equal within RelTolerance, and
// their relative difference (0 when identical).
func floatsClose(x, y float64) (bool, float64) {
	if x == y || math.IsNaN(x) && math.IsNaN(y) {
		return true, 0
	}
	if math.IsInf(x, 0) || math.IsInf(y, 0) || math.IsNaN(x) || math.IsNaN(y) {
		return false, math.Inf(1)
	}
	rel := math.Abs(x-y) / max(math.Abs(x), math.Abs(y))
	return rel <= RelTolerance, rel
}

func (c *column) format(i int) string {
	switch {
	case c.null[i]:
		return "NULL"
	case c.kind == kindInt:
		return strconv.FormatInt(c.ints[i], 10)
	case c.kind == kindFloat:
		return strconv.FormatFloat(c.flts[i], 'g', -1, 64)
	}
	return strconv.Quote(c.text[i])
}

func (d *Diff) example(format string, args ...any) {
	if len(d.Examples) < maxExamples {
		d.Examples = append(d.Examples, fmt.Sprintf(format, args...))
	}
}

// compareFiles compares fenestra's output file with DuckDB's, both CSV
// files of schema's columns.
func compareFiles(fenestra, duck string, schema types.Schema) (*Diff, error) {
	a, err := readTable(fenestra, schema)
	if err != nil {
		return nil, err
	}
	b, err := readTable(duck, schema)
	if err != nil {
		return nil, err
	}
	return compareTables(a, b), nil
}
