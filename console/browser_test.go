package console

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/fenestra-dev/fenestra/emulators"
	"github.com/fenestra-dev/fenestra/functions"
	"github.com/fenestra-dev/fenestra/storage/bigtable"
)

// chromiumNames are the browsers the browser test looks for on PATH.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"}

// findChromium returns the path of a Chromium, or "" when there is none.
func findChromium() string {
	if p := os.Getenv("FENESTRA_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range chromiumNames {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestBrowser drives the console in a real headless Chromium against an
// in-process server of the cards example over the Bigtable emulator: it
// submits the prefilled request and checks the rendered answer is the
// compute route's, and opens a key's timeline and checks its charts have
// one point per event of the chosen range. With FENESTRA_SCREENSHOTS set
// to a directory (../docs/console from this package), it writes a
// screenshot of each page there.
func TestBrowser(t *testing.T) {
	chromium := findChromium()
	if chromium == "" {
		t.Skipf("no Chromium found (looked for %s on PATH, and FENESTRA_CHROMIUM): install one, e.g. apt-get install -y chromium",
			strings.Join(chromiumNames, ", "))
	}
	shots := os.Getenv("FENESTRA_SCREENSHOTS")

	// The server: the cards example, loaded into the Bigtable emulator.
	c := cardsData(t, 5000)
	emu, stop, err := emulators.StartBigtable("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	store, err := bigtable.Open(context.Background(), bigtable.Config{Project: "p", Instance: "i", EmulatorHost: emu, Clock: epoch, NoGC: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	c.load(t, store)
	svc, err := functions.New(c.ex.Module, store, functions.Options{})
	if err != nil {
		t.Fatal(err)
	}
	con := New(Options{Store: store, SQL: FileSQL(c.ex.Path, c.ex.SQL), Keys: []string{c.busy}})
	srv := httptest.NewServer(functions.NewServer(svc, functions.ServerOptions{Routes: con.Routes()}))
	t.Cleanup(srv.Close)

	// The browser.
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.WindowSize(1200, 800))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	bctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(1200, 800)); err != nil { // starts the browser
		t.Fatalf("starting %s: %v", chromium, err)
	}
	ctx, cancel := context.WithTimeout(bctx, 2*time.Minute)
	t.Cleanup(cancel)
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	shot := func(name string) {
		t.Helper()
		if shots == "" {
			return
		}
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot of %s: %v", name, err)
		}
		if err := os.MkdirAll(shots, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Deployments.
	do("deployments", chromedp.Navigate(srv.URL+"/#/deployments"),
		chromedp.WaitVisible(chromedp.CSS(`.card[data-view="card_features"] .aggs`)))
	cards := jsEval[int](t, ctx, `document.querySelectorAll(".card").length`)
	if cards != 1 {
		t.Errorf("%d view cards, want 1", cards)
	}
	shot("deployments")

	// Try a request: load the key's latest row, compute, and compare the
	// rendered answer with the compute route's.
	do("try", chromedp.Navigate(srv.URL+"/#/try"),
		chromedp.WaitVisible(chromedp.CSS(`#try-key button`)), chromedp.Click(chromedp.CSS(`#try-key button`)),
		chromedp.WaitVisible(chromedp.CSS(`#try-fields input.value`)), chromedp.Click(chromedp.CSS(`#try-submit`)),
		chromedp.WaitVisible(chromedp.CSS(`#answer td.value`)))
	sent := jsEval[string](t, ctx, `document.getElementById("answer").dataset.request`)
	rendered := jsEval[[][]string](t, ctx, `[...document.querySelectorAll("#answer td.value")].map(td => [td.dataset.col, td.textContent])`)
	shot("try")
	var sample sampleAnswer
	getJSON(t, srv.URL+"/console/api/views/card_features/sample?key="+c.busy, &sample)
	if want := `{"rows":[` + string(sample.Row) + `]}`; sent != want {
		t.Errorf("the page sent %s; the prefilled row is %s", sent, want)
	}
	cols, row := compute(t, srv.URL, sent)
	if len(rendered) != len(cols) {
		t.Fatalf("the page shows %d features, the answer has %d", len(rendered), len(cols))
	}
	for i, r := range rendered {
		if r[0] != cols[i] || r[1] != string(row[i]) {
			t.Errorf("the page shows %s = %s; the compute route answers %s = %s", r[0], r[1], cols[i], row[i])
		}
	}

	// A key over time: a range of the busiest card's events; every chart
	// has a point per event of the range.
	tx := c.tables["tx"]
	kc, tc := tx.Schema.Index("card"), tx.Schema.Index("ts")
	var last int64
	for i := range tx.Len {
		if tx.Cols[kc].Value(i).S == c.busy {
			last = max(last, tx.Cols[tc].I[i])
		}
	}
	to := time.UnixMilli(last).UTC().Truncate(time.Second).Add(time.Second)
	from := to.Add(-4 * 24 * time.Hour)
	want := 0
	for i := range tx.Len {
		if ts := tx.Cols[tc].I[i]; tx.Cols[kc].Value(i).S == c.busy && ts >= from.UnixMilli() && ts <= to.UnixMilli() {
			want++
		}
	}
	if want == 0 {
		t.Fatal("the chosen range holds no event")
	}
	const layout = "2006-01-02T15:04:05"
	do("timeline", chromedp.Navigate(srv.URL+"/#/timeline"), chromedp.WaitVisible(chromedp.CSS(`#tl-form button`)),
		chromedp.SetValue(chromedp.CSS(`#tl-from`), from.Format(layout)), chromedp.SetValue(chromedp.CSS(`#tl-to`), to.Format(layout)),
		chromedp.Click(chromedp.CSS(`#tl-form button`)), chromedp.WaitVisible(chromedp.CSS(`#tl-features .chart[data-points]`)))
	points := jsEval[[]string](t, ctx, `[...document.querySelectorAll("#tl-events[data-points], #tl-features .chart[data-points]")].map(e => e.dataset.points)`)
	dataRows := jsEval[int](t, ctx, `document.querySelectorAll("#tl-data tr").length - 1`)
	shot("timeline")
	if len(points) < 2 {
		t.Errorf("%d charts with points; want the events' and the features'", len(points))
	}
	for i, p := range points {
		if n, _ := strconv.Atoi(p); n != want {
			t.Errorf("chart %d plots %s points; the range holds %d events", i, p, want)
		}
	}
	if dataRows != want {
		t.Errorf("the data table has %d rows; the range holds %d events", dataRows, want)
	}

	// Live: requests come in while the page polls.
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
				compute(t, srv.URL, sent)
			}
		}
	})
	do("live", chromedp.Navigate(srv.URL+"/#/live"), chromedp.WaitVisible(chromedp.CSS(`#live-views td.num`)),
		chromedp.Sleep(7*time.Second))
	requests := jsEval[string](t, ctx, `document.querySelector("#live-views tr:nth-child(2) td:nth-child(2)").textContent`)
	shot("live")
	close(done)
	wg.Wait()
	if n, _ := strconv.Atoi(requests); n < 2 {
		t.Errorf("the Live page shows %q requests; want the ones sent", requests)
	}

	// With a token: the page asks for it, then sends it.
	locked := httptest.NewServer(functions.NewServer(svc, functions.ServerOptions{AuthToken: "s3cret", Routes: con.Routes()}))
	t.Cleanup(locked.Close)
	do("token", chromedp.Navigate(locked.URL+"/#/deployments"), chromedp.WaitVisible(chromedp.CSS(`#login-form`)),
		chromedp.SetValue(chromedp.CSS(`#token`), "wrong"), chromedp.Click(chromedp.CSS(`#login-form button`)))
	msg, err := chromedp.Run(ctx, chromedp.Poll[string](`document.getElementById("login-error").textContent || null`))
	if err != nil || !strings.Contains(msg, "refused") {
		t.Errorf("a wrong token: the page says %q (%v)", msg, err)
	}
	do("token", chromedp.SetValue(chromedp.CSS(`#token`), "s3cret"), chromedp.Click(chromedp.CSS(`#login-form button`)),
		chromedp.WaitVisible(chromedp.CSS(`.card[data-view="card_features"]`)))
}

// jsEval evaluates a JavaScript expression in the page.
func jsEval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// compute posts body to the compute route and returns the answer's
// columns and first row, each value as the JSON text the server wrote.
func compute(t *testing.T, base, body string) ([]string, []json.RawMessage) {
	resp, err := http.Post(base+"/v1/views/card_features:compute", "application/json", strings.NewReader(body))
	if err != nil {
		t.Error(err)
		return nil, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var a struct {
		Columns []struct{ Name string }
		Rows    [][]json.RawMessage
	}
	if err := json.Unmarshal(b, &a); err != nil || resp.StatusCode != 200 || len(a.Rows) != 1 {
		t.Errorf("compute: %s %s (%v)", resp.Status, b, err)
		return nil, nil
	}
	cols := make([]string, len(a.Columns))
	for i, c := range a.Columns {
		cols[i] = c.Name
	}
	return cols, a.Rows[0]
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s %s", url, resp.Status, b)
	}
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(v); err != nil {
		t.Fatal(fmt.Errorf("GET %s: %w", url, err))
	}
}
