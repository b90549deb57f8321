// Package tiletest generates random views with long windows, stored rows
// and requests, for the differential tests that hold request mode over
// tiles to request mode over raw rows, bit for bit (in package eval over
// an in-memory source, in the storage packages over real stores). It does
// no I/O.
package tiletest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// Day is a day in milliseconds; T0 is the start of the generated data,
// 2026-01-01T00:00:00Z.
const (
	Hour = int64(3_600_000)
	Day  = 24 * Hour
	T0   = int64(1_767_225_600_000)
	// Span is how far the stored rows reach after T0.
	Span = 20 * Day
)

// Case is one random view over table t with its stored rows and requests.
type Case struct {
	Seed uint64
	SQL  string
	View *plan.Plan
	// Table is t's definition (the view's request table).
	Table *plan.Table
	// Rows are the stored rows of t in arrival order: row i has sequence
	// number i+1.
	Rows [][]types.Value
	// Requests are request rows of t.
	Requests [][]types.Value
	// Profiles, when the view joins them (LAST JOIN p), is table p
	// (pk, level, since) and ProfileRows its rows, in arrival order.
	Profiles    *plan.Table
	ProfileRows [][]types.Value
}

// Options shape the generated cases.
type Options struct {
	// TTL, when positive, gives t's index an absolute TTL of that many
	// minutes (the storage test's clock sits inside the data).
	TTL int64
	// Rows bounds the number of stored rows (default 300).
	Rows int
	// Busy puts four rows in five in the last two days of the span, so
	// with a few thousand rows a key's day holds hundreds of them: enough
	// for the finer levels of long windows to have tiles
	// (eval.FineMinRows).
	Busy bool
}

