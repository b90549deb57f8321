package featurelang_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/funcs"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// refDir holds the examples of OpenMLDB's function reference
// (docs/zh/openmldb_sql/udfs_8h.md) as data: the cases (*.txt, in the
// format of its README.md), the reference's 152 function names
// (functions.list) and a feature file calling them all
// (all_functions.sql).
const refDir = "testdata/reference"

// knownFile holds the cases fenestra is known to get wrong or to refuse:
// every case there has a "known" line giving the reason, and no case
// elsewhere may have one.
const knownFile = "known_differences.txt"

// refCase is one case of a reference file.
type refCase struct {
	file, label string
	line        int // of the eval line
	expr        string
	window      string   // the WINDOW clause's text, or ""
	known       string   // why the case is a known difference, or ""
	cols        []string // input columns: "name type"
	want        types.Type
	hasWant     bool
	rows        []refRow
}

// refRow is a row of input values and, when checked, the expected result.
type refRow struct {
	line  int
	vals  []string
	want  string
	check bool
}

// hidden columns added to every table: the partition key and the order of
// the default window.
const (
	keyCol   = "_k"
	orderCol = "_s"
)

const defaultWindow = "w AS (PARTITION BY " + keyCol + " ORDER BY " + orderCol +
	" ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"

// refStats counts what the cases checked; the cases run in parallel.
type refStats struct {
	mu           sync.Mutex
	cases, known int
	checked      map[string]int // mode -> values compared
}

func (s *refStats) add(c *refCase, checked map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.known != "" {
		s.known++
		return
	}
	s.cases++
	for mode, n := range checked {
		s.checked[mode] += n
	}
}

// TestReferenceExamples runs every case of refDir: one call over a small
// table, compiled with featurelang.CompileQuery and run in batch mode
// (every row at once) and in request mode (each row a request over the
// rows stored before it), which must both give the expected values, and
// the same values as each other. It fails listing every function of
// functions.list that no case calls; the log counts the cases and the
// values checked in each mode, and shows how each known difference
// differs.
func TestReferenceExamples(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(refDir, "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no reference cases in %s (%v)", refDir, err)
	}
	var all []*refCase
	for _, f := range files {
		cases, err := parseRefFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, cases...)
	}
	stats := &refStats{checked: map[string]int{}}
	t.Run("cases", func(t *testing.T) {
		for _, c := range all {
			t.Run(c.label, func(t *testing.T) {
				t.Parallel()
				stats.add(c, runRefCase(t, c))
			})
		}
	})
	t.Logf("%d files: %d cases run in batch and in request mode, checking %d values in batch mode and %d in request mode; %d known differences",
		len(files), stats.cases, stats.checked["batch"], stats.checked["request"], stats.known)
	checkCoverage(t, all)
}

