package functions

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
)

// countSQL deploys another view named features over the same table as
// txSQL: the key's count over 10 days.
const countSQL = `
CREATE TABLE tx (
  tx_id bigint, card string, amount double, ts timestamp,
  INDEX(KEY=card, TS=ts, TTL=30d, TTL_TYPE=absolute)
);
DEPLOY features
SELECT tx_id, count(amount) OVER w AS n
FROM tx
WINDOW w AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 10d PRECEDING AND CURRENT ROW);
`

// deployed compiles sql and returns its first DEPLOY as a view of
// database db named name: its plan's DB and Name set, its tables
// renamed db.table, as a script's DEPLOY in db makes them.
func deployed(t testing.TB, sql, db, name string) *plan.Plan {
	t.Helper()
	p := compile(t, sql).Views[0]
	p.DB, p.Name = db, name
	if db == "" {
		return p
	}
	p.RequestTable = plan.Qualify(db, p.RequestTable)
	for _, tb := range p.Tables {
		tb.Name = plan.Qualify(db, tb.Name)
	}
	var rename func(n *plan.Node)
	rename = func(n *plan.Node) {
		if n == nil {
			return
		}
		if n.Op == plan.Scan {
			n.Table = plan.Qualify(db, n.Table)
		}
		rename(n.Input)
		rename(n.Right)
		for _, w := range n.Windows {
			for _, u := range w.Unions {
				rename(u)
			}
		}
	}
	rename(p.Root)
	return p
}

// put stores p as a deployment, creating its tables first.
func put(t testing.TB, store *storage.Mem, p *plan.Plan) {
	t.Helper()
	ctx := context.Background()
	if err := store.Init(ctx, p.Tables); err != nil {
		t.Fatal(err)
	}
	d, err := storage.NewDeployment("DEPLOY "+p.Name+" ...", p)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.PutDeployment(ctx, d); err != nil {
		t.Fatal(err)
	}
}

// drop drops the deployment db.name.
func drop(t testing.TB, store storage.DeploymentStore, db, name string) {
	t.Helper()
	if err := store.DropDeployment(context.Background(), db, name); err != nil {
		t.Fatal(err)
	}
}

