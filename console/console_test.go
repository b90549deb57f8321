package console

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/functions"
	"github.com/fenestra-dev/fenestra/internal/datafile"
)

func TestViews(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2000, Options{Keys: []string{"c00001"}}, functions.ServerOptions{})
	var a viewsAnswer
	f.get(t, "/console/api/views", &a)
	if len(a.Views) != 1 || len(a.Keys) != 1 || a.Keys[0] != "c00001" {
		t.Fatalf("views %d, keys %v; want 1 view and the key c00001", len(a.Views), a.Keys)
	}
	v := a.Views[0]
	want := f.svc.Views()[0]
	if v.Key != "card_features" || v.Version != want.Version || v.RequestTable != "tx" || len(v.Output) != len(want.Output) {
		t.Errorf("view %s %s, request table %s, %d output columns; want card_features %s, tx, %d",
			v.Key, v.Version, v.RequestTable, len(v.Output), want.Version, len(want.Output))
	}
	if !strings.HasPrefix(v.SQL, "DEPLOY card_features") || !strings.HasSuffix(v.SQL, ";") || strings.Contains(v.SQL, "CREATE TABLE") {
		t.Errorf("sql is not the DEPLOY statement:\n%s", v.SQL)
	}
	var tables []string
	for _, tb := range v.Tables {
		tables = append(tables, tb.Name)
		if tb.Name == "tx" && (len(tb.Indexes) != 1 || tb.Indexes[0].TTL != "30d absolute" || tb.Indexes[0].TS != "ts") {
			t.Errorf("tx's indexes: %+v", tb.Indexes)
		}
	}
	if strings.Join(tables, ",") != "tx,cards,merchants" {
		t.Errorf("tables %v", tables)
	}
	if v.Events == nil || v.Events.Table != "tx" || strings.Join(v.Events.Keys, ",") != "card" || v.Events.TS != "ts" {
		t.Errorf("events read %+v; want tx by card and ts", v.Events)
	}
	if len(v.Reads) < 3 {
		t.Errorf("reads %+v; want the window and the two LAST JOINs", v.Reads)
	}
	found := false
	for _, ag := range v.Aggregates {
		if strings.HasPrefix(ag.Expr, "sum(") && ag.Window == "w10d" {
			found = true
			if ag.Source != "raw rows" || !strings.Contains(ag.Why, "not a long window") {
				t.Errorf("%s: %s (%s); want raw rows, not a long window", ag.Expr, ag.Source, ag.Why)
			}
		}
	}
	if !found {
		t.Errorf("no sum over w10d among %+v", v.Aggregates)
	}
}

// TestAggregatesTiles: an aggregate over a long window is reported as
// served from tiles, with its buckets; one tiles cannot hold, from raw
// rows with the reason.
func TestAggregatesTiles(t *testing.T) {
	t.Parallel()
	mod := compile(t, `
CREATE TABLE t (k string, v double, ts timestamp, INDEX(KEY=k, TS=ts));
DEPLOY d OPTIONS(long_windows="w:1d")
SELECT sum(v) OVER w AS s, median(v) OVER w AS m FROM t
WINDOW w AS (PARTITION BY k ORDER BY ts ROWS_RANGE BETWEEN 30d PRECEDING AND CURRENT ROW);`)
	aggs := aggregates(mod.Views[0])
	if len(aggs) != 2 {
		t.Fatalf("aggregates %+v", aggs)
	}
	if aggs[0].Source != "tiles" || aggs[0].Why != "1d buckets" {
		t.Errorf("sum: %+v; want tiles of 1d buckets", aggs[0])
	}
	if aggs[1].Source != "raw rows" || aggs[1].Why == "" {
		t.Errorf("median: %+v; want raw rows and why", aggs[1])
	}
}

func TestSample(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2000, Options{}, functions.ServerOptions{})
	var a sampleAnswer
	f.get(t, "/console/api/views/card_features/sample?key="+f.busy, &a)
	// The latest row of the card (the largest ts, the last of that ts),
	// 1 ms later.
	tx := f.tables["tx"]
	kc, tc := tx.Schema.Index("card"), tx.Schema.Index("ts")
	last := -1
	for i := range tx.Len {
		if tx.Cols[kc].Value(i).S == f.busy && (last < 0 || tx.Cols[tc].I[i] >= tx.Cols[tc].I[last]) {
			last = i
		}
	}
	// As a new request: the same event 1 ms later.
	next := tx.Gather([]int{last})
	next.Cols[tc].I[0]++
	want := `{"rows":[` + string(objectRow(next, 0)) + `]}`
	if got := `{"rows":[` + string(a.Row) + `]}`; got != want {
		t.Errorf("sample %s, want %s", got, want)
	}
	if len(a.Literals) != len(tx.Schema) || a.Literals[kc] != `"`+f.busy+`"` {
		t.Errorf("literals %v", a.Literals)
	}
	// The sample is a request the compute route takes.
	if r := f.do(http.MethodPost, "/v1/views/card_features:compute", want); r.status != http.StatusOK {
		t.Errorf("computing the sample: %d %s", r.status, r.body)
	}
}

