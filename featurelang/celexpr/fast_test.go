package celexpr

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// cardsVars are the columns the CEL expressions of examples/cards see.
var cardsVars = []Var{
	{Name: "country", Type: types.String},
	{Name: "amount", Type: types.Double},
	{Name: "cards.home", Type: types.String},
	{Name: "cards.credit_limit", Type: types.Double},
	{Name: "merchants.category", Type: types.String},
}

// TestFastPath lists which expressions are compiled into closures and which
// run on cel-go's interpreter.
func TestFastPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src  string
		vars []Var
		fast bool
	}{
		// examples/cards/features.sql
		{`country != null && cards.home != null && country != cards.home && amount > 100.0`, cardsVars, true},
		{`merchants.category == "online"`, cardsVars, true},
		{`cards.credit_limit == null ? 0.0 : amount / cards.credit_limit`, cardsVars, true},

		{`amount > 10`, testVars, true},
		{`n in [1, 2, 3] || city in ['Paris', 'Lyon']`, testVars, true},
		{`size(city) + city.size() - n % 2`, testVars, true},
		{`-amount * 2.0 <= 3u`, testVars, true},
		{`!ok ? city + '!' : 'no'`, testVars, true},

		{`city.startsWith('Pa') && ok`, testVars, false},          // a string function
		{`ts.getHours('UTC') < 6`, testVars, false},               // a timestamp
		{`ts == null`, testVars, false},                           // a timestamp
		{`t2.tags.size()`, testVars, false},                       // a list column
		{`n in [1, 2].map(x, x * 2)`, testVars, false},            // a comprehension
		{`double(n) > amount`, testVars, false},                   // a conversion
		{`dyn(n) == 3.0`, testVars, false},                        // dyn
		{`{'a': 1}['a'] == n`, testVars, false},                   // a map
		{`b'ab' == b'ab'`, testVars, false},                       // bytes
		{`math.greatest(n, 2) > 1`, testVars, false},              // ext.Math
		{`t2.tags.exists(x, x == city)`, testVars, false},         // tracked: cost limit
		{`city.replace('a', 'b') == 'x'`, testVars, false},        // tracked: cost limit
		{`[1, 2, 3].size() == 3`, testVars, false},                // size of a list
		{`n in [1, 2] + [3]`, testVars, false},                    // in a computed list
		{`has({'a': 1}.a)`, testVars, false},                      // has()
		{`amount > 100.0 && t2.tags[0] == city`, testVars, false}, // one unsupported node is enough
	}
	for _, tt := range tests {
		p, issues := Compile(tt.src, tt.vars, 0)
		if len(issues) > 0 {
			t.Errorf("%s: %v", tt.src, issues)
			continue
		}
		if got := p.fast != nil; got != tt.fast {
			t.Errorf("%s: fast=%v, want %v", tt.src, got, tt.fast)
		}
	}
}

