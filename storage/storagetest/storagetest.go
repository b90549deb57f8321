// Package storagetest runs data-driven storage test files against any
// storage.Store, so the in-memory and the Bigtable implementations are held
// to the same cases and must print the same results.
//
// A file is a sequence of cases separated by blank lines:
//
//	# comment
//	command arg=value ...
//	input lines
//	----
//	expected output
//
// Commands:
//
//	init                 input: CREATE TABLE statements; Store.Init
//	now at="2024-01-01 00:00:00"   sets the clock TTLs use
//	write table          input: CSV with a seq column and table columns
//	read table keys=c1,c2 key=v1,v2 [ts=col] [from=t] [to=t] [limit=n] [newest]
//	scan table [keys=... key=...] [ts=col from=t to=t limit=n]   eval.Source
//	describe table
//	write-tiles table index=n window=name width=w   input: CSV of the index's KEY
//	                     columns, start, rows, maxseq, partials; TileStore.WriteTiles
//	read-tiles table index=n window=name width=w [key=v1,v2] [from=t] [to=t]
//	read-buckets table index=n width=w key=v1,v2 [from=t] [to=t]
//	build-tiles table index=n window=name width=w key=v1,v2 [from=t] [to=t]
//	put-deployment [db=d] name=n [created=t] [plan=json] [version=v]
//	                     input: a feature file; its first DEPLOY, as d.n
//	deployment [db=d] name=n
//	deployments
//	drop-deployment [db=d] name=n
//
// Tile commands need a storage.TileStore. A tile's window is
// storage.WindowID("", name); its width is milliseconds or a number with a
// unit (ms, s, m, h, d); its partials are hex, separated by spaces, "-"
// for an empty one. read-tiles prints the tiles in the write-tiles format.
// write-tiles writes tiles of token 0, the token of a bucket without rows:
// they are current while their bucket holds no row. read-buckets prints
// each bucket's rows (TileStore.ReadBuckets) with the bucket's start and
// the rows' sequence numbers; tokens differ between stores and are not
// printed. build-tiles reads the buckets and writes a tile of each, with
// its token, its row count, its highest sequence number and no partials,
// as a builder would: read-tiles then shows which tiles are current.
//
// Deployment commands need a storage.DeploymentStore. put-deployment
// stores the input's first DEPLOY, its plan's Name and DB set to n and
// d, with the input as its SQL; plan= and version= replace the record's plan JSON
// and version, created= its creation time (else the store's clock sets
// it). deployment and deployments print a line per deployment: database,
// name, creation time, options, plan=ok when the plan decodes to a plan
// of the record's version, and the SQL's last line.
//
// Times are "2006-01-02 15:04:05" in UTC+8 (as CAST reads them) or epoch
// milliseconds; "min" and "max" are the extremes. Outputs are CSV rows (see
// internal/rowcsv), "ok", or "error: " and the error's kind.
package storagetest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/funcs"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/rowcsv"
	"github.com/fenestra-dev/fenestra/storage"
)

var update = flag.Bool("update", false, "rewrite the expected output of the storage test files")

// Clock is a settable clock for a test file.
type Clock struct{ t time.Time }

// Now returns the clock's time.
func (c *Clock) Now() time.Time { return c.t }

// NewStore makes an empty store for one test file, using clock for TTLs.
type NewStore func(t *testing.T, clock storage.Clock) storage.Store

// Run runs every file matching pattern against stores made by newStore, as
// subtests. With -update it rewrites the expected outputs (for the store
// implementations that are the reference: run it with storage.Mem).
func Run(t *testing.T, pattern string, newStore NewStore) {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no storage test files match %s (%v)", pattern, err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), filepath.Ext(f)), func(t *testing.T) {
			runFile(t, f, newStore)
		})
	}
}

// testCase is one command with its input and expected output.
type testCase struct {
	line   int
	header string // comment lines before the command
	cmd    string
	args   map[string]string
	order  []string // argument names in order, for rewriting
	input  string
	want   string
}

