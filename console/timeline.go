package console

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/functions"
	"github.com/fenestra-dev/fenestra/internal/datafile"
	"github.com/fenestra-dev/fenestra/storage"
)

// The bounds of a timeline: the work of one is at most MaxEvents
// evaluations, each bounded by the service's deadline, and the whole by
// timelineTimeout.
const (
	// DefaultEvents is how many of a key's newest events a timeline
	// shows when no range is given.
	DefaultEvents = 200
	// MaxEvents is the most events a timeline evaluates: a range that
	// holds more is refused (413).
	MaxEvents = 2000
	// MaxSpan is the widest range a timeline accepts (400 beyond).
	MaxSpan = 366 * 24 * time.Hour

	timelineWorkers = 8
	timelineTimeout = 30 * time.Second
)

// column is a column of a schema, for the page.
type column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

func columns(s types.Schema) []column {
	out := make([]column, len(s))
	for i, f := range s {
		out[i] = column{f.Name, f.Type.String()}
	}
	return out
}

// keyed is a view and the key a request names, resolved.
type keyed struct {
	view   *functions.View
	st     *state
	vs     *viewState
	values []types.Value
	text   []string
}

// keyOf resolves the view named view and the key of the query's key
// parameters (one per key column of the view's events index, in its
// order; Options.Keys' first when none is given and the index has one
// key column).
func (c *Console) keyOf(svc *functions.Service, view string, q url.Values) (*keyed, error) {
	v, err := svc.Lookup(view)
	if err != nil {
		return nil, err
	}
	st, err := c.stateOf(svc)
	if err != nil {
		return nil, err
	}
	if st.hist == nil {
		return nil, fmt.Errorf("%w: the console has no store to read rows from", functions.ErrNotFound)
	}
	vs := st.views[v.Key()]
	if vs == nil || vs.events == nil {
		return nil, badParam("view", "the view %s reads its request table by no key and time: it has no timeline", v.Key())
	}
	text := q["key"]
	if len(text) == 0 && len(c.opts.Keys) > 0 && len(vs.events.Keys) == 1 {
		text = c.opts.Keys[:1]
	}
	if len(text) != len(vs.events.Keys) {
		return nil, badParam("key", "%d key values for the %d key columns of %s (%s)",
			len(text), len(vs.events.Keys), vs.table.Name, strings.Join(vs.events.Keys, ", "))
	}
	k := &keyed{view: v, st: st, vs: vs, text: text}
	for i, name := range vs.events.Keys {
		f := vs.table.Schema[vs.table.Schema.Index(name)]
		val, err := parseValue(f.Type, text[i])
		if err != nil {
			return nil, badParam("key", "%s %q: %v", name, text[i], err)
		}
		k.values = append(k.values, val)
	}
	return k, nil
}

// describe names the key, for messages: card = "c00001".
func (k *keyed) describe() string {
	parts := make([]string, len(k.text))
	for i, name := range k.vs.events.Keys {
		parts[i] = fmt.Sprintf("%s = %q", name, k.text[i])
	}
	return strings.Join(parts, ", ")
}

// read reads the key's events from..to, oldest first (the newest limit
// when limit is positive).
func (c *Console) read(ctx context.Context, k *keyed, from, to int64, limit int) (*types.Block, error) {
	return c.opts.Store.Read(ctx, storage.Range{Table: k.vs.table.Name, Keys: k.vs.events.Keys, Values: k.values,
		TS: k.vs.events.TS, From: from, To: to, Limit: limit})
}

// noKey is the 404 of a key without stored rows.
func (k *keyed) noKey() error {
	return &paramError{Kind: functions.ErrNotFound, Field: "key", Msg: fmt.Sprintf("no stored rows of %s with %s", k.vs.table.Name, k.describe())}
}

// sampleAnswer is the answer of /console/api/views/{view}/sample.
type sampleAnswer struct {
	View    string          `json:"view"`
	Table   string          `json:"table"`
	Keys    []string        `json:"keys"`
	Key     []string        `json:"key"`
	Columns []column        `json:"columns"`
	Row     json.RawMessage `json:"row"` // an object, as the compute route takes it
	// Literals are the row's values as JSON text, column by column: a
	// form shows them as they are (int64s beyond 2^53 included).
	Literals []string `json:"literals"`
}

