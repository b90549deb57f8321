package dataflow

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/fenestra-dev/fenestra/dataflow/bucket"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// A key too large for one evaluation (a bot, a merchant with millions of
// transactions) is evaluated in parts: its rows in window order are cut,
// between order values, into runs that each fit, and each run is
// evaluated with the rows before it that its windows reach back to (the
// view's eval.Lookback) as context, whose output rows are dropped. Every
// own row then sees the frames it would see among all the key's rows, so
// the output is bit for bit that of one evaluation. A part is a bucket of
// its own, numbered after the hashed buckets, so the waves of a backfill
// hold a few parts at a time.

// ErrKeyTooLarge is the error of a backfill with a key that does not fit
// one evaluation and cannot be evaluated in parts.
var ErrKeyTooLarge = errors.New("dataflow: a key is too large to evaluate")

// KeySplit is one key of the FROM table cut into parts by its rows' order
// values (the view's eval.Lookback TS). Part j, bucket First+j, owns the
// rows whose order value is in [Cuts[j-1], Cuts[j]) (unbounded below for
// the first part, above for the last), and also reads, as context, the
// rows in [From[j], Cuts[j-1]). The key's rows of other keyed tables (a
// LAST JOIN's right side) go to every part.
type KeySplit struct {
	Hash  uint64 // the key's hash (bucket.Hasher.Hash)
	Key   string // the key as text, for messages
	Rows  int64  // the key's rows in the FROM table
	First int    // the bucket of part 0
	Cuts  []int64
	From  []int64 // From[0] is unused
	Parts []int64 // the rows each part holds, context included
}

// parts returns the number of parts of s.
func (s *KeySplit) parts() int { return len(s.Cuts) + 1 }

// own returns the part that owns a row of order value ts.
func (s *KeySplit) own(ts int64) int {
	return sort.Search(len(s.Cuts), func(j int) bool { return s.Cuts[j] > ts })
}

// owns reports whether part j owns a row of order value ts.
func (s *KeySplit) owns(j int, ts int64) bool { return s.own(ts) == j }

// appendParts appends to dst the buckets of the parts a FROM-table row of
// order value ts goes to: the part that owns it, then the later parts
// that read it as context.
func (s *KeySplit) appendParts(dst []int, ts int64) []int {
	j := s.own(ts)
	dst = append(dst, s.First+j)
	for k := j + 1; k < s.parts() && s.From[k] <= ts; k++ {
		dst = append(dst, s.First+k)
	}
	return dst
}

// splitTable is the splits of a job, as its reader and evaluator use
// them.
type splitTable struct {
	byHash map[uint64]*KeySplit
	byPart []*KeySplit // by bucket - buckets
}

func newSplitTable(splits []KeySplit, buckets int) *splitTable {
	if len(splits) == 0 {
		return nil
	}
	t := &splitTable{byHash: map[uint64]*KeySplit{}}
	for i := range splits {
		s := &splits[i]
		t.byHash[s.Hash] = s
		for range s.parts() {
			t.byPart = append(t.byPart, s)
		}
	}
	return t
}

// part returns the split and part of bucket b, or nil when b is a hashed
// bucket.
func (t *splitTable) part(b, buckets int) (*KeySplit, int) {
	if t == nil || b < buckets || b-buckets >= len(t.byPart) {
		return nil, 0
	}
	s := t.byPart[b-buckets]
	return s, b - s.First
}

// partCount returns the number of parts of splits: the buckets they add.
func partCount(splits []KeySplit) int {
	n := 0
	for i := range splits {
		n += splits[i].parts()
	}
	return n
}

