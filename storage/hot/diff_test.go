package hot_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
	"github.com/fenestra-dev/fenestra/storage/hot"
)

// diffSchema has KEY candidates of several types (a double, whose -0 and
// NaN keys Mem matches by value; a timestamp, whose keys Mem's scans group
// by the second) and two TS candidates.
var diffSchema = types.Schema{
	{Name: "k", Type: types.String}, {Name: "n", Type: types.Int64}, {Name: "m", Type: types.Int32},
	{Name: "d", Type: types.Double}, {Name: "at", Type: types.Timestamp}, {Name: "v", Type: types.Int32},
	{Name: "ts", Type: types.Timestamp}, {Name: "t2", Type: types.Int64},
}

const minute = int64(60_000)

// TestAgainstMem applies, writes and loads random rows of random tables
// into a hot.Store and into storage.Mem, and checks that random reads and
// scans give identical answers (errors included) as the clock moves back
// and forth, before, during and after Load.
func TestAgainstMem(t *testing.T) {
	t.Parallel()
	for seed := range uint64(8) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			d := newDiff(t, seed)
			checks := d.run(500)
			t.Logf("%s, keep %v: %d checks, %d reads of the back store after Load, %d rows in memory, %d sequence numbers", describe(d.def), d.keep, checks, d.back.reads.Load()-d.readsBefore, d.hs.Rows(), len(d.seqs))
			if checks < 1000 {
				t.Errorf("only %d checks", checks)
			}
		})
	}
}

// diff is one run of TestAgainstMem.
type diff struct {
	t     *testing.T
	ctx   context.Context
	rng   *rand.Rand
	clock int64
	def   *plan.Table
	ref   *storage.Mem
	back  *dumpMem
	hs    *hot.Store
	seqs  []uint64 // sequence numbers written so far
	// viaHot are those written through hs (Write or Apply): the back
	// store alone never rewrites them (rows of another writer reach
	// memory through Apply).
	viaHot map[uint64]bool
	// backOnly are sequence numbers written to the back store alone (some
	// of them since written through hs too).
	backOnly []uint64
	// loading and loaded say Load started and ended: from then on, rows
	// reach the back store only with an Apply.
	loading, loaded bool
	checks          int
	readsBefore     int64 // reads of the back store before Load ended
	keep            time.Duration
}