// sample serves GET /console/api/views/{view}/sample?key=K: the key's
// latest stored row of the view's request table, as a new request (see
// asNewRequest).
func (c *Console) sample(ctx context.Context, svc *functions.Service, view string, q url.Values) (any, error) {
	k, err := c.keyOf(svc, view, q)
	if err != nil {
		return nil, err
	}
	rows, err := c.read(ctx, k, math.MinInt64, math.MaxInt64, 1)
	if err != nil {
		return nil, err
	}
	if rows.Len == 0 {
		return nil, k.noKey()
	}
	row := rows.Row(rows.Len-1, nil)
	asNewRequest(k.vs, row)
	lits := make([]string, len(row))
	b := []byte{'{'}
	for j, f := range k.vs.table.Schema {
		if j > 0 {
			b = append(b, ',')
		}
		b = datafile.AppendJSONString(b, f.Name)
		b = append(b, ':')
		b = datafile.AppendJSONValue(b, row[j])
		lits[j] = string(datafile.AppendJSONValue(nil, row[j]))
	}
	return &sampleAnswer{View: k.view.Key(), Table: k.vs.table.Name, Keys: k.vs.events.Keys, Key: k.text,
		Columns: columns(k.vs.table.Schema), Row: append(b, '}'), Literals: lits}, nil
}

// asNewRequest makes the stored row row a realistic new request: the
// same event again, 1 ms after it (its time, the events' TS column, moves
// on), so that the answer counts the stored row once, as history, and
// the request once, rather than the stored row twice at one time.
func asNewRequest(vs *viewState, row []types.Value) {
	if vs.events == nil || vs.events.TS == "" {
		return
	}
	if i := vs.table.Schema.Index(vs.events.TS); i >= 0 && !row[i].Null && row[i].I < math.MaxInt64 {
		row[i].I++
	}
}

// timelineAnswer is the answer of /console/api/views/{view}/timeline:
// the key's events from..to, oldest first, and the view's answer as of
// each (Values[i] for Events[i], at Times[i]).
type timelineAnswer struct {
	View     string            `json:"view"`
	Version  string            `json:"version"`
	Table    string            `json:"table"`
	Keys     []string          `json:"keys"`
	Key      []string          `json:"key"`
	TS       string            `json:"ts"`
	From     int64             `json:"from"`
	To       int64             `json:"to"`
	Columns  []column          `json:"columns"`
	Features []column          `json:"features"`
	Times    []int64           `json:"times"`
	Events   []json.RawMessage `json:"events"`
	Values   []json.RawMessage `json:"values"`
}

// timeline serves GET /console/api/views/{view}/timeline?key=K&from=T&to=T.
func (c *Console) timeline(ctx context.Context, svc *functions.Service, view string, q url.Values) (any, error) {
	k, err := c.keyOf(svc, view, q)
	if err != nil {
		return nil, err
	}
	from, to, given, err := parseRange(q)
	if err != nil {
		return nil, err
	}
	var events *types.Block
	if !given {
		if events, err = c.read(ctx, k, math.MinInt64, math.MaxInt64, DefaultEvents); err != nil {
			return nil, err
		}
		if events.Len == 0 {
			return nil, k.noKey()
		}
		from, to = tsAt(events, k, 0), tsAt(events, k, events.Len-1)
	} else {
		if events, err = c.read(ctx, k, from, to, c.maxEvents+1); err != nil {
			return nil, err
		}
		if events.Len > c.maxEvents {
			return nil, &paramError{Kind: functions.ErrTooManyRows, Field: "from",
				Msg: fmt.Sprintf("the range holds more than %d events of %s, the limit: narrow from and to", c.maxEvents, k.describe())}
		}
		if events.Len == 0 {
			stored, err := c.read(ctx, k, math.MinInt64, math.MaxInt64, 1)
			if err != nil {
				return nil, err
			}
			if stored.Len == 0 {
				return nil, k.noKey()
			}
		}
	}
	values, err := c.asOfEvents(ctx, k, events)
	if err != nil {
		return nil, err
	}
	a := &timelineAnswer{View: k.view.Key(), Version: k.view.Version, Table: k.vs.table.Name, Keys: k.vs.events.Keys, Key: k.text,
		TS: k.vs.events.TS, From: from, To: to, Columns: columns(k.vs.table.Schema), Features: columns(k.view.Output),
		Times: make([]int64, events.Len), Events: make([]json.RawMessage, events.Len), Values: values}
	var row []types.Value
	for i := range events.Len {
		a.Times[i] = tsAt(events, k, i)
		row = events.Row(i, row)
		a.Events[i] = datafile.AppendJSONArray(nil, row)
	}
	return a, nil
}

// tsAt returns event i's time (math.MinInt64 when NULL).
func tsAt(events *types.Block, k *keyed, i int) int64 {
	col := &events.Cols[k.vs.table.Schema.Index(k.vs.events.TS)]
	if col.IsNull(i) {
		return math.MinInt64
	}
	return col.I[i]
}

