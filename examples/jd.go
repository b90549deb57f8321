package examples

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// JDStart is when the JD requests start: 2016-02-01 00:00 UTC+8, as in
// the demo's sample data; JDDays their span.
var JDStart = time.Date(2016, 2, 1, 0, 0, 0, 0, types.Zone())

// JDDays is the span of the JD requests in days.
const JDDays = 60

const (
	jdDayMs  = 86_400_000
	jdHourMs = 3_600_000
)

var (
	jdAges   = []string{"-1", "15岁以下", "16-25岁", "26-35岁", "36-45岁", "46-55岁", "56岁以上"}
	jdBrands = []string{"30", "77", "78", "111", "124", "214", "261", "306", "479", "489", "545", "556", "622", "658", "677", "800", "885"}
	jdModels = []string{"", "", "", "0", "11", "26", "211", "216", "217", "218"}
)

// jdGen generates the JD demo's tables.
type jdGen struct {
	r           *rand.Rand
	start, end  int64 // the requests' span, ms
	nUser, nSku int
	skus        *rand.Zipf
	// the requests, in time order: their user, product and time
	user, sku []int
	at        []int64
}

// GenerateJD returns data for OpenMLDB's JD recommendation demo
// (demo/jd-recommendation in the OpenMLDB repository: users' purchase
// intentions for products), in the shape of the demo's sample data: its
// six tables keyed by their unqualified names (action, flattenRequest,
// bo_user, bo_action, bo_product, bo_comment), as defs define them (the
// tables the demo's create_tables.sql creates, in any database).
// flattenRequest has rows requests (rows >= 1), spanning JDDays days
// from JDStart. The same rows and seed always give the same tables, each
// in the same (arrival) order. Times are epoch milliseconds.
//
//   - flattenRequest: the requests (a user looking at a product), one
//     row per request: reqId unique ("req_000123", numbered in time
//     order), eventTime, main_id, pair_id = user_id+"_"+sku_id,
//     user_id (among rows/20 users), sku_id (among rows/10 products),
//     time (eventTime's milliseconds), split_id (1 or 2) and time1
//     (eventTime as text in UTC+8, "2016-02-09 17:33:51"). Skew: one
//     request in ten comes from the busiest 2% of the users, products
//     follow a Zipf law, and one in four continues the previous
//     request's user up to two minutes later, half the time on the same
//     product (so pairs repeat in a user's window). One request in
//     thirty has the previous one's eventTime, one in a hundred falls on
//     a local midnight (the time of the comment snapshots), and one in a
//     hundred arrives (comes in the file) a few rows late. main_id,
//     split_id and time1 are sometimes NULL.
//   - action: the label of a request (actionValue 1: bought, about one
//     in six, sometimes NULL), with its eventTime and an ingestionTime
//     up to two hours later. One request in eight has no action (a
//     LAST JOIN miss) and one in forty has two, the later in the file
//     winning; a few actions are of unknown requests.
//   - bo_user: the users' profiles (age bands such as "26-35岁" or
//     "-1", sex "0".."2", user_lv_cd "1".."5", user_reg_tm the
//     registration time, which is the row's ingestionTime), one per
//     user; one user in twenty has none and one in six a second version
//     (an updated level) later in the file, some at the same
//     ingestionTime. age and sex are sometimes NULL.
//   - bo_product: the products' attributes (a1, a2, a3 in "-1".."2",
//     cate, br), all ingested at one time before the requests; one
//     product in five has none and one in twenty has two rows. a2 and br
//     are sometimes NULL.
//   - bo_action: the users' past actions on a product, keyed by pair_id:
//     about four per requested pair (none for one pair in ten), from
//     twenty days before the pair's first request to its last, some
//     within hours before a request and some at a request's very
//     millisecond; time is the ingestionTime's milliseconds (sometimes
//     NULL). model_id is often "" and sometimes NULL. There are actions
//     of pairs never requested too. The rows are in no particular order.
//   - bo_comment: weekly snapshots of the products' comments (dt and
//     ingestionTime a local midnight, from four weeks before JDStart to
//     its end), for five products in six: comment_num 0..4,
//     has_bad_comment "0"/"1" and bad_comment_rate (0 without bad
//     comments); one snapshot in fifty is repeated at the same time with
//     other figures, and has_bad_comment and bad_comment_rate are
//     sometimes NULL.
func GenerateJD(defs []*plan.Table, rows int, seed uint64) map[string]*types.Block {
	tables := map[string]*plan.Table{}
	for _, t := range defs {
		_, name := plan.SplitName(t.Name)
		tables[name] = t
	}
	r := rand.New(rand.NewPCG(seed, seed^0x6a09e667f3bcc909))
	g := &jdGen{r: r, start: JDStart.UnixMilli(), nUser: max(1, rows/20), nSku: max(1, rows/10)}
	g.end = g.start + JDDays*jdDayMs
	g.skus = rand.NewZipf(r, 1.1, 4, uint64(g.nSku-1))
	g.requests(rows)
	out := map[string]*types.Block{}
	// One after the other: they draw from one random source.
	out["flattenRequest"] = g.flattenRequest(tables["flattenRequest"].Schema)
	out["action"] = g.action(tables["action"].Schema)
	out["bo_user"] = g.boUser(tables["bo_user"].Schema)
	out["bo_product"] = g.boProduct(tables["bo_product"].Schema)
	out["bo_action"] = g.boAction(tables["bo_action"].Schema)
	out["bo_comment"] = g.boComment(tables["bo_comment"].Schema)
	return out
}