// TestFastSemantics pins the subtle cases of CEL's semantics, each checked
// on both paths.
func TestFastSemantics(t *testing.T) {
	t.Parallel()
	nan, inf := math.NaN(), math.Inf(1)
	null := types.Value{Null: true}
	vars := []Var{{Name: "i", Type: types.Int64}, {Name: "x", Type: types.Double}, {Name: "s", Type: types.String}, {Name: "b", Type: types.Bool}}
	tests := []struct {
		src  string
		row  []types.Value // i, x, s, b
		want types.Value   // NULL: a runtime error
	}{
		// && and || absorb errors from either side; a NULL is an error.
		{src: `false && 1 / 0 == 1`, want: types.BoolValue(false)},
		{src: `1 / 0 == 1 && false`, want: types.BoolValue(false)},
		{src: `1 / 0 == 1 && true`, want: types.NullOf(types.Bool)},
		{src: `1 / 0 == 1 || true`, want: types.BoolValue(true)},
		{src: `false || 1 / 0 == 1`, want: types.NullOf(types.Bool)},
		{src: `b && false`, row: []types.Value{null, null, null, null}, want: types.BoolValue(false)},
		{src: `b || false`, row: []types.Value{null, null, null, null}, want: types.NullOf(types.Bool)},
		{src: `b ? 1 : 2`, row: []types.Value{null, null, null, null}, want: types.NullOf(types.Int64)},
		{src: `!b`, row: []types.Value{null, null, null, null}, want: types.NullOf(types.Bool)},
		// null: == is never an error, ordering and arithmetic are.
		{src: `i == null`, row: []types.Value{null, null, null, null}, want: types.BoolValue(true)},
		{src: `i == 1`, row: []types.Value{null, null, null, null}, want: types.BoolValue(false)},
		{src: `i != 1`, row: []types.Value{null, null, null, null}, want: types.BoolValue(true)},
		{src: `i < 1`, row: []types.Value{null, null, null, null}, want: types.NullOf(types.Bool)},
		{src: `i + 1`, row: []types.Value{null, null, null, null}, want: types.NullOf(types.Int64)},
		{src: `size(s)`, row: []types.Value{null, null, null, null}, want: types.NullOf(types.Int64)},
		{src: `i in [1, 2]`, row: []types.Value{null, null, null, null}, want: types.BoolValue(false)},
		// NaN orders false, except after a null on the left.
		{src: `x < i`, row: []types.Value{null, types.DoubleValue(nan), null, null}, want: types.BoolValue(false)},
		{src: `i < x`, row: []types.Value{null, types.DoubleValue(nan), null, null}, want: types.NullOf(types.Bool)},
		{src: `x == x`, row: []types.Value{null, types.DoubleValue(nan), null, null}, want: types.BoolValue(false)},
		{src: `x != x`, row: []types.Value{null, types.DoubleValue(nan), null, null}, want: types.BoolValue(true)},
		// numbers compare exactly across types.
		{src: `9223372036854775807 < 9.223372036854775807e18`, want: types.BoolValue(false)}, // the double is 2^63
		{src: `i < x`, row: []types.Value{types.Int64Value(math.MaxInt64), types.DoubleValue(inf), null, null}, want: types.BoolValue(true)},
		{src: `18446744073709551615u > -1`, want: types.BoolValue(true)},
		{src: `x > 1u`, row: []types.Value{null, types.DoubleValue(math.Copysign(0, -1)), null, null}, want: types.BoolValue(false)},
		// int arithmetic is checked; double arithmetic is IEEE.
		{src: `9223372036854775807 + 1`, want: types.NullOf(types.Int64)},
		{src: `-9223372036854775808 / -1`, want: types.NullOf(types.Int64)},
		{src: `-9223372036854775808 % -1`, want: types.NullOf(types.Int64)},
		{src: `-(i)`, row: []types.Value{types.Int64Value(math.MinInt64), null, null, null}, want: types.NullOf(types.Int64)},
		{src: `-7 / 2`, want: types.Int64Value(-3)},
		{src: `-7 % 2`, want: types.Int64Value(-1)},
		{src: `7 % -2`, want: types.Int64Value(1)},
		{src: `0u - 1u`, want: types.NullOf(types.Int64)},
		{src: `18446744073709551615u`, want: types.Int64Value(-1)}, // a uint result wraps to bigint
		{src: `1.0 / 0.0`, want: types.DoubleValue(inf)},
		{src: `-(x)`, row: []types.Value{null, types.DoubleValue(0), null, null}, want: types.DoubleValue(math.Copysign(0, -1))},
		// strings: bytewise order, sizes in code points.
		{src: `'a' + s`, row: []types.Value{null, null, types.StringValue("é"), null}, want: types.StringValue("aé")},
		{src: `size(s)`, row: []types.Value{null, null, types.StringValue("日本\xff"), null}, want: types.Int64Value(3)},
		{src: `s < 'é'`, row: []types.Value{null, null, types.StringValue("z"), null}, want: types.BoolValue(true)},
		// an element in error fails `in`, even after a match.
		{src: `1 in [1, 1 / 0]`, want: types.NullOf(types.Bool)},
	}
	for _, tt := range tests {
		p, issues := Compile(tt.src, vars, 0)
		if len(issues) > 0 {
			t.Errorf("%s: %v", tt.src, issues)
			continue
		}
		if p.fast == nil {
			t.Errorf("%s: not on the fast path", tt.src)
			continue
		}
		get := func(i int) types.Value {
			if tt.row == nil || tt.row[i].Null {
				return types.NullOf(vars[i].Type)
			}
			return tt.row[i]
		}
		fast, _ := p.Eval(get)
		slow, _ := p.evalCEL(get)
		if !sameResult(fast, tt.want) || !sameResult(slow, tt.want) {
			t.Errorf("%s: closures give %s, cel-go %s, want %s", tt.src, fast, slow, tt.want)
		}
	}
}