// newCatalog returns a catalog of store polling every poll, closed at
// the test's end.
func newCatalog(t testing.TB, store CatalogStore, poll time.Duration, log *slog.Logger) *Catalog {
	t.Helper()
	c, err := NewCatalog(context.Background(), store, CatalogOptions{Poll: poll, Service: Options{Logger: log, Timeout: 10 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// eventually polls cond every few milliseconds until it holds, and fails
// the test with cond's last message after 10 seconds.
func eventually(t testing.TB, what string, cond func() (bool, string)) {
	t.Helper()
	var msg string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		var ok bool
		if ok, msg = cond(); ok {
			return
		}
	}
	t.Fatalf("%s: not within 10s; last: %s", what, msg)
}

// writeTx stores rows of table (tx's columns) in store.
func writeTx(t testing.TB, store storage.Store, table string, rows ...[]types.Value) {
	t.Helper()
	seqs := make([]uint64, len(rows))
	for i := range seqs {
		seqs[i] = uint64(i + 1)
	}
	if err := store.Write(context.Background(), table, txBlock(rows...), seqs); err != nil {
		t.Fatal(err)
	}
}

// TestCatalogServesStored: a stored deployment is served, and answers as
// the same plan served by New does, on the native and OpenMLDB routes.
func TestCatalogServesStored(t *testing.T) {
	t.Parallel()
	mem := storage.NewMem(epoch)
	p := deployed(t, txSQL, "fraud", "features")
	put(t, mem, p)
	writeTx(t, mem, "fraud.tx", tx(1, "c1", 10, t0-3_600_000), tx(2, "c1", 20, t0-60_000), tx(3, "c2", 7, t0-1000))
	cat := newCatalog(t, mem, 10*time.Millisecond, nil)

	direct, err := New(&featurelang.Module{Tables: p.Tables, Views: []*plan.Plan{p}}, mem, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := NewServer(direct, ServerOptions{})
	rows := txRow(4, "c1", 5, t0) + "," + txRow(5, "c2", 1, t0) + "," + txRow(6, "c3", 2, t0)
	for _, r := range []struct{ method, path, body string }{
		{"POST", "/v1/views/features:compute", `{"rows": [` + rows + `]}`},
		{"POST", "/v1/views/fraud.features:compute", `{"rows": [` + rows + `]}`},
		{"POST", "/dbs/fraud/deployments/features", `{"input": [` + rows + `], "need_schema": true}`},
		{"GET", "/dbs/fraud/deployments/features", ""},
		{"GET", "/v1/views/features", ""},
	} {
		got, exp := serve(cat, r.method, r.path, r.body), serve(want, r.method, r.path, r.body)
		if got.status != 200 || string(got.body) != string(exp.body) {
			t.Errorf("%s %s: %d %s\nwant %d %s", r.method, r.path, got.status, got.body, exp.status, exp.body)
		}
	}
	got := serve(cat, "POST", "/v1/views/features:compute", `{"rows": [`+rows+`]}`)
	if !strings.Contains(string(got.body), `{"view":"features","db":"fraud","version":"`+plan.Version(p)+`"`) ||
		!strings.Contains(string(got.body), `"rows":[[4,35,3,20],[5,8,2,7],[6,2,1,2]]`) {
		t.Errorf("compute: %s", got.body)
	}
	if got := serve(cat, "GET", "/v1/deployments", ""); got.status != 200 ||
		!strings.Contains(string(got.body), `{"deployments":[{"db":"fraud","name":"features","version":"`+plan.Version(p)+`","created":"1970-01-01T00:00:00Z","status":"serving"}],"poll":{"interval_ms":10,"last":"`) {
		t.Errorf("GET /v1/deployments: %d %s", got.status, got.body)
	}
	// Tables of a database take rows by their qualified name, and by their
	// name under /dbs/{db}.
	for _, r := range []struct{ method, path, body string }{
		{"PUT", "/dbs/fraud/tables/tx", `{"value": [` + txRow(7, "c9", 100, t0-1) + `]}`},
		{"PUT", "/v1/tables/fraud.tx/rows", `{"rows": [` + txRow(8, "c9", 1000, t0-2) + `]}`},
	} {
		if got := serve(cat, r.method, r.path, r.body); got.status != 200 {
			t.Errorf("%s %s: %d %s", r.method, r.path, got.status, got.body)
		}
	}
	if got := serve(cat, "POST", "/v1/views/features:compute", `{"rows": [`+txRow(9, "c9", 1, t0)+`]}`); !strings.Contains(string(got.body), `"rows":[[9,1101,3,1000]]`) {
		t.Errorf("compute after put: %s", got.body)
	}
}

// countingStore counts the lists of deployments, and can hold reads.
type countingStore struct {
	*storage.Mem
	lists atomic.Int64
	hold  chan struct{} // when set, Scan waits for it to be closed
	held  chan struct{} // closed when a Scan waits
	once  sync.Once
}

func (s *countingStore) Deployments(ctx context.Context) ([]storage.Deployment, error) {
	s.lists.Add(1)
	return s.Mem.Deployments(ctx)
}

func (s *countingStore) Scan(ctx context.Context, q eval.Query) (*types.Block, error) {
	if s.hold != nil {
		s.once.Do(func() { close(s.held) })
		<-s.hold
	}
	return s.Mem.Scan(ctx, q)
}

// TestCatalogFollowsChanges: a deployment put after the catalog started
// is served, a dropped one is not, within the poll interval, and lists
// happen once per interval whatever the traffic.
func TestCatalogFollowsChanges(t *testing.T) {
	t.Parallel()
	store := &countingStore{Mem: storage.NewMem(epoch)}
	put(t, store.Mem, deployed(t, txSQL, "fraud", "first"))
	const poll = 20 * time.Millisecond
	var logs syncBuffer
	cat := newCatalog(t, store, poll, slog.New(slog.NewTextHandler(&logs, nil)))
	body := `{"rows": [` + txRow(1, "c1", 5, t0) + `]}`
	if got := serve(cat, "POST", "/v1/views/first:compute", body); got.status != 200 {
		t.Fatalf("first: %d %s", got.status, got.body)
	}

	second := deployed(t, countSQL, "fraud", "second")
	put(t, store.Mem, second)
	drop(t, store, "fraud", "first")
	start, lists := time.Now(), store.lists.Load()
	eventually(t, "serving second only", func() (bool, string) {
		a, b := serve(cat, "POST", "/v1/views/first:compute", body), serve(cat, "POST", "/v1/views/second:compute", body)
		return a.status == 404 && b.status == 200, string(a.body) + " " + string(b.body)
	})
	if took := time.Since(start); took > 10*poll+time.Second {
		t.Errorf("the change took %v with a poll of %v", took, poll)
	}
	if got := serve(cat, "POST", "/v1/views/second:compute", body); !strings.Contains(string(got.body), `"version":"`+plan.Version(second)+`"`) ||
		!strings.Contains(string(got.body), `"rows":[[1,1]]`) {
		t.Errorf("second: %s", got.body)
	}
	if got := serve(cat, "GET", "/v1/views", ""); strings.Contains(string(got.body), `"first"`) {
		t.Errorf("GET /v1/views lists the dropped view: %s", got.body)
	}
	// Requests do not list: the lists follow the clock.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				serve(cat, "POST", "/v1/views/second:compute", body)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if n, most := store.lists.Load()-lists, int64(elapsed/poll)+2; n > most {
		t.Errorf("%d lists in %v with a poll of %v: want at most %d", n, elapsed, poll, most)
	}
	for _, want := range []string{`msg="serving deployment" deployment=fraud.first`, `msg="serving deployment" deployment=fraud.second`,
		`msg="stopped serving deployment" deployment=fraud.first`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log lacks %s:\n%s", want, logs.String())
		}
	}
}

// TestCatalogInFlight: a request in flight when its deployment is
// dropped finishes on the service it started on.
func TestCatalogInFlight(t *testing.T) {
	t.Parallel()
	store := &countingStore{Mem: storage.NewMem(epoch), hold: make(chan struct{}), held: make(chan struct{})}
	put(t, store.Mem, deployed(t, txSQL, "", "features"))
	cat := newCatalog(t, store, 10*time.Millisecond, nil)
	done := make(chan response)
	go func() {
		done <- serve(cat, "POST", "/v1/views/features:compute", `{"rows": [`+txRow(1, "c1", 5, t0)+`]}`)
	}()
	<-store.held
	drop(t, store, "", "features")
	eventually(t, "dropped", func() (bool, string) { return cat.Service().View("features") == nil, "still served" })
	close(store.hold)
	if got := <-done; got.status != 200 || !strings.Contains(string(got.body), `"rows":[[1,5,1,5]]`) {
		t.Errorf("the request in flight: %d %s", got.status, got.body)
	}
	if got := serve(cat, "POST", "/v1/views/features:compute", `{"rows": []}`); got.status != 404 {
		t.Errorf("after the drop: %d %s", got.status, got.body)
	}
}

// TestCatalogUnservable: deployments that cannot be served are reported
// and logged, and the others served: a plan of another format, a plan
// this build cannot evaluate, a plan whose table definition is not the
// store's.
func TestCatalogUnservable(t *testing.T) {
	t.Parallel()
	mem := storage.NewMem(epoch)
	ctx := context.Background()
	good := deployed(t, txSQL, "fraud", "features")
	put(t, mem, good)

	newer, err := storage.NewDeployment("DEPLOY newer ...", deployed(t, countSQL, "fraud", "newer"))
	if err != nil {
		t.Fatal(err)
	}
	newer.Plan = []byte(strings.Replace(string(newer.Plan), `"format":1`, `"format":99`, 1))

	unknown := deployed(t, countSQL, "fraud", "unknown")
	for _, e := range unknown.Root.Exprs {
		if e.Op == plan.Agg {
			e.Fn = "no_such_aggregate"
		}
	}
	// The same table with another column: the store keeps txSQL's.
	other := deployed(t, strings.Replace(countSQL, "ts timestamp,", "ts timestamp, extra int,", 1), "fraud", "other")
	for _, p := range []*plan.Plan{unknown, other} {
		d, err := storage.NewDeployment("DEPLOY ...", p)
		if err != nil {
			t.Fatal(err)
		}
		if err := mem.PutDeployment(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := mem.PutDeployment(ctx, newer); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	cat := newCatalog(t, mem, 10*time.Millisecond, slog.New(slog.NewTextHandler(&logs, nil)))

	if got := serve(cat, "POST", "/v1/views/features:compute", `{"rows": [`+txRow(1, "c1", 5, t0)+`]}`); got.status != 200 {
		t.Errorf("the good deployment: %d %s", got.status, got.body)
	}
	var list struct {
		Deployments []struct{ DB, Name, Status, Error string }
	}
	got := serve(cat, "GET", "/v1/deployments", "")
	if err := json.Unmarshal(got.body, &list); err != nil {
		t.Fatalf("%s: %v", got.body, err)
	}
	want := map[string]string{ // name -> a part of the error, or "" when served
		"features": "",
		"newer":    "plan: format 99, this build reads format 1",
		"other":    `definition of table fraud.tx, {"name":"fraud.tx","schema":[{"name":"tx_id","type":"int64"},{"name":"card","type":"string"},{"name":"amount","type":"double"},{"name":"ts","type":"timestamp"},{"name":"extra","type":"int32"}]`,
		"unknown":  "no_such_aggregate",
	}
	if len(list.Deployments) != len(want) {
		t.Fatalf("GET /v1/deployments: %s", got.body)
	}
	for _, d := range list.Deployments {
		switch w := want[d.Name]; {
		case w == "" && (d.Status != "serving" || d.Error != ""):
			t.Errorf("%s: %s %s, want serving", d.Name, d.Status, d.Error)
		case w != "" && (d.Status != "failed" || !strings.Contains(d.Error, w)):
			t.Errorf("%s: %s %q, want failed with %q", d.Name, d.Status, d.Error, w)
		case w != "":
			if g := serve(cat, "POST", "/dbs/fraud/deployments/"+d.Name, `{"input": []}`); g.status != 404 {
				t.Errorf("%s is served: %d %s", d.Name, g.status, g.body)
			}
			if !strings.Contains(logs.String(), `msg="cannot serve deployment" deployment=fraud.`+d.Name) {
				t.Errorf("%s: not logged:\n%s", d.Name, logs.String())
			}
		}
	}
	// Not logged again while nothing changes.
	before := strings.Count(logs.String(), "cannot serve")
	if err := cat.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if after := strings.Count(logs.String(), "cannot serve"); after != before {
		t.Errorf("%d error lines after a refresh without changes, %d before", after, before)
	}
}

// TestCatalogTwoDatabases: views of two databases sharing a name are
// told apart by the OpenMLDB routes' database and by db.name; the name
// alone is ambiguous.
func TestCatalogTwoDatabases(t *testing.T) {
	t.Parallel()
	mem := storage.NewMem(epoch)
	put(t, mem, deployed(t, txSQL, "db1", "features"))
	put(t, mem, deployed(t, countSQL, "db2", "features"))
	writeTx(t, mem, "db1.tx", tx(1, "c1", 10, t0-1000))
	writeTx(t, mem, "db2.tx", tx(1, "c1", 10, t0-1000), tx(2, "c1", 10, t0-2000))
	cat := newCatalog(t, mem, 10*time.Millisecond, nil)
	row := txRow(9, "c1", 1, t0)
	for _, c := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"POST", "/dbs/db1/deployments/features", `{"input": [` + row + `]}`, 200, `"data":[[9,11,2,10]]`},
		{"POST", "/dbs/db2/deployments/features", `{"input": [` + row + `]}`, 200, `"data":[[9,3]]`},
		{"POST", "/dbs/db3/deployments/features", `{"input": [` + row + `]}`, 404, `deployment \"features\" in database \"db3\" (there are db1.features, db2.features)`},
		{"GET", "/dbs/db2/deployments/features", "", 200, `"output_schema":[{"name":"tx_id","type":"int64"},{"name":"n","type":"int64"}]`},
		{"POST", "/v1/views/db1.features:compute", `{"rows": [` + row + `]}`, 200, `"rows":[[9,11,2,10]]`},
		{"POST", "/v1/views/db2.features:compute", `{"rows": [` + row + `]}`, 200, `"rows":[[9,3]]`},
		{"POST", "/v1/views/features:compute", `{"rows": [` + row + `]}`, 409, `{"error":"ambiguous name: \"features\" names 2 views, db1.features, db2.features: name one as db.name"`},
		{"GET", "/v1/views/features", "", 409, `db1.features, db2.features`},
		{"GET", "/v1/views", "", 200, `{"views":[{"name":"features","db":"db1",`},
		{"PUT", "/dbs/db2/tables/tx", `{"value": [` + txRow(3, "c1", 1, t0-1) + `]}`, 200, `{"code":0,"msg":"ok"}`},
		{"POST", "/dbs/db2/deployments/features", `{"input": [` + row + `]}`, 200, `"data":[[9,4]]`},
		{"POST", "/dbs/db1/deployments/features", `{"input": [` + row + `]}`, 200, `"data":[[9,11,2,10]]`},
		{"PUT", "/dbs/db2/tables/nope", `{"value": []}`, 404, `no table named \"nope\"`},
	} {
		got := serve(cat, c.method, c.path, c.body)
		if got.status != c.status || !strings.Contains(string(got.body), c.want) {
			t.Errorf("%s %s: %d %s\nwant %d with %s", c.method, c.path, got.status, got.body, c.status, c.want)
		}
	}
	if _, err := cat.Service().Compute(context.Background(), "features", txBlock(tx(1, "c", 1, t0)), false); !strings.Contains(err.Error(), "ambiguous") {
		t.Errorf("Compute of an ambiguous name: %v", err)
	}
}

// TestCatalogMetrics: counters run on across rebuilds, and the series of
// a dropped view go.
func TestCatalogMetrics(t *testing.T) {
	t.Parallel()
	mem := storage.NewMem(epoch)
	put(t, mem, deployed(t, txSQL, "fraud", "features"))
	put(t, mem, deployed(t, countSQL, "other", "counts"))
	cat := newCatalog(t, mem, 10*time.Millisecond, nil)
	body := `{"rows": [` + txRow(1, "c1", 5, t0) + `]}`
	serve(cat, "POST", "/v1/views/features:compute", body)
	serve(cat, "POST", "/v1/views/counts:compute", body)
	before := cat.Service()
	drop(t, mem, "other", "counts")
	eventually(t, "rebuilt", func() (bool, string) { return cat.Service() != before, "not rebuilt" })
	serve(cat, "POST", "/v1/views/features:compute", body)
	got := string(serve(cat, "GET", "/metrics", "").body)
	if !strings.Contains(got, `fenestra_requests_total{code="200",route="compute",view="fraud.features"} 2`) {
		t.Errorf("the counter of fraud.features did not run on:\n%s", grepLines(got, "fenestra_requests_total"))
	}
	// The rebuild swaps the new service in, then forgets the old one's
	// series: a scrape in between still sees them.
	eventually(t, "the dropped view's series gone", func() (bool, string) {
		got := string(serve(cat, "GET", "/metrics", "").body)
		return !strings.Contains(got, `view="other.counts"`) && !strings.Contains(got, `table="other.tx"`), grepLines(got, "other.")
	})
}

// grepLines returns the lines of s holding sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestCatalogListFails: a failing list keeps the deployments served,
// and is reported; NewCatalog fails when its first list does.
func TestCatalogListFails(t *testing.T) {
	t.Parallel()
	store := &failingList{Mem: storage.NewMem(epoch)}
	put(t, store.Mem, deployed(t, txSQL, "", "features"))
	cat := newCatalog(t, store, 10*time.Millisecond, nil)
	store.fail.Store(true)
	eventually(t, "reported", func() (bool, string) {
		got := serve(cat, "GET", "/v1/deployments", "")
		return strings.Contains(string(got.body), `"poll":{"interval_ms":10,"last":"`) && strings.Contains(string(got.body), `"error":"storage: unavailable"}}`), string(got.body)
	})
	if got := serve(cat, "POST", "/v1/views/features:compute", `{"rows": []}`); got.status != http.StatusOK {
		t.Errorf("while lists fail: %d %s", got.status, got.body)
	}
	if _, err := NewCatalog(context.Background(), store, CatalogOptions{}); err == nil {
		t.Error("NewCatalog: no error when the list fails")
	}
}

type failingList struct {
	*storage.Mem
	fail atomic.Bool
}

func (s *failingList) Deployments(ctx context.Context) ([]storage.Deployment, error) {
	if s.fail.Load() {
		return nil, storage.ErrUnavailable
	}
	return s.Mem.Deployments(ctx)
}