func jdUser(u int) string         { return fmt.Sprintf("%d", 200001+u) }
func jdSku(s int) string          { return fmt.Sprintf("%d", 1001+s*7) }
func jdPair(u, s int) string      { return jdUser(u) + "_" + jdSku(s) }
func jdReq(i int) string          { return fmt.Sprintf("req_%06d", i+1) }
func jdTime(ms int64) types.Value { return types.TimestampValue(ms) }

// jdMidnight is the local midnight (UTC+8) at or before ms.
func jdMidnight(ms int64) int64 { return types.TimestampOfDate(types.DateOfTimestamp(ms)) }

// orNull returns v, or NULL of its type one time in n.
func (g *jdGen) orNull(v types.Value, n int) types.Value {
	if g.r.IntN(n) == 0 {
		return types.NullOf(v.Type)
	}
	return v
}

func (g *jdGen) pick(s []string) string { return s[g.r.IntN(len(s))] }

// requests draws the requests' users, products and times, in time
// order.
func (g *jdGen) requests(n int) {
	g.user, g.sku, g.at = make([]int, n), make([]int, n), make([]int64, n)
	span := g.end - g.start
	ts := g.start
	for i := range n {
		u, s := g.r.IntN(g.nUser), int(g.skus.Uint64())
		if g.r.IntN(10) == 0 {
			u = g.r.IntN(max(1, g.nUser/50))
		}
		session := i > 0 && g.r.IntN(4) == 0
		if session {
			u = g.user[i-1]
			if g.r.IntN(2) == 0 {
				s = g.sku[i-1]
			}
		}
		switch {
		case i > 0 && g.r.IntN(30) == 0: // the previous request's millisecond
		case session:
			ts += 1000 + g.r.Int64N(120_000)
		default: // three steps in four spread the span
			ts += 1 + g.r.Int64N(max(1, 2*span*4/(int64(n)*3)))
		}
		at := ts
		if g.r.IntN(100) == 0 && jdMidnight(ts) > g.at[max(0, i-1)] {
			at = jdMidnight(ts) // a comment snapshot's time
		}
		g.user[i], g.sku[i], g.at[i] = u, s, at
	}
}

func (g *jdGen) flattenRequest(schema types.Schema) *types.Block {
	n := len(g.at)
	rows := make([][]types.Value, n)
	for i := range n {
		at := g.at[i]
		rows[i] = []types.Value{
			types.StringValue(jdReq(i)), jdTime(at),
			g.orNull(types.StringValue(fmt.Sprintf("%d", 100_000+g.r.IntN(5_000_000))), 50),
			types.StringValue(jdPair(g.user[i], g.sku[i])), types.StringValue(jdUser(g.user[i])), types.StringValue(jdSku(g.sku[i])),
			types.Int64Value(at), g.orNull(types.IntValue(types.Int32, int64(1+g.r.IntN(2))), 40),
			g.orNull(types.StringValue(types.FormatTimestamp(at)), 40),
		}
	}
	for i := range n { // late arrivals
		if g.r.IntN(100) == 0 {
			j := min(n-1, i+1+g.r.IntN(10))
			rows[i], rows[j] = rows[j], rows[i]
		}
	}
	return types.BlockOf(schema, rows)
}

func (g *jdGen) action(schema types.Schema) *types.Block {
	var rows, again [][]types.Value
	row := func(req string, at int64) []types.Value {
		v := types.IntValue(types.Int32, 0)
		if g.r.IntN(6) == 0 {
			v = types.IntValue(types.Int32, 1)
		}
		return []types.Value{types.StringValue(req), jdTime(at), jdTime(at + g.r.Int64N(2*jdHourMs)), g.orNull(v, 60)}
	}
	for i, at := range g.at {
		if g.r.IntN(8) == 0 {
			continue // no label
		}
		rows = append(rows, row(jdReq(i), at))
		if g.r.IntN(40) == 0 {
			again = append(again, row(jdReq(i), at))
		}
	}
	for k := range max(1, len(g.at)/200) { // of unknown requests
		rows = append(rows, row(fmt.Sprintf("req_x%05d", k), g.start+g.r.Int64N(g.end-g.start)))
	}
	return types.BlockOf(schema, append(rows, again...))
}