// TestFastMatchesCEL evaluates thousands of random expressions of the fast
// subset on random rows, with the closures and with cel-go, and requires
// identical results.
func TestFastMatchesCEL(t *testing.T) {
	t.Parallel()
	exprs, rows := 3000, 16
	if testing.Short() {
		exprs = 300
	}
	r := rand.New(rand.NewPCG(1, 2))
	g := exprGen{r: r}
	var nulls, results int
	for range exprs {
		src := g.gen(g.anyType(), 4)
		p, issues := Compile(src, diffVars, 0)
		if len(issues) > 0 {
			t.Fatalf("%s: %v", src, issues[0].Msg) // the generator writes only well-typed expressions
		}
		if p.fast == nil {
			t.Fatalf("%s: not on the fast path", src)
		}
		for n := range rows {
			row := randomRow(r, n == 0)
			get := func(i int) types.Value { return row[i] }
			fast, ferr := p.Eval(get)
			slow, serr := p.evalCEL(get)
			if !sameResult(fast, slow) || !errors.Is(ferr, serr) {
				t.Fatalf("%s on %v:\nclosures %s (%v)\ncel-go   %s (%v)", src, row, fast, ferr, slow, serr)
			}
			if byRow, byCol, err := evalRow(p, diffVars, row); !sameResult(byRow, slow) || !sameResult(byCol, slow) || !errors.Is(err, serr) {
				t.Fatalf("%s on %v:\nEvalRow %s, EvalColumn %s (%v)\ncel-go  %s (%v)", src, row, byRow, byCol, err, slow, serr)
			}
			results++
			if fast.Null {
				nulls++
			}
		}
	}
	t.Logf("%d expressions, %d evaluations, %d NULL", exprs, results, nulls)
}

// evalRow evaluates p on row, the values of vars (a NULL where a variable
// is not set), held in a block in reverse order so that Row.Cols maps
// variables to columns: with EvalRow, and with EvalColumn over the block
// whose first row is all NULL and second is row (a NULL result of the first
// must not leak into the second). It returns both results.
func evalRow(p *Program, vars []Var, row []types.Value) (byRow, byCol types.Value, err error) {
	n := len(vars)
	schema, vals, nulls, cols := make(types.Schema, n), make([]types.Value, n), make([]types.Value, n), make([]int, n)
	for i, v := range vars {
		j := n - 1 - i
		schema[j], vals[j], nulls[j], cols[i] = types.Field{Name: v.Name, Type: v.Type}, row[i], types.NullOf(v.Type), j
		if row[i].Type != v.Type {
			vals[j] = types.NullOf(v.Type)
		}
	}
	r := &Row{Block: types.BlockOf(schema, [][]types.Value{nulls, vals}), Cols: cols, At: 1}
	byRow, err = p.EvalRow(r)
	out := types.MakeColumn(p.Out, 2)
	if cerr := p.EvalColumn(r, 2, &out); !errors.Is(cerr, err) {
		return byRow, out.Value(1), cerr
	}
	return byRow, out.Value(1), err
}

// sameResult reports whether two results are the same value: the same type,
// both NULL or equal, doubles bit for bit except for NaN payloads.
func sameResult(a, b types.Value) bool {
	if a.Type != b.Type {
		return false
	}
	if !a.Null && !b.Null && a.Type == types.Double && math.IsNaN(a.F) && math.IsNaN(b.F) {
		return true
	}
	return types.Identical(a, b)
}

// diffVars are the columns of the random expressions: every column type of
// the fast path, nullable, some under dotted names.
var diffVars = []Var{
	{Name: "i", Type: types.Int64},
	{Name: "j", Type: types.Int32},
	{Name: "t.k", Type: types.Int16},
	{Name: "x", Type: types.Double},
	{Name: "y", Type: types.Float},
	{Name: "t.z", Type: types.Double},
	{Name: "s", Type: types.String},
	{Name: "u.name", Type: types.String},
	{Name: "b", Type: types.Bool},
	{Name: "t.c", Type: types.Bool},
}