// SplitKeys finds the keys of job's FROM table with more rows than one
// evaluation may hold, and cuts each into parts (see KeySplit), for
// job.Splits. maxRows(n), given the FROM table's n rows, is the most rows
// of the table an evaluation may hold; a part holds at most that many,
// context included. It reads the FROM table's files once, and a second
// time only when some key may be that large (a count of frequent keys in
// bounded memory finds every such key in the first read). It returns none
// for a view whose rows are not grouped by key.
//
// A key that must be split but cannot is an error wrapping
// ErrKeyTooLarge that names the key, its rows and the limit, and why:
// a view whose windows reach back without bound (an unbounded frame, a
// GROUP BY, lag IGNORE NULLS, ...; eval.Lookback), or whose frames alone
// hold more rows of the key than the limit.
func SplitKeys(ctx context.Context, job BackfillJob, maxRows func(rows int64) int64) ([]KeySplit, error) {
	layout := bucket.Plan(job.View)
	from := job.View.RequestTable
	route, ok := layout.Routes[from]
	if !layout.Split || !ok || route.Kind != bucket.Keyed {
		return nil, nil
	}
	ev, err := eval.New(job.View)
	if err != nil {
		return nil, err
	}
	t, err := newTables(job.View, job.Inputs)
	if err != nil {
		return nil, err
	}
	table := t.index[from]
	schema := t.schemas[table]
	lb := ev.Lookback()
	tsCol := -1
	if lb.Why == "" && lb.TS != "" {
		tsCol = schema.Index(lb.TS)
	}
	c := &census{freq: newFrequent(1 << 16), key: route.Cols, ts: tsCol}
	if err := c.read(ctx, job, t, table); err != nil {
		return nil, err
	}
	limit := max(maxRows(c.freq.n), 1)
	c.giants = c.freq.above(limit - c.freq.err())
	if len(c.giants) == 0 {
		return nil, nil
	}
	c.second = true
	if err := c.read(ctx, job, t, table); err != nil {
		return nil, err
	}
	var splits []KeySplit
	first := bucketCount(job, layout)
	for _, h := range c.sortedGiants() {
		g := c.giants[h]
		if int64(len(g.ts)) <= limit {
			continue
		}
		why := lb.Why
		if why == "" && tsCol < 0 {
			why = "the view has no window ordered by a column of " + from
		}
		if why == "" && lb.Rows > 0 && !sameColumns(lb.Key, schema, route.Cols) {
			why = "a window counts rows back in a partition other than the key"
		}
		if why != "" {
			return nil, fmt.Errorf("%w: key %s of table %s has %d rows, more than the %d rows one evaluation may hold (--memory), and the view cannot be evaluated a part of a key at a time: %s", ErrKeyTooLarge, g.key, from, len(g.ts), limit, why)
		}
		s, err := cutKey(g.ts, lb, limit)
		if err != nil {
			return nil, fmt.Errorf("%w: key %s of table %s has %d rows, more than the %d rows one evaluation may hold (--memory): %v", ErrKeyTooLarge, g.key, from, len(g.ts), limit, err)
		}
		s.Hash, s.Key, s.Rows, s.First = h, g.key, int64(len(g.ts)), first
		first += s.parts()
		splits = append(splits, s)
	}
	return splits, nil
}

// sameColumns reports whether names are the columns cols of schema.
func sameColumns(names []string, schema types.Schema, cols []int) bool {
	got := make([]string, len(cols))
	for i, c := range cols {
		got[i] = schema[c].Name
	}
	slices.Sort(got)
	return slices.Equal(got, names)
}

// cutKey cuts a key's order values ts into parts of at most limit rows,
// context included, each ending between two order values.
func cutKey(ts []int64, lb eval.Lookback, limit int64) (KeySplit, error) {
	slices.Sort(ts)
	n := int64(len(ts))
	s := KeySplit{From: []int64{math.MinInt64}}
	for a := int64(0); ; {
		lo := a
		if a > 0 {
			reach := subSat(ts[a], lb.Range)
			lo = min(int64(sort.Search(int(a), func(i int) bool { return ts[i] >= reach })), max(a-lb.Rows, 0))
		}
		room := limit - (a - lo)
		if room < max(limit/4, 1) {
			return s, fmt.Errorf("the frames of its rows at %s reach back over %d of its rows", orderText(ts[a]), a-lo)
		}
		if a > 0 {
			s.From = append(s.From, ts[lo])
		}
		b := min(a+room, n)
		if b < n {
			// End between order values: before the run of ts[b], or
			// after it when the run began at a or before.
			start := int64(sort.Search(int(b), func(i int) bool { return ts[i] >= ts[b] }))
			if start > a {
				b = start
			} else {
				b = int64(sort.Search(int(n), func(i int) bool { return ts[i] > ts[b] }))
				if b-lo > limit {
					return s, fmt.Errorf("%d of its rows have the same order value, %s, and a part ends only between two", b-start, orderText(ts[start]))
				}
			}
		}
		s.Parts = append(s.Parts, b-lo)
		if b == n {
			return s, nil
		}
		s.Cuts = append(s.Cuts, ts[b])
		a = b
	}
}