// asOfEvents computes the view's answer to each event over the rows
// stored before it (beforeStore), timelineWorkers at a time, each as of
// its own time (TTLs included), and returns them as JSON arrays (null
// for an event the view's WHERE filters out).
func (c *Console) asOfEvents(ctx context.Context, k *keyed, events *types.Block) ([]json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, timelineTimeout)
	defer cancel()
	out := make([]json.RawMessage, events.Len)
	cuts := c.cutoffs(k, events)
	next := make(chan int)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range min(timelineWorkers, events.Len) {
		wg.Go(func() {
			for i := range next {
				row, err := c.asOf(ctx, k, events, i, cuts[i])
				if err != nil {
					once.Do(func() { first = err; cancel() })
					continue
				}
				out[i] = datafile.AppendJSONArray(nil, row)
				if row == nil {
					out[i] = json.RawMessage("null")
				}
			}
		})
	}
	for i := range events.Len {
		select {
		case next <- i:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	if first != nil {
		return nil, first
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("console: computing the timeline: %w", err)
	}
	return out, nil
}

// cutoffs returns each event's cutoff.
func (c *Console) cutoffs(k *keyed, events *types.Block) []*cutoff {
	tsCol := k.vs.table.Schema.Index(k.vs.events.TS)
	out := make([]*cutoff, events.Len)
	for i := range events.Len {
		cut := &cutoff{table: k.vs.table.Name, ts: tsCol, tsName: k.vs.events.TS, at: tsAt(events, k, i), row: events.Row(i, nil)}
		for j := i - 1; j >= 0 && out[j].at == cut.at; j-- {
			if identical(out[j].row, cut.row) {
				cut.n++
			}
		}
		out[i] = cut
	}
	return out
}

// asOf computes the view's answer to event i over the rows before it.
func (c *Console) asOf(ctx context.Context, k *keyed, events *types.Block, i int, cut *cutoff) ([]types.Value, error) {
	ctx = withCutoff(ctx, cut)
	one := events.Gather([]int{i})
	var res *functions.ComputeResult
	var err error
	if cut.at > 0 {
		res, err = k.st.hist.ComputeAsOf(ctx, k.view.Key(), one, false, []int64{cut.at})
	} else { // no time (or before 1970): TTLs as of now
		res, err = k.st.hist.Compute(ctx, k.view.Key(), one, false)
	}
	if err != nil {
		return nil, fmt.Errorf("console: the event at %s: %w", types.FormatTimestamp(cut.at), err)
	}
	return res.Rows[0], nil
}

// parseRange reads the from and to parameters: both or neither (given
// false), each epoch milliseconds or RFC 3339 text, from <= to, at most
// MaxSpan apart.
func parseRange(q url.Values) (from, to int64, given bool, err error) {
	fs, ts := q.Get("from"), q.Get("to")
	if fs == "" && ts == "" {
		return 0, 0, false, nil
	}
	if fs == "" || ts == "" {
		field := "from"
		if fs != "" {
			field = "to"
		}
		return 0, 0, false, badParam(field, "missing: give both from and to (epoch milliseconds or RFC 3339), or neither for the key's %d newest events", DefaultEvents)
	}
	if from, err = parseTime("from", fs); err != nil {
		return 0, 0, false, err
	}
	if to, err = parseTime("to", ts); err != nil {
		return 0, 0, false, err
	}
	switch {
	case to < from:
		return 0, 0, false, badParam("to", "%s is before from, %s", types.FormatTimestamp(to), types.FormatTimestamp(from))
	case uint64(to-from) > uint64(MaxSpan.Milliseconds()):
		return 0, 0, false, badParam("to", "the range spans %.0f days; the limit is %.0f days", float64(uint64(to-from))/864e5, MaxSpan.Hours()/24)
	}
	return from, to, true, nil
}

// parseTime reads a time: epoch milliseconds, or RFC 3339.
func parseTime(field, s string) (int64, error) {
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return ms, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, badParam(field, "%q is neither epoch milliseconds nor an RFC 3339 time", s)
	}
	return t.UnixMilli(), nil
}

// parseValue reads a key value of type t from text.
func parseValue(t types.Type, s string) (types.Value, error) {
	switch t.Kind() {
	case types.KindString:
		return types.StringValue(s), nil
	case types.KindInt16, types.KindInt32, types.KindInt64:
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil || types.IntValue(t, i).I != i {
			return types.Value{}, fmt.Errorf("not a %s", t)
		}
		return types.IntValue(t, i), nil
	case types.KindFloat, types.KindDouble:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return types.Value{}, fmt.Errorf("not a %s", t)
		}
		if t.Kind() == types.KindFloat {
			return types.FloatValue(f), nil
		}
		return types.DoubleValue(f), nil
	case types.KindBool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return types.Value{}, fmt.Errorf("not a bool")
		}
		return types.BoolValue(b), nil
	case types.KindTimestamp:
		ms, err := parseTime("key", s)
		if err != nil {
			return types.Value{}, fmt.Errorf("not a timestamp (epoch milliseconds or RFC 3339)")
		}
		return types.TimestampValue(ms), nil
	case types.KindDate:
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return types.Value{}, fmt.Errorf("not a date (YYYY-MM-DD)")
		}
		return types.DateValue(d.Unix() / 86400), nil
	}
	return types.Value{}, fmt.Errorf("a key of type %s cannot be given as text", t)
}