// celKind is the CEL type of a generated expression.
type celKind int

const (
	celBool celKind = iota
	celInt
	celUint
	celDouble
	celString
	celKinds
)

var (
	varsOf = [celKinds][]string{
		celBool:   {"b", "t.c"},
		celInt:    {"i", "j", "t.k"},
		celDouble: {"x", "y", "t.z"},
		celString: {"s", "u.name"},
	}
	literalsOf = [celKinds][]string{
		celBool: {"true", "false"},
		celInt: {"0", "1", "-1", "2", "7", "-7", "100", "9223372036854775807", "-9223372036854775808",
			"4611686018427387904", "3037000500", "-3037000500"},
		celUint: {"0u", "1u", "2u", "7u", "9223372036854775807u", "9223372036854775808u", "18446744073709551615u"},
		celDouble: {"0.0", "-0.0", "1.0", "-1.5", "0.1", "100.0", "1e308", "-1e308", "5e-324",
			"9.223372036854775807e18", "-9.223372036854775808e18", "9.2233720368547748e18", "1.8446744073709552e19"},
		celString: {"''", "'a'", "'b'", "'A'", "'ab'", "'é'", `'e\u0301'`, "'日本'", `"\xff"`},
	}
)

// exprGen writes random well-typed CEL expressions of the fast subset.
type exprGen struct{ r *rand.Rand }

func (g exprGen) anyType() celKind { return celKind(g.r.IntN(int(celKinds))) }

func (g exprGen) pick(s []string) string { return s[g.r.IntN(len(s))] }

// gen writes an expression of type k, nested at most depth deep.
func (g exprGen) gen(k celKind, depth int) string {
	if depth == 0 || g.r.IntN(4) == 0 {
		return g.leaf(k)
	}
	sub := func(k celKind) string { return "(" + g.gen(k, depth-1) + ")" }
	if g.r.IntN(8) == 0 {
		return sub(celBool) + " ? " + sub(k) + " : " + sub(k)
	}
	switch k {
	case celBool:
		return g.boolean(sub, depth)
	case celInt:
		switch g.r.IntN(5) {
		case 0:
			return "-" + sub(celInt)
		case 1:
			if g.r.IntN(2) == 0 {
				return "size" + sub(celString)
			}
			return sub(celString) + ".size()"
		}
		return sub(celInt) + g.pick([]string{" + ", " - ", " * ", " / ", " % "}) + sub(celInt)
	case celUint:
		return sub(celUint) + g.pick([]string{" + ", " - ", " * ", " / ", " % "}) + sub(celUint)
	case celDouble:
		if g.r.IntN(5) == 0 {
			return "-" + sub(celDouble)
		}
		return sub(celDouble) + g.pick([]string{" + ", " - ", " * ", " / "}) + sub(celDouble)
	}
	return sub(celString) + " + " + sub(celString)
}

func (g exprGen) boolean(sub func(celKind) string, depth int) string {
	numeric := func() celKind { return []celKind{celInt, celUint, celDouble}[g.r.IntN(3)] }
	switch g.r.IntN(8) {
	case 0:
		return "!" + sub(celBool)
	case 1:
		return sub(celBool) + " && " + sub(celBool)
	case 2:
		return sub(celBool) + " || " + sub(celBool)
	case 3: // equality of two values of one type
		k := g.anyType()
		return sub(k) + g.pick([]string{" == ", " != "}) + sub(k)
	case 4: // null checks
		v := g.pick(varsOf[[]celKind{celBool, celInt, celDouble, celString}[g.r.IntN(4)]])
		if g.r.IntN(2) == 0 {
			return v + g.pick([]string{" == ", " != "}) + "null"
		}
		return "null" + g.pick([]string{" == ", " != "}) + v
	case 5: // ordering: across numeric types, or of strings or bools
		a, b := numeric(), numeric()
		if g.r.IntN(3) == 0 {
			a = []celKind{celString, celBool}[g.r.IntN(2)]
			b = a
		}
		return sub(a) + g.pick([]string{" < ", " <= ", " > ", " >= "}) + sub(b)
	case 6:
		k := g.anyType()
		elems := make([]string, g.r.IntN(4))
		for i := range elems {
			elems[i] = g.gen(k, min(depth-1, 1))
		}
		return sub(k) + " in [" + strings.Join(elems, ", ") + "]"
	}
	return g.leaf(celBool)
}

