package console

import (
	"math"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/fenestra-dev/fenestra/functions"
)

// The Live page's figures are differences between two samples of the
// metrics registries, as Prometheus's rate() and histogram_quantile()
// take them: the console keeps a sample a second at most, for
// liveHistory, and compares the newest with the newest at least
// liveWindow older (the oldest, at first).
const (
	liveWindow  = 10 * time.Second
	liveHistory = 2 * time.Minute
)

// computeRoutes are the route labels of requests that compute a view.
var computeRoutes = []string{"compute", "openmldb_deployment", "lambda_invoke"}

// liveSamples are the samples the console keeps.
type liveSamples struct {
	mu      sync.Mutex
	samples []*liveSample // oldest first
}

// liveSample is the metrics the Live page reads, at one time.
type liveSample struct {
	at     time.Time
	views  map[string]*viewSample
	stream *streamSample // nil when no stream metrics exist
}

// viewSample is one view's requests: counts and the latency histogram,
// summed over the compute routes and statuses.
type viewSample struct {
	requests, errors4xx, errors5xx, tiles float64
	latency                               histogram
}

// streamSample is a stream's metrics (dataflow.StreamMetrics).
type streamSample struct {
	read, written, bad, lag float64
	freshness               histogram
}

// histogram is a cumulative histogram: counts[i] observations at most
// bounds[i], count in all (the +Inf bucket).
type histogram struct {
	bounds, counts []float64
	count          float64
}

// add adds a Prometheus histogram to h (same buckets, or h empty).
func (h *histogram) add(m *dto.Histogram) {
	bs := m.GetBucket()
	if h.bounds == nil {
		h.bounds, h.counts = make([]float64, len(bs)), make([]float64, len(bs))
		for i, b := range bs {
			h.bounds[i] = b.GetUpperBound()
		}
	}
	if len(bs) != len(h.bounds) {
		return
	}
	for i, b := range bs {
		h.counts[i] += float64(b.GetCumulativeCount())
	}
	h.count += float64(m.GetSampleCount())
}

// since returns h minus an earlier sample of it.
func (h histogram) since(old histogram) histogram {
	if len(old.counts) != len(h.counts) {
		return h
	}
	d := histogram{bounds: h.bounds, counts: make([]float64, len(h.counts)), count: h.count - old.count}
	for i := range h.counts {
		d.counts[i] = h.counts[i] - old.counts[i]
	}
	return d
}

// quantile returns the q-quantile of h's observations, interpolating
// linearly inside the bucket it falls in (histogram_quantile); NaN
// without observations. In the +Inf bucket it is the highest bound.
func (h histogram) quantile(q float64) float64 {
	if h.count <= 0 || len(h.bounds) == 0 {
		return math.NaN()
	}
	rank := q * h.count
	prevBound, prevCount := 0.0, 0.0
	for i, c := range h.counts {
		if c >= rank && c > prevCount {
			return prevBound + (h.bounds[i]-prevBound)*(rank-prevCount)/(c-prevCount)
		}
		prevBound, prevCount = h.bounds[i], c
	}
	return h.bounds[len(h.bounds)-1]
}

// liveAnswer is the answer of /console/api/live.
type liveAnswer struct {
	At int64 `json:"at"` // epoch milliseconds
	// Seconds is the time the rates and percentiles are over: since the
	// previous sample liveWindow ago (or the first one); 0 at the first
	// sample, when only totals are known.
	Seconds float64     `json:"seconds"`
	Views   []viewLive  `json:"views"`
	Stream  *streamLive `json:"stream"`
}

type viewLive struct {
	View      string   `json:"view"`
	Requests  float64  `json:"requests"` // in all, since the process started
	Errors4xx float64  `json:"errors_4xx"`
	Errors5xx float64  `json:"errors_5xx"`
	Tiles     float64  `json:"tiles_read"`
	Rate      *float64 `json:"rate"` // requests a second over Seconds
	P50       *float64 `json:"p50_ms"`
	P90       *float64 `json:"p90_ms"`
	P99       *float64 `json:"p99_ms"`
}

type streamLive struct {
	Read     float64  `json:"records_read"`
	Written  float64  `json:"rows_written"`
	Bad      float64  `json:"bad_records"`
	Lag      float64  `json:"lag_records"`
	ReadRate *float64 `json:"read_rate"`
	P50      *float64 `json:"freshness_p50_ms"`
	P99      *float64 `json:"freshness_p99_ms"`
}

