// Package conformance runs SQL conformance cases — OpenMLDB's own test
// cases, exported as JSON lines (see ../shared/conformance/README.md) — against
// a Host: the in-process evaluator here, and later the Beam pipeline, the
// HTTP function and the Lambda handler. Each runnable case is compiled, run
// in batch and/or request mode and compared with the expected rows; each
// case OpenMLDB rejects must be rejected at compile time.
package conformance

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// Case is one conformance case.
type Case struct {
	ID       string `json:"id"`
	Desc     string `json:"desc"`
	Category string `json:"category"`
	SQL      string `json:"sql"`
	// DB is the case's current database: the query's unqualified table
	// names are looked up in it.
	DB              string   `json:"db"`
	Inputs          []*Input `json:"inputs"`
	BatchRequest    *Input   `json:"batch_request"`
	Expect          Expect   `json:"expect"`
	HasExpectedRows bool     `json:"has_expected_rows"`
	Modes           struct {
		BatchOK   bool `json:"batch_ok"`
		RequestOK bool `json:"request_ok"`
	} `json:"modes"`
	Todo  bool `json:"todo"`
	Level int  `json:"level"`
	// LongWindow is OpenMLDB's longWindow for the case: the value of
	// DEPLOY ... OPTIONS(long_windows="...") it is deployed with.
	LongWindow string `json:"long_window"`
	Line       int    `json:"-"` // 1-based line in the cases file
}

// Input is a table of a case, or its batch_request rows.
type Input struct {
	Name string `json:"name"`
	// DB is the table's database (the case's when the case file gives
	// none); the table is named plan.Qualify(DB, Name).
	DB        string              `json:"db"`
	Columns   []string            `json:"columns"`
	IndexDefs []IndexDef          `json:"index_defs"`
	Rows      [][]json.RawMessage `json:"rows"`
}

// IndexDef is an index of an input table.
type IndexDef struct {
	Name    string          `json:"name"`
	Keys    []string        `json:"keys"`
	TS      *string         `json:"ts"`
	TTL     json.RawMessage `json:"ttl"`
	TTLType *string         `json:"ttl_type"`
}

// Expect is what a case expects.
type Expect struct {
	Columns []string            `json:"columns"`
	Rows    [][]json.RawMessage `json:"rows"`
	Order   string              `json:"order"`
	Success *bool               `json:"success"`
	// Count, when set, is the number of rows expected. OpenMLDB's case
	// files give it (count: N) for results whose rows they do not list;
	// its harnesses check the count, and the rows only when listed.
	Count *int `json:"count"`
}

// Rejected reports whether the case expects a compile-time rejection.
func (c *Case) Rejected() bool { return c.Expect.Success != nil && !*c.Expect.Success }

// Runnable reports whether the case checks rows in mode m.
func (c *Case) Runnable(m Mode) bool {
	if !c.HasExpectedRows || c.Todo || c.Rejected() {
		return false
	}
	if m == Batch {
		return c.Modes.BatchOK
	}
	return c.Modes.RequestOK
}

// Load reads a cases file: one JSON case per line.
func Load(path string) ([]*Case, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f, path)
}

// Read reads cases from r; name labels errors ("name:line: ...").
func Read(r io.Reader, name string) ([]*Case, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var out []*Case
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		c := &Case{Line: line}
		if err := json.Unmarshal([]byte(text), c); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		for _, in := range append(c.Inputs, c.BatchRequest) {
			if in != nil && in.DB == "" {
				in.DB = c.DB
			}
		}
		out = append(out, c)
	}
	return out, sc.Err()
}

// splitColumn splits "name type" at the last space (names may hold
// spaces, as in "sum(c4)over w1").
func splitColumn(s string) (string, types.Type, error) {
	i := strings.LastIndexByte(strings.TrimSpace(s), ' ')
	if i < 0 {
		return "", 0, fmt.Errorf("column %q has no type", s)
	}
	t, err := types.Parse(s[i+1:])
	if err != nil {
		return "", 0, fmt.Errorf("column %q: %w", s, err)
	}
	return strings.TrimSpace(s[:i]), t, nil
}

func schemaOf(cols []string) (types.Schema, error) {
	var s types.Schema
	for _, c := range cols {
		name, t, err := splitColumn(c)
		if err != nil {
			return nil, err
		}
		s = append(s, types.Field{Name: name, Type: t})
	}
	return s, nil
}