// checkCoverage fails for every function of the reference no case calls.
func checkCoverage(t *testing.T, cases []*refCase) {
	names := referenceFunctions(t)
	called := map[string]bool{}
	for _, c := range cases {
		for _, n := range calledNames(c.expr + " " + c.window) {
			called[n] = true
		}
	}
	var missing []string
	for _, n := range names {
		if !called[n] {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d functions of the reference have no case in %s: %s", len(missing), refDir, strings.Join(missing, ", "))
	}
}

// referenceFunctions reads the names of functions.list.
func referenceFunctions(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(refDir, "functions.list"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 0 && !strings.HasPrefix(f[0], "#") {
			names = append(names, strings.ToLower(f[0]))
		}
	}
	if len(names) != 152 {
		t.Fatalf("functions.list names %d functions, want the reference's 152", len(names))
	}
	return names
}

var callRe = regexp.MustCompile("`?([A-Za-z_][A-Za-z0-9_]*)`?\\s*\\(")

// calledNames returns the lower-case names of the calls in SQL text.
func calledNames(sql string) []string {
	var out []string
	for _, m := range callRe.FindAllStringSubmatch(sql, -1) {
		out = append(out, strings.ToLower(m[1]))
	}
	return out
}

// parseRefFile reads the cases of one file.
func parseRefFile(path string) ([]*refCase, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	base := filepath.Base(path)
	var cases []*refCase
	var c *refCase
	header := false // the next data line is c's header
	for i, line := range strings.Split(string(data), "\n") {
		n := i + 1
		text := strings.TrimSpace(line)
		errorf := func(format string, a ...any) error {
			return fmt.Errorf("%s:%d: %s", path, n, fmt.Sprintf(format, a...))
		}
		switch {
		case text == "" || strings.HasPrefix(text, "#"):
			continue
		case strings.HasPrefix(text, "eval "):
			c = &refCase{file: base, line: n, expr: strings.TrimSpace(text[len("eval "):])}
			c.label = fmt.Sprintf("%s:%d:%s", strings.TrimSuffix(base, ".txt"), n, caseName(c.expr))
			cases = append(cases, c)
			header = true
			continue
		case c == nil:
			return nil, errorf("data before the first eval line")
		case strings.HasPrefix(text, "window "):
			c.window = strings.TrimSpace(text[len("window "):])
			continue
		case strings.HasPrefix(text, "known "):
			c.known = strings.TrimSpace(text[len("known "):])
			continue
		}
		in, out, hasOut, err := splitArrow(text)
		if err != nil {
			return nil, errorf("%v", err)
		}
		if header {
			header = false
			for _, f := range splitFields(in) {
				if f != "" {
					c.cols = append(c.cols, f)
				}
			}
			if hasOut {
				t, err := types.Parse(strings.TrimSpace(out))
				if err != nil {
					return nil, errorf("result type: %v", err)
				}
				c.want, c.hasWant = t, true
			}
			continue
		}
		vals := splitFields(in)
		if len(c.cols) == 0 && len(vals) == 1 && vals[0] == "" {
			vals = nil
		}
		if len(vals) != len(c.cols) {
			return nil, errorf("%d values for %d columns", len(vals), len(c.cols))
		}
		if hasOut && !c.hasWant {
			return nil, errorf("an expected value, but the header gives no result type")
		}
		c.rows = append(c.rows, refRow{line: n, vals: vals, want: strings.TrimSpace(out), check: hasOut})
	}
	for _, c := range cases {
		switch {
		case len(c.rows) == 0:
			return nil, fmt.Errorf("%s:%d: a case without rows", path, c.line)
		case c.known != "" && base != knownFile:
			return nil, fmt.Errorf("%s:%d: a known difference belongs in %s", path, c.line, knownFile)
		case c.known == "" && base == knownFile:
			return nil, fmt.Errorf("%s:%d: a case of %s needs a known line with its reason", path, c.line, knownFile)
		}
	}
	return cases, nil
}

// caseName names a case for go test -run: its expression's first call.
func caseName(expr string) string {
	if names := calledNames(expr); len(names) > 0 {
		return names[0]
	}
	return "expr"
}

// splitArrow splits a line at its "=>" (outside quotes).
func splitArrow(line string) (in, out string, ok bool, err error) {
	quoted := false
	for i := 0; i < len(line); i++ {
		switch {
		case line[i] == '\'':
			quoted = !quoted
		case !quoted && strings.HasPrefix(line[i:], "=>"):
			return line[:i], line[i+2:], true, nil
		}
	}
	if quoted {
		return "", "", false, fmt.Errorf("unclosed quote")
	}
	return line, "", false, nil
}

// splitFields splits at "|" outside quotes and trims each field.
func splitFields(s string) []string {
	var out []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\'':
			quoted = !quoted
		case !quoted && s[i] == '|':
			out = append(out, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

// unquote returns the text of a field: a quoted field without its quotes
// (two quotes inside stand for one), another as written; quoted reports
// which.
func unquote(f string) (text string, quoted bool) {
	if len(f) >= 2 && f[0] == '\'' && f[len(f)-1] == '\'' {
		return strings.ReplaceAll(f[1:len(f)-1], "''", "'"), true
	}
	return f, false
}

// readValue reads a field as a value of type ty: NULL; for a timestamp,
// an integer of milliseconds (as the reference prints timestamps); else
// the text as CAST('text' AS ty) reads it.
func readValue(f string, ty types.Type) (types.Value, error) {
	text, quoted := unquote(f)
	if !quoted && text == "NULL" {
		return types.NullOf(ty), nil
	}
	switch ty {
	case types.String:
		return types.StringValue(text), nil
	case types.Timestamp:
		if ms, err := strconv.ParseInt(text, 10, 64); err == nil {
			return types.TimestampValue(ms), nil
		}
	}
	cast, err := funcs.Cast(types.String, ty)
	if err != nil {
		return types.Value{}, err
	}
	v := cast([]types.Value{types.StringValue(text)})
	if v.Null {
		return v, fmt.Errorf("cannot read %q as %s", text, ty)
	}
	return v, nil
}

// refTable builds the case's table: its columns and the hidden key and
// order columns, which the case may declare itself.
func refTable(c *refCase) (*plan.Table, *types.Block, error) {
	var schema types.Schema
	for _, col := range c.cols {
		f := strings.Fields(col)
		if len(f) != 2 {
			return nil, nil, fmt.Errorf("column %q: want name and type", col)
		}
		ty, err := types.Parse(f[1])
		if err != nil {
			return nil, nil, fmt.Errorf("column %q: %v", col, err)
		}
		schema = append(schema, types.Field{Name: f[0], Type: ty})
	}
	own := len(schema)
	if schema.Index(keyCol) < 0 {
		schema = append(schema, types.Field{Name: keyCol, Type: types.Int32})
	}
	if schema.Index(orderCol) < 0 {
		schema = append(schema, types.Field{Name: orderCol, Type: types.Int64})
	}
	b := types.NewBlock(schema, len(c.rows))
	for i, r := range c.rows {
		row := make([]types.Value, len(schema))
		for j, f := range r.vals {
			v, err := readValue(f, schema[j].Type)
			if err != nil {
				return nil, nil, fmt.Errorf("line %d, column %s: %v", r.line, schema[j].Name, err)
			}
			row[j] = v
		}
		for j := own; j < len(schema); j++ {
			if schema[j].Name == keyCol {
				row[j] = types.IntValue(types.Int32, 1)
			} else {
				row[j] = types.Int64Value(int64(i + 1))
			}
		}
		b.AppendRow(row)
	}
	return &plan.Table{Name: "t", Schema: schema}, b, nil
}

var overWRe = regexp.MustCompile(`(?i)\bover\s+w\b`)

// refQuery is the case's query: its expression as r over t, with its
// window, or the default window when it calls one over w.
func refQuery(c *refCase) string {
	q := "SELECT " + c.expr + " AS r FROM t"
	switch {
	case c.window != "":
		q += " WINDOW " + c.window
	case overWRe.MatchString(c.expr):
		q += " WINDOW " + defaultWindow
	}
	return q
}

// runRefCase runs one case in both modes and returns how many values it
// compared in each. A known difference must fail, and is reported in the
// log instead of failing the test.
func runRefCase(t *testing.T, c *refCase) map[string]int {
	t.Helper()
	problems, checked := evalRefCase(c)
	switch {
	case c.known != "" && len(problems) == 0:
		t.Errorf("%s:%d: the known difference (%s) no longer differs: move the case out of %s", c.file, c.line, c.known, knownFile)
	case c.known != "":
		t.Logf("%s:%d: known difference: %s\n\t%s", c.file, c.line, c.known, strings.Join(problems, "\n\t"))
	default:
		for _, p := range problems {
			t.Errorf("%s:%d: %s", c.file, c.line, p)
		}
	}
	return checked
}

// evalRefCase compiles and runs a case, returning what went wrong.
func evalRefCase(c *refCase) (problems []string, checked map[string]int) {
	checked = map[string]int{}
	tbl, rows, err := refTable(c)
	if err != nil {
		return []string{err.Error()}, checked
	}
	q := refQuery(c)
	p, err := featurelang.CompileQuery("case.sql", q, []*plan.Table{tbl}, featurelang.Options{})
	if err != nil {
		return []string{fmt.Sprintf("%s: does not compile:\n%v", q, err)}, checked
	}
	if got := p.Output[0].Type; c.hasWant && got != c.want {
		problems = append(problems, fmt.Sprintf("%s: result type %s, want %s", c.expr, got, c.want))
	}
	ev, err := roundTrip(p)
	if err != nil {
		return append(problems, err.Error()), checked
	}
	batch, batchErr := refBatch(ev, rows)
	req, reqErr := refRequest(ev, rows)
	for mode, res := range map[string]struct {
		out []types.Value
		err error
	}{"batch": {batch, batchErr}, "request": {req, reqErr}} {
		if res.err != nil {
			problems = append(problems, fmt.Sprintf("%s mode: %s: %v", mode, c.expr, res.err))
			continue
		}
		for i, r := range c.rows {
			if !r.check {
				continue
			}
			checked[mode]++
			if ok, why := sameAsWant(res.out[i], r.want, c.want); !ok {
				problems = append(problems, fmt.Sprintf("%s mode, line %d: %s on row (%s) = %s, want %s%s",
					mode, r.line, c.expr, strings.Join(r.vals, " | "), res.out[i], r.want, why))
			}
		}
	}
	if batchErr == nil && reqErr == nil {
		for i := range batch {
			if !types.Identical(batch[i], req[i]) {
				problems = append(problems, fmt.Sprintf("line %d: %s: batch mode gives %s, request mode %s",
					c.rows[i].line, c.expr, batch[i], req[i]))
			}
		}
	}
	slices.Sort(problems)
	return problems, checked
}

// roundTrip rebuilds the plan from its JSON, as a remote host would, and
// builds its evaluator.
func roundTrip(p *plan.Plan) (*eval.Evaluator, error) {
	b, err := plan.Marshal(p)
	if err != nil {
		return nil, err
	}
	q, err := plan.Unmarshal(b)
	if err != nil {
		return nil, err
	}
	return eval.New(q)
}

// refBatch evaluates every row at once and returns r of each.
func refBatch(ev *eval.Evaluator, rows *types.Block) ([]types.Value, error) {
	out, err := ev.Batch(context.Background(), map[string]*types.Block{"t": rows})
	if err != nil {
		return nil, err
	}
	if out.Len != rows.Len {
		return nil, fmt.Errorf("%d output rows for %d input rows", out.Len, rows.Len)
	}
	res := make([]types.Value, out.Len)
	for i := range res {
		res[i] = out.Cols[0].Value(i)
	}
	return res, nil
}

// refRequest sends each row as a request over the rows stored before it,
// then stores it.
func refRequest(ev *eval.Evaluator, rows *types.Block) ([]types.Value, error) {
	ctx := context.Background()
	src := eval.NewMemSource()
	src.Create("t", rows.Schema)
	res := make([]types.Value, rows.Len)
	for i := range res {
		row := rows.Row(i, nil)
		out, err := ev.Request(ctx, row, src)
		if err != nil {
			return nil, fmt.Errorf("row %d: %w", i+1, err)
		}
		if out == nil {
			return nil, fmt.Errorf("row %d: no output row", i+1)
		}
		res[i] = out[0]
		if err := src.Insert("t", row); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// sameAsWant compares a result with its expected text: NULL; ~x for a
// float equal to x at the digits x shows; an array or map as it prints;
// any other value read as CAST(text AS type) reads it, compared exactly
// (floats bit for bit).
func sameAsWant(got types.Value, want string, ty types.Type) (bool, string) {
	text, quoted := unquote(want)
	if !quoted && text == "NULL" {
		return got.Null, ""
	}
	if got.Null {
		return false, ""
	}
	if !quoted && strings.HasPrefix(text, "~") && ty.IsFloat() {
		digits := 0
		if i := strings.IndexByte(text, '.'); i >= 0 {
			digits = len(text) - i - 1
		}
		return strconv.FormatFloat(got.F, 'f', digits, 64) == text[1:], " (rounded)"
	}
	if ty.Kind() == types.KindArray || ty.Kind() == types.KindMap {
		return got.String() == text, ""
	}
	w, err := readValue(want, ty)
	if err != nil {
		return false, " (" + err.Error() + ")"
	}
	if ty.IsFloat() && math.IsNaN(w.F) {
		return math.IsNaN(got.F), ""
	}
	return types.Identical(got, w), ""
}