// orderText writes an order value as a time when it is one.
func orderText(ts int64) string {
	return types.Value{Type: types.Timestamp, I: ts}.String()
}

func subSat(a, b int64) int64 {
	if b > 0 && a < math.MinInt64+b {
		return math.MinInt64
	}
	return a - b
}

// census counts the rows of a table's keys: the first read finds the
// frequent keys (frequent), the second gathers the order values of the
// keys that may be too large (giants).
type census struct {
	key    []int // key columns
	ts     int   // the order column, or -1
	second bool

	mu     sync.Mutex
	freq   *frequent
	giants map[uint64]*giant
}

// giant is a key that may be too large: its text and its order values.
type giant struct {
	key string
	ts  []int64
}

// read reads the files of table, adding its rows to the census, with the
// job's reader (the same parsing, bad-row policy and key hashing).
func (c *census) read(ctx context.Context, job BackfillJob, t *tables, table int) error {
	routes := make([]route, len(t.names))
	routes[table] = route{Kind: bucket.Keyed, Cols: c.key}
	f := &readFn{Names: t.names, Schemas: t.schemas, Routes: routes, Buckets: 1, BadRows: job.BadRows, Wave: 1, census: c}
	for _, task := range t.tasks {
		if task.Table != table {
			continue
		}
		if err := f.process(ctx, task, func(int, []byte) {}); err != nil {
			return err
		}
	}
	return nil
}

// add adds a block of rows, whose keys hash to hashes.
func (c *census) add(blk *types.Block, hashes []uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.second {
		for _, h := range hashes {
			c.freq.add(h)
		}
		return
	}
	for i, h := range hashes {
		g := c.giants[h]
		if g == nil {
			continue
		}
		if g.key == "" {
			g.key = keyText(blk, i, c.key)
		}
		ts := int64(math.MinInt64)
		if c.ts >= 0 && !blk.Cols[c.ts].IsNull(i) {
			ts = blk.Cols[c.ts].I[i]
		}
		g.ts = append(g.ts, ts)
	}
}

// sortedGiants returns the hashes of the giants in order.
func (c *census) sortedGiants() []uint64 {
	hs := make([]uint64, 0, len(c.giants))
	for h := range c.giants {
		hs = append(hs, h)
	}
	slices.Sort(hs)
	return hs
}

// keyText writes the key of row i of blk.
func keyText(blk *types.Block, i int, cols []int) string {
	parts := make([]string, len(cols))
	for j, c := range cols {
		parts[j] = blk.Schema[c].Name + "=" + blk.Cols[c].Value(i).String()
	}
	return strings.Join(parts, ",")
}

// frequent counts the rows of frequent keys in bounded memory (the
// Misra-Gries summary): with room for k keys, a key's count is at most
// n/(k+1) below its true count, and any key with more rows than that is
// counted.
type frequent struct {
	k     int
	n     int64
	count map[uint64]int64
}

func newFrequent(k int) *frequent {
	return &frequent{k: k, count: make(map[uint64]int64, k)}
}

func (f *frequent) add(h uint64) {
	f.n++
	if _, ok := f.count[h]; ok || len(f.count) < f.k {
		f.count[h]++
		return
	}
	for g, c := range f.count { // full: every count drops by one, h's too
		if c == 1 {
			delete(f.count, g)
		} else {
			f.count[g] = c - 1
		}
	}
}

// err is the most a count may be below its key's true count.
func (f *frequent) err() int64 { return f.n / int64(f.k+1) }

// above returns the keys counted more than min rows, as giants to gather.
func (f *frequent) above(min int64) map[uint64]*giant {
	out := map[uint64]*giant{}
	for h, c := range f.count {
		if c > min {
			out[h] = &giant{}
		}
	}
	return out
}