func runFile(t *testing.T, path string, newStore NewStore) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cases, err := parseFile(path, string(data))
	if err != nil {
		t.Fatal(err)
	}
	clock := &Clock{t: time.Date(2024, 1, 1, 0, 0, 0, 0, types.Zone())}
	r := &runner{store: newStore(t, clock.Now), clock: clock, tables: map[string]*plan.Table{}}
	var out strings.Builder
	for _, c := range cases {
		got := r.run(c)
		if *update {
			out.WriteString(c.header + c.cmd + c.input + "----\n" + got)
			if !strings.HasSuffix(got, "\n") && got != "" {
				out.WriteString("\n")
			}
			out.WriteString("\n")
			continue
		}
		if got != c.want {
			t.Errorf("%s:%d: %s\n--- want\n%s--- got\n%s", path, c.line, strings.TrimSpace(c.cmd), c.want, got)
		}
	}
	if *update {
		if err := os.WriteFile(path, []byte(strings.TrimRight(out.String(), "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// parseFile splits a file into cases.
func parseFile(path, text string) ([]*testCase, error) {
	lines := strings.SplitAfter(text, "\n")
	var cases []*testCase
	header := ""
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch trimmed := strings.TrimSpace(l); {
		case trimmed == "":
			continue
		case strings.HasPrefix(trimmed, "#"):
			header += l
			continue
		}
		c := &testCase{line: i + 1, header: header, cmd: l}
		header = ""
		if err := c.parseCommand(strings.TrimSpace(l)); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, i+1, err)
		}
		for i++; i < len(lines) && strings.TrimRight(lines[i], "\n") != "----"; i++ {
			c.input += lines[i]
		}
		if i == len(lines) {
			return nil, fmt.Errorf("%s:%d: no ---- after the command", path, c.line)
		}
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != ""; i++ {
			c.want += lines[i]
		}
		if c.want != "" && !strings.HasSuffix(c.want, "\n") {
			c.want += "\n"
		}
		cases = append(cases, c)
	}
	return cases, nil
}

// parseCommand reads "name arg=value arg="quoted value" flag".
func (c *testCase) parseCommand(s string) error {
	fields, err := splitArgs(s)
	if err != nil {
		return err
	}
	c.cmd = s + "\n"
	c.args = map[string]string{"@": fields[0]}
	for _, f := range fields[1:] {
		k, v, _ := strings.Cut(f, "=")
		c.args[k] = v
		c.order = append(c.order, k)
	}
	return nil
}

func splitArgs(s string) ([]string, error) {
	var out []string
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		end := strings.IndexByte(s, ' ')
		if eq := strings.IndexByte(s, '='); eq >= 0 && (end < 0 || eq < end) && eq+1 < len(s) && s[eq+1] == '"' {
			q, err := strconv.QuotedPrefix(s[eq+1:])
			if err != nil {
				return nil, fmt.Errorf("bad quoted value in %q", s)
			}
			v, _ := strconv.Unquote(q)
			out = append(out, s[:eq+1]+v)
			s = s[eq+1+len(q):]
			continue
		}
		if end < 0 {
			end = len(s)
		}
		out = append(out, s[:end])
		s = s[end:]
	}
	if len(out) == 0 {
		return nil, errors.New("empty command")
	}
	return out, nil
}

type runner struct {
	store  storage.Store
	clock  *Clock
	tables map[string]*plan.Table
}

func (r *runner) run(c *testCase) string {
	ctx := context.Background()
	out, err := r.dispatch(ctx, c)
	if err != nil {
		return "error: " + errorKind(err) + "\n"
	}
	return out
}

func (r *runner) dispatch(ctx context.Context, c *testCase) (string, error) {
	switch cmd := c.args["@"]; cmd {
	case "init":
		m, err := featurelang.Compile("init.sql", c.input, featurelang.Options{})
		if err != nil {
			return "", err
		}
		if err := r.store.Init(ctx, m.Tables); err != nil {
			return "", err
		}
		for _, t := range m.Tables {
			r.tables[t.Name] = t
		}
		return "ok\n", nil
	case "now":
		t, err := parseTime(c.args["at"])
		if err != nil {
			return "", err
		}
		r.clock.t = time.UnixMilli(t)
		return "", nil
	case "write":
		return r.write(ctx, c)
	case "read":
		return r.read(ctx, c)
	case "scan":
		return r.scan(ctx, c)
	case "write-tiles":
		return r.writeTiles(ctx, c)
	case "read-tiles":
		return r.readTiles(ctx, c)
	case "read-buckets":
		return r.readBuckets(ctx, c)
	case "build-tiles":
		return r.buildTiles(ctx, c)
	case "put-deployment":
		return r.putDeployment(ctx, c)
	case "deployment":
		return r.deployment(ctx, c)
	case "deployments":
		return r.deployments(ctx)
	case "drop-deployment":
		return r.dropDeployment(ctx, c)
	case "describe":
		t, err := r.store.Describe(ctx, c.order[0])
		if err != nil {
			return "", err
		}
		return describe(t), nil
	default:
		return "", fmt.Errorf("unknown command %q", cmd)
	}
}

func (r *runner) table(ctx context.Context, c *testCase) (*plan.Table, error) {
	if len(c.order) == 0 {
		return nil, errors.New("no table named")
	}
	name := c.order[0]
	if t, ok := r.tables[name]; ok {
		return t, nil
	}
	return r.store.Describe(ctx, name)
}