func (g exprGen) leaf(k celKind) string {
	if vs := varsOf[k]; len(vs) > 0 && g.r.IntN(2) == 0 {
		return g.pick(vs)
	}
	return g.pick(literalsOf[k])
}

// randomRow draws a value for each of diffVars, many of them extreme, some
// NULL; allNull makes them all NULL.
func randomRow(r *rand.Rand, allNull bool) []types.Value {
	ints := []int64{0, 1, -1, 2, 7, -7, 100, math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1,
		1 << 32, 3037000500, -3037000500, 1 << 62, int64(r.Uint64()), r.Int64N(200) - 100}
	doubles := []float64{0, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1), 1, -1, 0.5, 100, 100.5,
		1e308, -1e308, 5e-324, math.MaxFloat64, 1 << 63, -(1 << 63), 1 << 64, 9.2233720368547748e18,
		r.NormFloat64() * 1e3, math.Float64frombits(r.Uint64())}
	strs := []string{"", "a", "b", "A", "ab", "é", "e\u0301", "日本", "\xff", "\xffa", "online"}
	row := make([]types.Value, len(diffVars))
	for i, v := range diffVars {
		if allNull || r.IntN(6) == 0 {
			row[i] = types.NullOf(v.Type)
			continue
		}
		switch v.Type {
		case types.Int64, types.Int32, types.Int16:
			row[i] = types.IntValue(v.Type, ints[r.IntN(len(ints))])
		case types.Double:
			row[i] = types.DoubleValue(doubles[r.IntN(len(doubles))])
		case types.Float:
			row[i] = types.FloatValue(doubles[r.IntN(len(doubles))])
		case types.String:
			row[i] = types.StringValue(strs[r.IntN(len(strs))])
		case types.Bool:
			row[i] = types.BoolValue(r.IntN(2) == 0)
		}
	}
	return row
}

// TestFastEdges runs every operator of the fast subset on every pair of
// edge values its operand types allow (NULLs and errors included), with
// the closures and with cel-go, and requires identical results.
func TestFastEdges(t *testing.T) {
	t.Parallel()
	numeric := []celKind{celInt, celUint, celDouble}
	same := [][2]celKind{{celInt, celInt}, {celUint, celUint}, {celDouble, celDouble}, {celString, celString}, {celBool, celBool}}
	var ordered [][2]celKind
	for _, a := range numeric {
		for _, b := range numeric {
			ordered = append(ordered, [2]celKind{a, b})
		}
	}
	ordered = append(ordered, [2]celKind{celString, celString}, [2]celKind{celBool, celBool})
	binaries := []struct {
		ops   []string
		kinds [][2]celKind
	}{
		{[]string{"+", "-", "*", "/", "%"}, [][2]celKind{{celInt, celInt}, {celUint, celUint}}},
		{[]string{"+", "-", "*", "/"}, [][2]celKind{{celDouble, celDouble}}},
		{[]string{"+"}, [][2]celKind{{celString, celString}}},
		{[]string{"==", "!="}, same},
		{[]string{"<", "<=", ">", ">="}, ordered},
		{[]string{"&&", "||"}, [][2]celKind{{celBool, celBool}}},
	}
	var srcs []string
	for _, b := range binaries {
		for _, op := range b.ops {
			for _, k := range b.kinds {
				for _, l := range edgeOperands(k[0], "l") {
					for _, r := range edgeOperands(k[1], "r") {
						srcs = append(srcs, l+" "+op+" "+r)
					}
				}
			}
		}
	}
	for _, u := range []struct {
		op string
		k  celKind
	}{{"-", celInt}, {"-", celDouble}, {"!", celBool}, {"size", celString}} {
		for _, x := range edgeOperands(u.k, "l") {
			srcs = append(srcs, u.op+"("+x+")")
		}
	}
	for _, k := range []celKind{celInt, celUint, celDouble, celString, celBool} {
		for _, x := range edgeOperands(k, "l") {
			for _, c := range edgeOperands(celBool, "r") {
				srcs = append(srcs, c+" ? "+x+" : "+literalsOf[k][0], x+" in ["+literalsOf[k][1]+", "+x+"]")
			}
		}
	}
	for _, v := range []string{"l_i", "l_d", "l_s", "l_b"} {
		srcs = append(srcs, v+" == null", "null != "+v)
	}

	var evals int
	for _, src := range srcs {
		p, issues := Compile(src, edgeVars, 0)
		if len(issues) > 0 {
			t.Fatalf("%s: %v", src, issues[0].Msg)
		}
		if p.fast == nil {
			t.Fatalf("%s: not on the fast path", src)
		}
		// Every combination of the edge values of the variables it reads.
		row := make([]types.Value, len(edgeVars))
		var each func(n int)
		each = func(n int) {
			if n == len(p.Refs) {
				get := func(i int) types.Value { return row[i] }
				fast, ferr := p.Eval(get)
				slow, serr := p.evalCEL(get)
				if !sameResult(fast, slow) || !errors.Is(ferr, serr) {
					t.Fatalf("%s on %v:\nclosures %s (%v)\ncel-go   %s (%v)", src, row, fast, ferr, slow, serr)
				}
				if byRow, byCol, err := evalRow(p, edgeVars, row); !sameResult(byRow, slow) || !sameResult(byCol, slow) || !errors.Is(err, serr) {
					t.Fatalf("%s on %v:\nEvalRow %s, EvalColumn %s (%v)\ncel-go  %s (%v)", src, row, byRow, byCol, err, slow, serr)
				}
				evals++
				return
			}
			i := p.Refs[n]
			for _, v := range edgeValues(edgeVars[i].Type) {
				row[i] = v
				each(n + 1)
			}
		}
		each(0)
	}
	t.Logf("%d expressions, %d evaluations", len(srcs), evals)
}