// New returns the case of seed.
func New(seed uint64, o Options) (*Case, error) {
	if o.Rows <= 0 {
		o.Rows = 300
	}
	r := rand.New(rand.NewPCG(seed, 0x7469_6c65))
	c := &Case{Seed: seed}
	ttl := ""
	if o.TTL > 0 {
		ttl = fmt.Sprintf(", TTL=%dm, TTL_TYPE=absolute", o.TTL)
	}
	ddl := "CREATE TABLE t (id bigint, k string, ts timestamp, x double, y int, z double, INDEX(KEY=k, TS=ts" + ttl + "));\n" +
		"CREATE TABLE p (pk string, level int, since timestamp, INDEX(KEY=pk, TS=since));\n"
	join := r.IntN(3) == 0
	nWin := 1 + r.IntN(3)
	var wins, longs, items []string
	for i := range nWin {
		name := fmt.Sprintf("w%d", i)
		wins = append(wins, name+" AS "+window(r))
		if r.IntN(10) < 8 {
			longs = append(longs, name+":"+pick(r, []string{"1d", "1d", "6h", "1h", "2d", "90m", "1000s", "7d"}))
		}
		for range 1 + r.IntN(4) {
			items = append(items, aggregate(r, name, join)+fmt.Sprintf(" AS a%d", len(items)))
		}
	}
	if len(longs) == 0 {
		longs = append(longs, "w0:1d")
	}
	where := pick(r, []string{"", "", "", "WHERE y != 1 ", "WHERE x > 0 "})
	from := "t "
	if join {
		from += "LAST JOIN p ORDER BY p.since ON t.k = p.pk AND p.since <= t.ts "
		if r.IntN(3) == 0 {
			where = "WHERE level IS NULL OR level != 2 " // reads the join: its windows read raw rows
		}
	}
	c.SQL = ddl + fmt.Sprintf("DEPLOY v OPTIONS(long_windows=%q) SELECT k, ts, %s FROM %s%sWINDOW %s;",
		strings.Join(longs, ","), strings.Join(items, ", "), from, where, strings.Join(wins, ", "))
	m, err := featurelang.Compile("tiletest.sql", c.SQL, featurelang.Options{})
	if err != nil {
		return nil, fmt.Errorf("seed %d: %w\n%s", seed, err, c.SQL)
	}
	c.View = m.Views[0]
	c.Table = c.View.Table("t")
	c.Rows = rows(r, c.Table.Schema, 20+r.IntN(o.Rows), true, o.Busy)
	c.Requests = requests(r, c.Table.Schema, c.Rows)
	if join {
		c.Profiles = c.View.Table("p")
		for range 1 + r.IntN(12) {
			level := types.IntValue(c.Profiles.Schema[1].Type, int64(r.IntN(4)))
			if r.IntN(6) == 0 {
				level = types.NullOf(c.Profiles.Schema[1].Type)
			}
			c.ProfileRows = append(c.ProfileRows, []types.Value{
				pick(r, []types.Value{types.StringValue("a"), types.StringValue("b"), types.StringValue("c")}),
				level, types.TimestampValue(T0 + r.Int64N(Span))})
		}
	}
	return c, nil
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// window returns a random window definition over t, most of them RANGE
// frames ending at CURRENT ROW, the shape tiles serve.
func window(r *rand.Rand) string {
	part := "k"
	if r.IntN(8) == 0 {
		part = "y" // no index on it: a store has no tiles for it
	}
	if r.IntN(10) == 0 {
		return fmt.Sprintf("(PARTITION BY %s ORDER BY ts ROWS BETWEEN %d PRECEDING AND CURRENT ROW)", part, r.IntN(5))
	}
	var start string
	switch r.IntN(10) {
	case 0:
		start = "UNBOUNDED PRECEDING"
	case 1:
		start = length(r) + " OPEN PRECEDING"
	default:
		start = length(r) + " PRECEDING"
	}
	w := fmt.Sprintf("(PARTITION BY %s ORDER BY ts ROWS_RANGE BETWEEN %s AND CURRENT ROW", part, start)
	if r.IntN(4) == 0 {
		w += " EXCLUDE CURRENT_TIME"
	}
	if r.IntN(12) == 0 {
		w += " EXCLUDE CURRENT_ROW"
	}
	if r.IntN(12) == 0 {
		w += fmt.Sprintf(" MAXSIZE %d", 1+r.IntN(20))
	}
	return w + ")"
}

func length(r *rand.Rand) string {
	switch r.IntN(4) {
	case 0:
		return fmt.Sprintf("%dm", 1+r.IntN(600))
	case 1:
		return fmt.Sprintf("%dh", 1+r.IntN(72))
	}
	return fmt.Sprintf("%dd", 1+r.IntN(15))
}

// aggregate returns a random aggregate over window w: mostly tileable
// ones, in the call shapes OpenMLDB pre-aggregates, sometimes one read
// raw (median, lag, and, with the join, one reading p's columns).
func aggregate(r *rand.Rand, w string, join bool) string {
	over := " OVER " + w
	if join && r.IntN(5) == 0 {
		return pick(r, []string{"sum_where(x, level > 1)", "max(level)", "count_where(y, level = 2)"}) + over
	}
	return pick(r, []string{
		"sum(x)", "count(x)", "count(*)", "avg(x)", "max(x)", "min(x)", "max(z)", "min(y)",
		"count_where(y, y > 3)", "sum_where(x, y <= 2)", "avg_where(x, y != 0)", "min_where(z, y < 4)", "max_where(x, y = 2)",
		"distinct_count(y)", "distinct_count(k)", "topn_frequency(y, 2)", "top1_ratio(y)",
		"median(x)", "lag(x, 1)",
	}) + over
}

// Rows returns n random rows of t (id, k, ts, x, y, z) in arrival order,
// over Span after T0: ties, times on bucket boundaries, NULLs, -0 and +0
// (which of them min and max give depends on the order rows are added
// in), and, when late, rows arriving after rows of later times. Column id
// numbers the rows in arrival order.
func Rows(r *rand.Rand, schema types.Schema, n int, late bool) [][]types.Value {
	return rows(r, schema, n, late, false)
}

func rows(r *rand.Rand, schema types.Schema, n int, late, busy bool) [][]types.Value {
	keys := []types.Value{types.StringValue("a"), types.StringValue("b"), types.StringValue("c"), types.NullOf(types.String)}
	xs := []float64{0, 1.5, -2.25, 1e16, 0.1, -1e16, 3}
	out := make([][]types.Value, n)
	var prev int64 = T0
	for i := range out {
		ts := T0 + r.Int64N(Span)
		if busy && r.IntN(5) != 0 {
			ts = T0 + Span - 2*Day + r.Int64N(2*Day)
		}
		switch r.IntN(6) {
		case 0:
			ts = prev // a tie
		case 1:
			ts -= ts % Hour // on an hour (and some day) boundary
		case 2:
			ts -= ts%Day + 1 // the last millisecond of a day
		}
		prev = ts
		tv := types.TimestampValue(ts)
		if r.IntN(60) == 0 {
			tv = types.NullOf(types.Timestamp)
		}
		x := types.DoubleValue(xs[r.IntN(len(xs))])
		switch r.IntN(8) {
		case 0:
			x = types.NullOf(types.Double)
		case 1:
			x = types.DoubleValue(r.NormFloat64())
		case 2:
			x.F = -x.F
		}
		y := types.IntValue(schema[4].Type, int64(r.IntN(6)))
		if r.IntN(10) == 0 {
			y = types.NullOf(schema[4].Type)
		}
		z := types.DoubleValue([]float64{0, math.Copysign(0, -1)}[r.IntN(2)])
		if r.IntN(4) == 0 {
			z = types.NullOf(types.Double)
		}
		out[i] = []types.Value{{}, keys[r.IntN(len(keys))], tv, x, y, z}
	}
	// Mostly in time order, with some rows moved later: late arrivals.
	slices.SortStableFunc(out, func(a, b []types.Value) int {
		switch {
		case a[2].Null || b[2].Null:
			return boolInt(!a[2].Null) - boolInt(!b[2].Null)
		case a[2].I < b[2].I:
			return -1
		case a[2].I > b[2].I:
			return 1
		}
		return 0
	})
	for range n / 8 {
		if !late {
			break
		}
		i, j := r.IntN(n), r.IntN(n)
		if i > j {
			i, j = j, i
		}
		row := out[i]
		copy(out[i:], out[i+1:j+1])
		out[j] = row
	}
	for i, row := range out {
		row[0] = types.Int64Value(int64(i))
	}
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// requests returns request rows: at random times, at stored rows' times
// (EXCLUDE CURRENT_TIME ties), on bucket boundaries, after the data, and
// with a NULL time.
func requests(r *rand.Rand, schema types.Schema, stored [][]types.Value) [][]types.Value {
	keys := []types.Value{types.StringValue("a"), types.StringValue("b"), types.StringValue("c"), types.StringValue("d"), types.NullOf(types.String)}
	var out [][]types.Value
	for i := range 24 {
		ts := T0 + r.Int64N(Span+2*Day) - Day
		switch r.IntN(6) {
		case 0:
			if s := stored[r.IntN(len(stored))][2]; !s.Null {
				ts = s.I
			}
		case 1:
			ts -= ts % Day
		case 2:
			ts = T0 + Span + r.Int64N(30*Day)
		}
		tv := types.TimestampValue(ts)
		if r.IntN(40) == 0 {
			tv = types.NullOf(types.Timestamp)
		}
		x := types.DoubleValue(float64(r.IntN(7)) - 3)
		y := types.IntValue(schema[4].Type, int64(r.IntN(6)))
		out = append(out, []types.Value{types.Int64Value(int64(1_000_000 + i)), keys[r.IntN(len(keys))], tv, x, y, types.NullOf(types.Double)})
	}
	return out
}