func objectRow(b *types.Block, i int) []byte {
	out := []byte{'{'}
	for j, c := range b.Schema {
		if j > 0 {
			out = append(out, ',')
		}
		out = datafile.AppendJSONString(out, c.Name)
		out = append(out, ':')
		out = datafile.AppendJSONValue(out, b.Cols[j].Value(i))
	}
	return append(out, '}')
}

// TestBadInput: unknown views and keys are 404 naming them, bad
// parameters 400 naming the field, too many events 413 naming the limit,
// unknown console paths 404; nothing panics.
func TestBadInput(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2000, Options{}, functions.ServerOptions{})
	f.console.maxEvents = 5
	day := int64(86_400_000)
	from := cardsStart.UnixMilli()
	for _, c := range []struct {
		path   string
		status int
		field  string
		says   string
	}{
		{"/console/api/views/nope/sample?key=c00001", 404, "", `"nope"`},
		{"/console/api/views/nope/timeline?key=c00001", 404, "", `"nope"`},
		{"/console/api/views/card_features/sample?key=zz9", 404, "key", `card = "zz9"`},
		{"/console/api/views/card_features/timeline?key=zz9", 404, "key", `card = "zz9"`},
		{fmt.Sprintf("/console/api/views/card_features/timeline?key=zz9&from=%d&to=%d", from, from+day), 404, "key", `card = "zz9"`},
		{"/console/api/views/card_features/sample", 400, "key", "0 key values for the 1 key columns of tx (card)"},
		{"/console/api/views/card_features/sample?key=a&key=b", 400, "key", "2 key values"},
		{"/console/api/views/card_features/timeline?key=c00001&from=1", 400, "to", "give both"},
		{"/console/api/views/card_features/timeline?key=c00001&to=1", 400, "from", "give both"},
		{"/console/api/views/card_features/timeline?key=c00001&from=yesterday&to=1", 400, "from", `"yesterday"`},
		{"/console/api/views/card_features/timeline?key=c00001&from=10&to=1", 400, "to", "before from"},
		{fmt.Sprintf("/console/api/views/card_features/timeline?key=c00001&from=%d&to=%d", math.MinInt64, int64(math.MaxInt64)), 400, "to", "the limit is 366 days"},
		{fmt.Sprintf("/console/api/views/card_features/timeline?key=c00001&from=0&to=%d", 400*day), 400, "to", "the limit is 366 days"},
		{fmt.Sprintf("/console/api/views/card_features/timeline?key=%s&from=%d&to=%d", "c00001", from, from+30*day), 413, "from", "more than 5 events"},
		{"/console/api/views/card_features", 404, "", "no console route"},
		{"/console/api/views/card_features/sample/more", 404, "", "no console route"},
		{"/console/api/nothing", 404, "", "no console route"},
		{"/console/static/", 404, "", "no console file"},
		{"/console/static/secret.go", 404, "", "no console file"},
		{"/console/static/../console.go", 301, "", ""}, // the router cleans the path: to /console/console.go, a 404
	} {
		r := f.do(http.MethodGet, c.path, "")
		var e apiError
		json.Unmarshal([]byte(r.body), &e)
		if r.status != c.status || e.Field != c.field || !strings.Contains(e.Error, c.says) {
			t.Errorf("GET %s: %d %s; want %d, field %q, an error saying %q", c.path, r.status, r.body, c.status, c.field, c.says)
		}
	}
}

// TestReadOnly: the console's routes answer GET (and HEAD) only.
func TestReadOnly(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 500, Options{}, functions.ServerOptions{})
	for _, path := range []string{"/", "/console/static/console.js", "/console/api/views", "/console/api/live",
		"/console/api/views/card_features/sample?key=c00001", "/console/api/views/card_features/timeline?key=c00001"} {
		for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
			if r := f.do(m, path, `{"rows":[]}`); r.status != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: %d %s; want 405", m, path, r.status, r.body)
			}
		}
		if r := f.do(http.MethodHead, path, ""); r.status != http.StatusOK && r.status != http.StatusNotFound {
			t.Errorf("HEAD %s: %d", path, r.status)
		}
	}
}