// Table converts an input to a table definition.
func (in *Input) Table() (*plan.Table, error) {
	s, err := schemaOf(in.Columns)
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", in.Name, err)
	}
	t := &plan.Table{Name: plan.Qualify(in.DB, in.Name), Schema: s}
	for _, ix := range in.IndexDefs {
		idx := &plan.Index{Name: ix.Name, Keys: ix.Keys}
		if ix.TS != nil {
			idx.TS = *ix.TS
		}
		t.Indexes = append(t.Indexes, idx)
	}
	return t, nil
}

// Block converts an input's rows to a block of schema s.
func (in *Input) Block(s types.Schema) (*types.Block, error) {
	b := types.NewBlock(s, len(in.Rows))
	for i, raw := range in.Rows {
		row, err := decodeRow(raw, s)
		if err != nil {
			return nil, fmt.Errorf("table %s row %d: %w", in.Name, i+1, err)
		}
		for j := range row {
			if row[j].Type == types.String && !row[j].Null {
				row[j].S = unescape(row[j].S)
			}
		}
		b.AppendRow(row)
	}
	return b, nil
}

func decodeRow(raw []json.RawMessage, s types.Schema) ([]types.Value, error) {
	if len(raw) != len(s) {
		return nil, fmt.Errorf("has %d values, the schema %d", len(raw), len(s))
	}
	row := make([]types.Value, len(s))
	for i, f := range s {
		v, err := decodeValue(raw[i], f.Type)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", f.Name, err)
		}
		row[i] = v
	}
	return row, nil
}

// decodeValue converts one JSON value of the cases format to type t.
func decodeValue(raw json.RawMessage, t types.Type) (types.Value, error) {
	var x any
	if err := json.Unmarshal(raw, &x); err != nil {
		return types.Value{}, err
	}
	if x == nil {
		return types.NullOf(t), nil
	}
	switch t.Kind() {
	case types.KindBool:
		if b, ok := x.(bool); ok {
			return types.BoolValue(b), nil
		}
	case types.KindInt16, types.KindInt32, types.KindInt64, types.KindTimestamp:
		if f, ok := x.(float64); ok {
			var i int64
			if err := json.Unmarshal(raw, &i); err != nil {
				i = int64(f)
			}
			return types.Value{Type: t, I: types.Wrap(t, i)}, nil
		}
	case types.KindFloat, types.KindDouble:
		f, ok := floatOf(x)
		if ok {
			if t == types.Float {
				return types.FloatValue(f), nil
			}
			return types.DoubleValue(f), nil
		}
	case types.KindString:
		if s, ok := x.(string); ok {
			return types.StringValue(s), nil
		}
		return types.StringValue(string(raw)), nil
	case types.KindDate:
		if s, ok := x.(string); ok {
			d, err := time.Parse(time.DateOnly, s)
			if err != nil {
				return types.Value{}, err
			}
			return types.DateValue(types.DaysOf(d.Date())), nil
		}
	}
	return types.Value{}, fmt.Errorf("cannot read %s as %s", raw, t)
}

func floatOf(x any) (float64, bool) {
	switch v := x.(type) {
	case float64:
		return v, true
	case string:
		switch strings.ToLower(v) {
		case "nan":
			return math.NaN(), true
		case "inf", "+inf", "infinity":
			return math.Inf(1), true
		case "-inf", "-infinity":
			return math.Inf(-1), true
		}
	}
	return 0, false
}

// unescape applies the backslash escapes OpenMLDB's harness applies when
// it inserts input rows: a backslash followed by any character stands for
// that character (so \\ is one backslash and \% is %).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// SharedCases returns where the shared OpenMLDB cases are:
// $FENESTRA_CONFORMANCE_CASES when set, else
// ../shared/conformance/openmldb/cases.jsonl beside the module root found
// above the working directory. The file may not exist (users' clones do not
// have it); callers check.
func SharedCases() (string, error) {
	if p := os.Getenv("FENESTRA_CONFORMANCE_CASES"); p != "" {
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for ; dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "conformance", "openmldb", "cases.jsonl"), nil
		}
	}
	return "", errors.New("conformance: no go.mod above the working directory")
}
