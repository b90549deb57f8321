package console

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/examples"
	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/functions"
	"github.com/fenestra-dev/fenestra/storage"
)

// cardsStart is when the test data starts: stores run on clocks at the
// epoch (epoch), so absolute TTLs keep every row, as in batch mode.
var cardsStart = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)

func epoch() time.Time { return time.UnixMilli(0) }

// cards is the cards example's data, generated once per test binary.
type cards struct {
	ex     *examples.Example
	tables map[string]*types.Block
	busy   string // the card with the most transactions
}

func cardsData(t testing.TB, rows int) *cards {
	t.Helper()
	ex, err := examples.Lookup("cards")
	if err != nil {
		t.Fatal(err)
	}
	tables, err := ex.Generate(examples.Config{Rows: rows, Seed: 1, Start: cardsStart})
	if err != nil {
		t.Fatal(err)
	}
	tx := tables["tx"]
	kc := tx.Schema.Index("card")
	count := map[string]int{}
	c := &cards{ex: ex, tables: tables}
	for i := range tx.Len {
		k := tx.Cols[kc].Value(i).S
		if count[k]++; count[k] > count[c.busy] {
			c.busy = k
		}
	}
	return c
}

// load writes the data to store, each table's rows in arrival order (a
// load's sequence numbers: table<<40 | row).
func (c *cards) load(t testing.TB, store storage.Store) {
	t.Helper()
	ctx := context.Background()
	if err := store.Init(ctx, c.ex.Module.Tables); err != nil {
		t.Fatal(err)
	}
	for ti, def := range c.ex.Module.Tables {
		rows := c.tables[def.Name]
		seqs := make([]uint64, rows.Len)
		for i := range seqs {
			seqs[i] = uint64(ti+1)<<40 | uint64(i+1)
		}
		if err := store.Write(ctx, def.Name, rows, seqs); err != nil {
			t.Fatal(err)
		}
	}
}

// fixture is an API server with the console over the cards example in
// memory.
type fixture struct {
	*cards
	svc     *functions.Service
	console *Console
	handler http.Handler
}

func newFixture(t testing.TB, rows int, opts Options, sopts functions.ServerOptions) *fixture {
	t.Helper()
	c := cardsData(t, rows)
	mem := storage.NewMem(epoch)
	c.load(t, mem)
	svc, err := functions.New(c.ex.Module, mem, functions.Options{})
	if err != nil {
		t.Fatal(err)
	}
	opts.Store = mem
	if opts.SQL == nil {
		opts.SQL = FileSQL(c.ex.Path, c.ex.SQL)
	}
	con := New(opts)
	sopts.Routes = con.Routes()
	return &fixture{cards: c, svc: svc, console: con, handler: functions.NewServer(svc, sopts)}
}

// response is an HTTP answer.
type response struct {
	status int
	header http.Header
	body   string
}

func (f *fixture) do(method, path, body string, header ...string) response {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	f.handler.ServeHTTP(w, r)
	b, _ := io.ReadAll(w.Result().Body)
	return response{status: w.Code, header: w.Header(), body: string(b)}
}

// get sends a GET and decodes a 200's JSON into v.
func (f *fixture) get(t testing.TB, path string, v any) {
	t.Helper()
	r := f.do(http.MethodGet, path, "")
	if r.status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, r.status, r.body)
	}
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, r.body)
	}
}

// apiError is an error answer.
type apiError struct {
	Error string `json:"error"`
	Field string `json:"field"`
}

// compile compiles a feature file.
func compile(t testing.TB, sql string) *featurelang.Module {
	t.Helper()
	mod, err := featurelang.Compile("test.sql", sql, featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return mod
}