func (g *jdGen) boUser(schema types.Schema) *types.Block {
	var rows, later [][]types.Value
	for u := range g.nUser {
		if g.r.IntN(20) == 0 {
			continue // no profile
		}
		reg := jdMidnight(g.start - int64(30+g.r.IntN(1500))*jdDayMs)
		age, sex := types.StringValue(g.pick(jdAges)), types.StringValue(fmt.Sprint(g.r.IntN(3)))
		row := func(at int64) []types.Value {
			return []types.Value{jdTime(at), types.StringValue(jdUser(u)), g.orNull(age, 25), g.orNull(sex, 50),
				types.StringValue(fmt.Sprint(1 + g.r.IntN(5))), types.Int64Value(reg)}
		}
		rows = append(rows, row(reg))
		if g.r.IntN(6) == 0 {
			at := reg // half the updates at the same ingestionTime
			if g.r.IntN(2) == 0 {
				at = min(g.end, reg+int64(1+g.r.IntN(1000))*jdDayMs)
			}
			later = append(later, row(at))
		}
	}
	return types.BlockOf(schema, append(rows, later...))
}

func (g *jdGen) boProduct(schema types.Schema) *types.Block {
	var rows [][]types.Value
	at := g.start - 7*jdDayMs + 27_760_000
	attr := func() types.Value { return types.StringValue(fmt.Sprint(g.r.IntN(4) - 1)) }
	for s := range g.nSku {
		if g.r.IntN(5) == 0 {
			continue // unknown product
		}
		versions := 1
		if g.r.IntN(20) == 0 {
			versions = 2
		}
		for range versions {
			rows = append(rows, []types.Value{jdTime(at), types.StringValue(jdSku(s)), attr(), g.orNull(attr(), 30), attr(),
				types.StringValue("8"), g.orNull(types.StringValue(g.pick(jdBrands)), 30)})
		}
	}
	return types.BlockOf(schema, rows)
}

func (g *jdGen) boAction(schema types.Schema) *types.Block {
	type span struct{ first, last int64 }
	pairs := map[[2]int]*span{}
	var order [][2]int
	for i, at := range g.at {
		k := [2]int{g.user[i], g.sku[i]}
		if p := pairs[k]; p != nil {
			p.last = at
			continue
		}
		pairs[k] = &span{at, at}
		order = append(order, k)
	}
	for k := range max(1, len(order)/20) { // pairs never requested
		order = append(order, [2]int{g.nUser + k, g.r.IntN(g.nSku)})
		pairs[order[len(order)-1]] = &span{g.start, g.end}
	}
	var rows [][]types.Value
	for _, k := range order {
		if g.r.IntN(10) == 0 {
			continue // no past action
		}
		sp := pairs[k]
		from := sp.first - 20*jdDayMs
		for range 1 + g.r.IntN(7) {
			var at int64
			switch g.r.IntN(10) {
			case 0: // at the first request's millisecond
				at = sp.first
			case 1, 2: // hours before it
				at = sp.first - g.r.Int64N(12*jdHourMs)
			default:
				at = from + g.r.Int64N(sp.last-from+1)
			}
			rows = append(rows, []types.Value{jdTime(at), types.StringValue(jdPair(k[0], k[1])), g.orNull(types.Int64Value(at), 50),
				g.orNull(types.StringValue(g.pick(jdModels)), 30), types.StringValue(fmt.Sprint(1 + g.r.IntN(6))),
				types.StringValue(fmt.Sprint(4 + g.r.IntN(7))), types.StringValue(g.pick(jdBrands))})
		}
	}
	g.r.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
	return types.BlockOf(schema, rows)
}

func (g *jdGen) boComment(schema types.Schema) *types.Block {
	var rows [][]types.Value
	has := make([]bool, g.nSku)
	for s := range has {
		has[s] = g.r.IntN(6) != 0
	}
	row := func(s int, dt int64) []types.Value {
		bad, rate := "0", 0.0
		if g.r.IntN(3) != 0 {
			bad, rate = "1", math.Round(g.r.Float64()*1500)/10000
		}
		return []types.Value{jdTime(dt), types.Int64Value(dt), types.StringValue(jdSku(s)), types.IntValue(types.Int32, int64(g.r.IntN(5))),
			g.orNull(types.StringValue(bad), 40), g.orNull(types.FloatValue(rate), 40)}
	}
	for dt := g.start - 28*jdDayMs; dt <= g.end; dt += 7 * jdDayMs {
		for s, ok := range has {
			if !ok {
				continue
			}
			rows = append(rows, row(s, dt))
			if g.r.IntN(50) == 0 {
				rows = append(rows, row(s, dt))
			}
		}
	}
	return types.BlockOf(schema, rows)
}