// TestAuth: with a token, the page and its files are public (the page
// asks for the token), the data routes need it as the API does.
func TestAuth(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 500, Options{}, functions.ServerOptions{AuthToken: "s3cret"})
	for _, path := range []string{"/", "/console/static/console.js", "/console/static/uPlot.iife.min.js"} {
		if r := f.do(http.MethodGet, path, ""); r.status != http.StatusOK {
			t.Errorf("GET %s without a token: %d; want 200", path, r.status)
		}
	}
	for _, path := range []string{"/console/api/views", "/console/api/live", "/console/api/views/card_features/sample?key=c00001",
		"/console/api/views/card_features/timeline?key=c00001", "/console/api/nothing"} {
		if r := f.do(http.MethodGet, path, ""); r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") != "Bearer" {
			t.Errorf("GET %s without a token: %d; want 401", path, r.status)
		}
		if r := f.do(http.MethodGet, path, "", "Authorization", "Bearer wrong"); r.status != http.StatusUnauthorized {
			t.Errorf("GET %s with a wrong token: %d; want 401", path, r.status)
		}
	}
	if r := f.do(http.MethodGet, "/console/api/views", "", "Authorization", "Bearer s3cret"); r.status != http.StatusOK {
		t.Errorf("GET /console/api/views with the token: %d %s", r.status, r.body)
	}
}

// TestStatic: the page and its files are served with their types, and
// nothing in them loads from another origin.
func TestStatic(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 200, Options{}, functions.ServerOptions{})
	for path, ctype := range map[string]string{"/": "text/html", "/console/static/console.js": "text/javascript",
		"/console/static/console.css": "text/css", "/console/static/uPlot.min.css": "text/css"} {
		r := f.do(http.MethodGet, path, "")
		if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), ctype) ||
			!strings.Contains(r.header.Get("Content-Security-Policy"), "default-src 'self'") {
			t.Errorf("GET %s: %d, %s, CSP %q", path, r.status, r.header.Get("Content-Type"), r.header.Get("Content-Security-Policy"))
		}
	}
	for _, name := range []string{"index.html", "console.js", "console.css"} {
		b, err := fs.ReadFile(f.console.files, name)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("http://")) || bytes.Contains(b, []byte("https://")) || bytes.Contains(b, []byte("src=\"//")) {
			t.Errorf("%s refers to another origin", name)
		}
	}
}

// TestTimeline: a key's timeline has one point per stored event of the
// range, and each point is the view's answer as of that event: its row of
// the training set (batch mode over all the rows), bit for bit.
func TestTimeline(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 3000, Options{}, functions.ServerOptions{})
	ev, err := eval.New(f.ex.Module.Views[0])
	if err != nil {
		t.Fatal(err)
	}
	train, err := ev.Batch(context.Background(), f.tables)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[int64]int{} // tx_id -> training row
	for i := range train.Len {
		byID[train.Cols[0].I[i]] = i
	}
	check := func(path string, wantEvents int) *timelineAnswer {
		t.Helper()
		var a timelineAnswer
		f.get(t, path, &a)
		if len(a.Times) != wantEvents || len(a.Events) != wantEvents || len(a.Values) != wantEvents {
			t.Fatalf("GET %s: %d times, %d events, %d values; want %d of each", path, len(a.Times), len(a.Events), len(a.Values), wantEvents)
		}
		for i, raw := range a.Events {
			var row []json.RawMessage
			if err := json.Unmarshal(raw, &row); err != nil {
				t.Fatal(err)
			}
			id, _ := strconv.ParseInt(string(row[0]), 10, 64)
			want := datafile.AppendJSONArray(nil, train.Row(byID[id], nil))
			if !bytes.Equal(a.Values[i], want) {
				t.Errorf("event %d (tx_id %d at %d): %s; the training set has %s", i, id, a.Times[i], a.Values[i], want)
			}
			if i > 0 && a.Times[i] < a.Times[i-1] {
				t.Errorf("event %d is at %d, before event %d", i, a.Times[i], i-1)
			}
		}
		return &a
	}
	// The busiest card's events, from the data.
	tx := f.tables["tx"]
	kc, tc := tx.Schema.Index("card"), tx.Schema.Index("ts")
	var times []int64
	for i := range tx.Len {
		if tx.Cols[kc].Value(i).S == f.busy {
			times = append(times, tx.Cols[tc].I[i])
		}
	}
	// Without a range: the newest DefaultEvents (or all, when fewer).
	a := check("/console/api/views/card_features/timeline?key="+f.busy, min(len(times), DefaultEvents))
	// A range: exactly the events inside it, ends included.
	from, to := a.Times[len(a.Times)/4], a.Times[len(a.Times)/2]
	n := 0
	for _, ts := range times {
		if ts >= from && ts <= to {
			n++
		}
	}
	check(fmt.Sprintf("/console/api/views/card_features/timeline?key=%s&from=%d&to=%s", f.busy, from,
		url.QueryEscape(time.UnixMilli(to).UTC().Format(time.RFC3339Nano))), n)
	// A range without events of a known key: an empty timeline.
	check(fmt.Sprintf("/console/api/views/card_features/timeline?key=%s&from=0&to=1000", f.busy), 0)
}