func (r *runner) write(ctx context.Context, c *testCase) (string, error) {
	t, err := r.table(ctx, c)
	if err != nil {
		return "", err
	}
	schema := append(types.Schema{{Name: "seq", Type: types.Int64}}, t.Schema...)
	rows, err := rowcsv.Read(strings.NewReader(c.input), schema, "write", c.line+1)
	if err != nil {
		return "", err
	}
	seqs := make([]uint64, rows.Len)
	for i := range seqs {
		seqs[i] = uint64(rows.Cols[0].I[i])
	}
	data := &types.Block{Schema: t.Schema, Cols: rows.Cols[1:], Len: rows.Len}
	if err := r.store.Write(ctx, t.Name, data, seqs); err != nil {
		return "", err
	}
	return "ok\n", nil
}

func (r *runner) read(ctx context.Context, c *testCase) (string, error) {
	t, err := r.table(ctx, c)
	if err != nil {
		return "", err
	}
	rg := storage.Range{Table: t.Name, TS: c.args["ts"], From: math.MinInt64, To: math.MaxInt64}
	if rg.Keys, rg.Values, err = keyArgs(t, c); err != nil {
		return "", err
	}
	if err := timeArgs(c, &rg.From, &rg.To, &rg.Limit); err != nil {
		return "", err
	}
	_, rg.NewestFirst = c.args["newest"]
	b, err := r.store.Read(ctx, rg)
	if err != nil {
		return "", err
	}
	return rowcsv.Format(b), nil
}

func (r *runner) scan(ctx context.Context, c *testCase) (string, error) {
	t, err := r.table(ctx, c)
	if err != nil {
		return "", err
	}
	q := eval.Query{Table: t.Name, TS: c.args["ts"], From: math.MinInt64, To: math.MaxInt64}
	if q.Keys, q.Values, err = keyArgs(t, c); err != nil {
		return "", err
	}
	if err := timeArgs(c, &q.From, &q.To, &q.Limit); err != nil {
		return "", err
	}
	b, err := r.store.Scan(ctx, q)
	if err != nil {
		return "", err
	}
	return rowcsv.Format(b), nil
}

// keyArgs reads keys=c1,c2 key=v1,v2 (values as CAST reads them; NULL).
func keyArgs(t *plan.Table, c *testCase) ([]string, []types.Value, error) {
	if c.args["keys"] == "" {
		return nil, nil, nil
	}
	names := strings.Split(c.args["keys"], ",")
	texts := strings.Split(c.args["key"], ",")
	if len(names) != len(texts) {
		return nil, nil, fmt.Errorf("keys=%s but key=%s", c.args["keys"], c.args["key"])
	}
	vals := make([]types.Value, len(names))
	for i, n := range names {
		col := t.Schema.Index(n)
		if col < 0 {
			return nil, nil, fmt.Errorf("no column %q", n)
		}
		typ := t.Schema[col].Type
		if texts[i] == "NULL" {
			vals[i] = types.NullOf(typ)
			continue
		}
		cast, err := funcs.Cast(types.String, typ)
		if err != nil {
			return nil, nil, err
		}
		if vals[i] = cast([]types.Value{types.StringValue(texts[i])}); vals[i].Null {
			return nil, nil, fmt.Errorf("cannot read %q as %s", texts[i], typ)
		}
	}
	return names, vals, nil
}

func timeArgs(c *testCase, from, to *int64, limit *int) error {
	var err error
	if v, ok := c.args["from"]; ok {
		if *from, err = parseTime(v); err != nil {
			return err
		}
	}
	if v, ok := c.args["to"]; ok {
		if *to, err = parseTime(v); err != nil {
			return err
		}
	}
	if v, ok := c.args["limit"]; ok {
		if *limit, err = strconv.Atoi(v); err != nil {
			return err
		}
	}
	return nil
}

// parseTime reads epoch milliseconds, "min", "max", or a timestamp as CAST
// reads it.
func parseTime(s string) (int64, error) {
	switch s {
	case "min":
		return math.MinInt64, nil
	case "max":
		return math.MaxInt64, nil
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return ms, nil
	}
	cast, _ := funcs.Cast(types.String, types.Timestamp)
	v := cast([]types.Value{types.StringValue(s)})
	if v.Null {
		return 0, fmt.Errorf("cannot read %q as a time", s)
	}
	return v.I, nil
}

func describe(t *plan.Table) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s)\n", t.Name, t.Schema)
	for _, ix := range t.Indexes {
		fmt.Fprintf(&b, "index KEY=(%s) TS=%s", strings.Join(ix.Keys, ", "), ix.TS)
		if ix.TTLType != "" {
			fmt.Fprintf(&b, " TTL_TYPE=%s abs=%dms latest=%d", ix.TTLType, ix.TTLAbs, ix.TTLLat)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// errorKind names an error by the storage sentinel it wraps, so every
// implementation prints the same text; other errors print their message.
func errorKind(err error) string {
	for _, k := range []error{storage.ErrNoTable, storage.ErrSchema, storage.ErrNoIndex, storage.ErrUnavailable, storage.ErrNoTiles, storage.ErrNotFound} {
		if errors.Is(err, k) {
			return k.Error()
		}
	}
	return err.Error()
}