// edgeVars are the variables of TestFastEdges: one per operand side and
// CEL type (uint has none: it comes from literals only).
var edgeVars = []Var{
	{Name: "l_i", Type: types.Int64}, {Name: "r_i", Type: types.Int64},
	{Name: "l_d", Type: types.Double}, {Name: "r_d", Type: types.Double},
	{Name: "l_s", Type: types.String}, {Name: "r_s", Type: types.String},
	{Name: "l_b", Type: types.Bool}, {Name: "r_b", Type: types.Bool},
}

// edgeOperands lists the operands of type k for one side of an operator:
// its variable, which takes all the edge values, or the uint literals; and
// an expression of type k that fails at runtime.
func edgeOperands(k celKind, side string) []string {
	fail := "(1 / 0 == 0 ? " + literalsOf[k][0] + " : " + literalsOf[k][0] + ")"
	switch k {
	case celInt:
		return []string{side + "_i", fail}
	case celDouble:
		return []string{side + "_d", fail}
	case celString:
		return []string{side + "_s", fail}
	case celBool:
		return []string{side + "_b", fail}
	}
	return append(append([]string{}, literalsOf[celUint]...), fail)
}

// edgeValues lists the edge values of a column type, NULL included.
func edgeValues(t types.Type) []types.Value {
	var out []types.Value
	switch t {
	case types.Int64:
		for _, i := range []int64{0, 1, -1, 2, -2, 7, -7, math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1,
			3037000499, 3037000500, -3037000500, 1 << 62, 1<<53 + 1, math.MaxInt64 - 511, math.MaxInt64 - 512} {
			out = append(out, types.Int64Value(i))
		}
	case types.Double:
		for _, f := range []float64{0, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1), 1, -1, 0.5, -0.5, 2,
			1 << 63, -(1 << 63), 1 << 64, 9.2233720368547748e18, 1<<53 + 2, math.MaxFloat64, 5e-324, 1e308} {
			out = append(out, types.DoubleValue(f))
		}
	case types.String:
		for _, s := range []string{"", "a", "b", "ab", "A", "é", "e\u0301", "日本", "\xff"} {
			out = append(out, types.StringValue(s))
		}
	case types.Bool:
		out = append(out, types.BoolValue(false), types.BoolValue(true))
	}
	return append(out, types.NullOf(t))
}