// TestLive: request counts, rates and percentiles per view, from the
// registries, over the time between two samples; the stream's figures
// when stream metrics exist.
func TestLive(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	streamReg := prometheus.NewRegistry()
	lag := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "fenestra_stream_lag_records"}, []string{"topic", "partition"})
	read := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fenestra_stream_records_read_total"}, []string{"topic"})
	fresh := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "fenestra_stream_freshness_seconds", Buckets: []float64{.01, .1, 1}})
	streamReg.MustRegister(lag, read, fresh)
	f := newFixture(t, 500, Options{Clock: func() time.Time { return now }, Metrics: []prometheus.Gatherer{streamReg}}, functions.ServerOptions{})

	var a liveAnswer
	f.get(t, "/console/api/live", &a)
	if a.Seconds != 0 || len(a.Views) != 1 || a.Views[0].Requests != 0 || a.Views[0].Rate != nil || a.Stream != nil {
		t.Fatalf("first sample: %+v; want no requests, no rate, no stream", a)
	}
	body := `{"rows":[` + string(objectRow(f.tables["tx"], 0)) + `]}`
	for range 5 {
		if r := f.do(http.MethodPost, "/v1/views/card_features:compute", body); r.status != 200 {
			t.Fatal(r.body)
		}
	}
	f.do(http.MethodPost, "/v1/views/card_features:compute", `{"rows":[{}]}`) // a 400
	lag.WithLabelValues("tx", "0").Set(7)
	read.WithLabelValues("tx").Add(40)
	fresh.Observe(0.05)
	now = now.Add(10 * time.Second)
	f.get(t, "/console/api/live", &a)
	v := a.Views[0]
	if a.Seconds != 10 || v.View != "card_features" || v.Requests != 6 || v.Errors4xx != 1 || v.Errors5xx != 0 ||
		v.Rate == nil || *v.Rate != 0.6 || v.P50 == nil || v.P99 == nil || *v.P50 > *v.P99 {
		t.Errorf("after 6 requests in 10 s: seconds %v, %+v", a.Seconds, v)
	}
	if s := a.Stream; s == nil || s.Lag != 7 || s.Read != 40 || s.ReadRate == nil || *s.ReadRate != 4 || s.P50 == nil ||
		*s.P50 < 10 || *s.P50 > 100 {
		t.Errorf("stream %+v; want lag 7, 40 read at 4/s, a median freshness between 10 and 100 ms", s)
	}
}

func TestQuantile(t *testing.T) {
	t.Parallel()
	h := histogram{bounds: []float64{1, 2, 4}, counts: []float64{10, 10, 20}, count: 20}
	for _, c := range []struct{ q, want float64 }{{0.5, 1}, {0.25, 0.5}, {0.75, 3}, {1, 4}} {
		if got := h.quantile(c.q); got != c.want {
			t.Errorf("quantile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
	inf := histogram{bounds: []float64{1}, counts: []float64{0}, count: 3}
	if got := inf.quantile(0.5); got != 1 {
		t.Errorf("all in +Inf: %v, want the highest bound", got)
	}
	if got := (histogram{}).quantile(0.5); !math.IsNaN(got) {
		t.Errorf("empty: %v, want NaN", got)
	}
}

func TestParseValue(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		typ  types.Type
		text string
		want types.Value
		bad  bool
	}{
		{types.String, "c1", types.StringValue("c1"), false},
		{types.Int64, "-42", types.Int64Value(-42), false},
		{types.Int32, "3000000000", types.Value{}, true},
		{types.Int64, "x", types.Value{}, true},
		{types.Double, "2.5", types.DoubleValue(2.5), false},
		{types.Bool, "true", types.BoolValue(true), false},
		{types.Timestamp, "1700000000000", types.TimestampValue(1700000000000), false},
		{types.Timestamp, "2024-01-02T03:04:05Z", types.TimestampValue(1704164645000), false},
		{types.Date, "1970-01-03", types.DateValue(2), false},
		{types.Date, "3 Jan", types.Value{}, true},
	} {
		got, err := parseValue(c.typ, c.text)
		if (err != nil) != c.bad || !c.bad && !types.Identical(got, c.want) {
			t.Errorf("parseValue(%s, %q) = %v, %v", c.typ, c.text, got, err)
		}
	}
}