func newDiff(t *testing.T, seed uint64) *diff {
	d := &diff{t: t, ctx: context.Background(), rng: rand.New(rand.NewPCG(seed, 7)),
		clock: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli(), viaHot: map[uint64]bool{}}
	now := func() time.Time { return time.UnixMilli(d.clock) }
	d.def = d.table(int(seed))
	keep := []time.Duration{time.Minute, 10 * time.Minute, -1}[seed%3]
	block := 1 + d.rng.IntN(5)
	if seed%4 == 3 {
		block = 0 // storage.Mem's Dump
	}
	d.ref, d.back = storage.NewMem(now), newDumpMem(now, block)
	d.back.snapshot, d.back.copies = seed%2 == 0, seed%3 != 2
	d.keep = keep
	d.hs = hot.New(d.back, hot.Options{Clock: now, Keep: keep})
	for _, s := range []storage.Store{d.ref, d.hs} {
		if err := s.Init(d.ctx, []*plan.Table{d.def}); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// table returns a random table of diffSchema with one or two indexes,
// the first on KEY candidate n%7.
func (d *diff) table(n int) *plan.Table {
	keys := [][]string{{"k"}, {"n"}, {"k", "n"}, {"m"}, {"d"}, {"at"}, {"n", "m"}}
	def := &plan.Table{Name: "ev", Schema: diffSchema}
	for i := range 1 + d.rng.IntN(2) {
		if i > 0 {
			n = d.rng.IntN(len(keys))
		}
		ix := &plan.Index{Keys: keys[n%len(keys)], TS: pick(d.rng, "ts", "ts", "t2", "")}
		switch d.rng.IntN(5) {
		case 1:
			ix.TTLType, ix.TTLAbs = "absolute", minute*int64(pick(d.rng, 5, 20, 60))
		case 2:
			ix.TTLType, ix.TTLLat = "latest", int64(1+d.rng.IntN(4))
		case 3:
			ix.TTLType, ix.TTLAbs, ix.TTLLat = "absandlat", minute*int64(pick(d.rng, 5, 20, 60)), int64(1+d.rng.IntN(4))
		case 4:
			ix.TTLType, ix.TTLAbs, ix.TTLLat = "absorlat", minute*int64(pick(d.rng, 5, 20, 60)), int64(1+d.rng.IntN(4))
		}
		def.Indexes = append(def.Indexes, ix)
	}
	return def
}

// run does n random operations, checking after each; it returns the
// number of reads and scans compared.
func (d *diff) run(n int) int {
	loadAt := d.rng.IntN(n / 2)
	for i := range n {
		if i == loadAt {
			d.load()
		}
		d.op()
		if err := d.hs.Check(); err != nil {
			d.t.Fatalf("after operation %d: %v", i, err)
		}
	}
	return d.checks
}

// load loads the table, doing random operations between the blocks it
// reads.
func (d *diff) load() {
	d.loading = true
	d.back.between = func() {
		for range d.rng.IntN(3) {
			d.op()
		}
	}
	if err := d.hs.Load(d.ctx, d.def.Name); err != nil {
		d.t.Fatal(err)
	}
	d.back.between, d.loaded = nil, true
	d.readsBefore = d.back.reads.Load()
}

// op does one random operation: a write, a clock move, or reads.
func (d *diff) op() {
	switch r := d.rng.IntN(10); {
	case r < 4:
		d.write()
	case r < 5:
		d.clock += d.rng.Int64N(15 * minute)
		if d.rng.IntN(8) == 0 {
			d.clock -= d.rng.Int64N(20 * minute)
		}
	default:
		for range 6 {
			if d.rng.IntN(2) == 0 {
				d.compareRead(d.randomRange())
			} else {
				d.compareScan(d.randomQuery())
			}
		}
	}
}

// write writes random rows, new or rewriting sequence numbers, through
// Write, or to the back store and Apply, or (before Load, sequence numbers
// not written through hs) to the back store alone.
func (d *diff) write() {
	route := d.rng.IntN(10) // < 3 Write, < 6 Apply, else the back store alone
	if d.loading && route >= 6 {
		route = 3
	}
	n := 1 + d.rng.IntN(4)
	rows := types.NewBlock(d.def.Schema, n)
	seqs := make([]uint64, n)
	for i := range n {
		rows.AppendRow(d.row())
		pool := d.seqs
		if route >= 6 {
			pool = d.backOnly
		}
		if len(pool) > 0 && d.rng.IntN(10) < 4 {
			seqs[i] = pool[d.rng.IntN(len(pool))]
		}
		if seqs[i] == 0 || route >= 6 && d.viaHot[seqs[i]] {
			seqs[i] = uint64(len(d.seqs) + 1)
			d.seqs = append(d.seqs, seqs[i])
		}
	}
	if err := d.ref.Write(d.ctx, d.def.Name, rows, seqs); err != nil {
		d.t.Fatal(err)
	}
	var err error
	switch {
	case route < 3:
		err = d.hs.Write(d.ctx, d.def.Name, rows, seqs)
	case route < 6:
		if err = d.back.Write(d.ctx, d.def.Name, rows, seqs); err == nil {
			err = d.hs.Apply(d.def.Name, rows, seqs)
		}
	default:
		if err = d.back.Write(d.ctx, d.def.Name, rows, seqs); err != nil {
			d.t.Fatal(err)
		}
		d.backOnly = append(d.backOnly, seqs...)
		return
	}
	if err != nil {
		d.t.Fatal(err)
	}
	for _, s := range seqs {
		d.viaHot[s] = true
	}
}

// row returns a random row: keys from small sets with NULLs, times near
// the clock (NULL at times, often equal).
func (d *diff) row() []types.Value {
	return []types.Value{
		d.value(0), d.value(1), d.value(2), d.value(3), d.value(4),
		types.IntValue(types.Int32, d.rng.Int64N(1000)),
		d.time(types.Timestamp), d.time(types.Int64),
	}
}

// value returns a random value of KEY candidate column c.
func (d *diff) value(c int) types.Value {
	typ := diffSchema[c].Type
	if d.rng.IntN(8) == 0 {
		return types.NullOf(typ)
	}
	switch c {
	case 0:
		return types.StringValue(pick(d.rng, "a", "b", "", "a,b"))
	case 1:
		return types.Int64Value(pick[int64](d.rng, 1, 2, -1))
	case 2:
		return types.IntValue(types.Int32, pick[int64](d.rng, 1, 2))
	case 3:
		return types.DoubleValue(pick(d.rng, 0, math.Copysign(0, -1), 1.5, math.NaN(), math.Float64frombits(0xfff8000000000000)))
	}
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	return types.TimestampValue(t0 + pick[int64](d.rng, 0, 1, 1000))
}

// time returns a random TS value of type typ: minutes before the clock,
// or milliseconds, or NULL.
func (d *diff) time(typ types.Type) types.Value {
	if d.rng.IntN(20) == 0 {
		return types.NullOf(typ)
	}
	t := d.clock - d.rng.Int64N(120)*minute
	if d.rng.IntN(4) == 0 {
		t -= d.rng.Int64N(minute)
	}
	return types.Value{Type: typ, I: t}
}

// randomRange returns a read of an index's key, at times with other keys,
// another TS, a key value of another type, AsOf in the past or future.
func (d *diff) randomRange() storage.Range {
	ix := d.def.Indexes[d.rng.IntN(len(d.def.Indexes))]
	r := storage.Range{Table: d.def.Name, TS: ix.TS, From: math.MinInt64, To: math.MaxInt64}
	r.Keys, r.Values = d.keys(ix.Keys)
	switch d.rng.IntN(20) {
	case 0:
		r.Keys, r.Values = d.keys([]string{"v"})
	case 1:
		r.TS = "v"
	case 2, 3, 4:
		r.TS = ""
	}
	r.From, r.To, r.Limit, r.AsOf = d.bounds()
	r.NewestFirst = d.rng.IntN(2) == 0
	return r
}

// randomQuery returns a scan of an index's key, or of no key, or of keys
// no index has.
func (d *diff) randomQuery() eval.Query {
	ix := d.def.Indexes[d.rng.IntN(len(d.def.Indexes))]
	q := eval.Query{Table: d.def.Name, From: math.MinInt64, To: math.MaxInt64}
	switch r := d.rng.IntN(10); {
	case r < 6:
		q.Keys, q.Values = d.keys(ix.Keys)
	case r < 8:
		q.Keys, q.Values = d.keys([][]string{{"k"}, {"m", "k"}, {"v"}}[d.rng.IntN(3)])
	}
	q.TS = pick(d.rng, ix.TS, ix.TS, "", "ts", "t2")
	q.From, q.To, q.Limit, q.AsOf = d.bounds()
	return q
}

// keys returns names in random order (one upper-cased at times) with
// random values, of another type than their column at times.
func (d *diff) keys(names []string) ([]string, []types.Value) {
	names = slices.Clone(names)
	d.rng.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	values := make([]types.Value, len(names))
	for i, name := range names {
		c := diffSchema.Index(name)
		if c > 4 {
			values[i] = types.IntValue(types.Int32, d.rng.Int64N(1000))
			continue
		}
		values[i] = d.value(c)
		if d.rng.IntN(12) == 0 && !values[i].Null {
			values[i] = otherType(values[i])
		}
	}
	if d.rng.IntN(10) == 0 {
		names[0] = strings.ToUpper(names[0])
	}
	return names, values
}

// otherType returns v as a value of another type, which types.Compare
// may find equal to v.
func otherType(v types.Value) types.Value {
	switch v.Type {
	case types.Int64:
		return types.IntValue(types.Int32, v.I)
	case types.Int32:
		return types.Int64Value(v.I)
	case types.Double:
		return types.FloatValue(v.F)
	case types.Timestamp:
		return types.Int64Value(v.I)
	}
	return types.Int64Value(1)
}

// bounds returns a random time range, limit and AsOf.
func (d *diff) bounds() (from, to int64, limit int, asOf int64) {
	from, to = int64(math.MinInt64), int64(math.MaxInt64)
	if d.rng.IntN(5) < 3 {
		from = d.clock - d.rng.Int64N(150)*minute
		if d.rng.IntN(4) != 0 {
			to = from + d.rng.Int64N(150)*minute - 10*minute
		}
	}
	if d.rng.IntN(2) == 0 {
		limit = 1 + d.rng.IntN(5)
	}
	switch r := d.rng.IntN(20); {
	case r < 4:
		asOf = d.clock - d.rng.Int64N(180)*minute
	case r < 6:
		asOf = d.clock + d.rng.Int64N(60)*minute
	}
	return from, to, limit, asOf
}

func (d *diff) compareRead(r storage.Range) {
	d.t.Helper()
	want, wantErr := d.ref.Read(d.ctx, r)
	got, err := d.hs.Read(d.ctx, r)
	d.compare(fmt.Sprintf("Read(%+v)", r), got, err, want, wantErr)
}

func (d *diff) compareScan(q eval.Query) {
	d.t.Helper()
	want, wantErr := d.ref.Scan(d.ctx, q)
	got, err := d.hs.Scan(d.ctx, q)
	d.compare(fmt.Sprintf("Scan(%+v)", q), got, err, want, wantErr)
}

func (d *diff) compare(what string, got *types.Block, err error, want *types.Block, wantErr error) {
	d.t.Helper()
	d.checks++
	if fmt.Sprint(err) != fmt.Sprint(wantErr) {
		d.t.Fatalf("%s (loaded %t, clock %d): error %v, want %v", what, d.loaded, d.clock, err, wantErr)
	}
	if wantErr != nil {
		return
	}
	if diff := blockDiff(got, want); diff != "" {
		d.t.Fatalf("%s (loaded %t, clock %d): %s", what, d.loaded, d.clock, diff)
	}
}

// blockDiff describes how got differs from want, value by value, floats
// bit for bit ("" when it does not).
func blockDiff(got, want *types.Block) string {
	if got.Len != want.Len || len(got.Cols) != len(want.Cols) || got.Schema.String() != want.Schema.String() {
		return fmt.Sprintf("%d rows of (%s), want %d rows of (%s)\n got %v\nwant %v", got.Len, got.Schema, want.Len, want.Schema, got.Rows(), want.Rows())
	}
	for c := range want.Cols {
		g, w := &got.Cols[c], &want.Cols[c]
		if g.Type != w.Type || g.Len() != want.Len || (g.Nulls == nil) != (w.Nulls == nil) {
			return fmt.Sprintf("column %d: type %s, %d values, NULL flags %t; want %s, %d, %t", c, g.Type, g.Len(), g.Nulls != nil, w.Type, w.Len(), w.Nulls != nil)
		}
		for i := range want.Len {
			if !types.Identical(g.Value(i), w.Value(i)) {
				return fmt.Sprintf("row %d, column %d: %v, want %v\n got %v\nwant %v", i, c, g.Value(i), w.Value(i), got.Rows(), want.Rows())
			}
		}
	}
	return ""
}

// describe renders a table's indexes.
func describe(t *plan.Table) string {
	var b strings.Builder
	for _, ix := range t.Indexes {
		fmt.Fprintf(&b, "[KEY=(%s) TS=%s %s abs=%d latest=%d]", strings.Join(ix.Keys, ","), ix.TS, ix.TTLType, ix.TTLAbs, ix.TTLLat)
	}
	return b.String()
}

func pick[T any](rng *rand.Rand, vs ...T) T { return vs[rng.IntN(len(vs))] }