// liveSummary serves GET /console/api/live.
func (c *Console) liveSummary(svc *functions.Service) (any, error) {
	cur, err := c.sampleMetrics(svc)
	if err != nil {
		return nil, err
	}
	base := c.live.add(cur)
	secs := cur.at.Sub(base.at).Seconds()
	a := &liveAnswer{At: cur.at.UnixMilli(), Seconds: secs, Views: []viewLive{}}
	for _, v := range svc.Views() {
		now := cur.views[v.Key()]
		if now == nil {
			now = &viewSample{}
		}
		vl := viewLive{View: v.Key(), Requests: now.requests, Errors4xx: now.errors4xx, Errors5xx: now.errors5xx, Tiles: now.tiles}
		if old := base.views[v.Key()]; secs > 0 {
			if old == nil {
				old = &viewSample{}
			}
			vl.Rate = num((now.requests - old.requests) / secs)
			d := now.latency.since(old.latency)
			vl.P50, vl.P90, vl.P99 = ms(d.quantile(0.5)), ms(d.quantile(0.9)), ms(d.quantile(0.99))
		} else {
			vl.P50, vl.P90, vl.P99 = ms(now.latency.quantile(0.5)), ms(now.latency.quantile(0.9)), ms(now.latency.quantile(0.99))
		}
		a.Views = append(a.Views, vl)
	}
	if s := cur.stream; s != nil {
		sl := &streamLive{Read: s.read, Written: s.written, Bad: s.bad, Lag: s.lag}
		f := s.freshness
		if secs > 0 {
			old := base.stream
			if old == nil { // no stream then: it started since
				old = &streamSample{}
			}
			sl.ReadRate = num((s.read - old.read) / secs)
			f = f.since(old.freshness)
		}
		sl.P50, sl.P99 = ms(f.quantile(0.5)), ms(f.quantile(0.99))
		a.Stream = sl
	}
	return a, nil
}

// add keeps cur (at most a sample a second, for liveHistory) and returns
// the sample to compare it with.
func (l *liveSamples) add(cur *liveSample) *liveSample {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.samples); n == 0 || cur.at.Sub(l.samples[n-1].at) >= time.Second {
		l.samples = append(l.samples, cur)
	}
	for len(l.samples) > 2 && cur.at.Sub(l.samples[1].at) > liveHistory {
		l.samples = l.samples[1:]
	}
	base := l.samples[0]
	for _, s := range l.samples {
		if cur.at.Sub(s.at) >= liveWindow {
			base = s
		}
	}
	return base
}

// sampleMetrics reads the service's registry and Options.Metrics.
func (c *Console) sampleMetrics(svc *functions.Service) (*liveSample, error) {
	s := &liveSample{at: c.opts.Clock(), views: map[string]*viewSample{}}
	for _, g := range append([]prometheus.Gatherer{svc.Registry()}, c.opts.Metrics...) {
		fams, err := g.Gather()
		if err != nil {
			return nil, err
		}
		for _, f := range fams {
			s.addFamily(f)
		}
	}
	return s, nil
}

// addFamily adds the series of a metric family the page reads.
func (s *liveSample) addFamily(f *dto.MetricFamily) {
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		switch f.GetName() {
		case "fenestra_requests_total":
			if v := s.view(labels); v != nil {
				n := m.GetCounter().GetValue()
				v.requests += n
				switch code := labels["code"]; {
				case code >= "400" && code < "500":
					v.errors4xx += n
				case code >= "500":
					v.errors5xx += n
				}
			}
		case "fenestra_request_duration_seconds":
			if v := s.view(labels); v != nil {
				v.latency.add(m.GetHistogram())
			}
		case "fenestra_tiles_read_total":
			s.viewNamed(labels["view"]).tiles += m.GetCounter().GetValue()
		case "fenestra_stream_records_read_total":
			s.streamOf().read += m.GetCounter().GetValue()
		case "fenestra_stream_rows_written_total":
			s.streamOf().written += m.GetCounter().GetValue()
		case "fenestra_stream_bad_records_total":
			s.streamOf().bad += m.GetCounter().GetValue()
		case "fenestra_stream_lag_records":
			s.streamOf().lag += m.GetGauge().GetValue()
		case "fenestra_stream_freshness_seconds":
			// Registered (with no observations) whether a stream runs
			// or not: only observations say one does.
			if h := m.GetHistogram(); h.GetSampleCount() > 0 || s.stream != nil {
				s.streamOf().freshness.add(h)
			}
		}
	}
}

// view returns the sample of a compute route's view, nil for other
// routes and for requests that named no view.
func (s *liveSample) view(labels map[string]string) *viewSample {
	if labels["view"] == "" || !slices.Contains(computeRoutes, labels["route"]) {
		return nil
	}
	return s.viewNamed(labels["view"])
}

func (s *liveSample) viewNamed(name string) *viewSample {
	v := s.views[name]
	if v == nil {
		v = &viewSample{}
		s.views[name] = v
	}
	return v
}

func (s *liveSample) streamOf() *streamSample {
	if s.stream == nil {
		s.stream = &streamSample{}
	}
	return s.stream
}

// num returns &f, or nil when f is not a number.
func num(f float64) *float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return &f
}

// ms returns seconds as milliseconds (nil when not a number).
func ms(sec float64) *float64 { return num(sec * 1000) }
