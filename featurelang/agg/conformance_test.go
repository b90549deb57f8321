package agg

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// casesFile is the OpenMLDB conformance suite, outside the module; tests
// that need it skip when it is absent (see shared/conformance/README.md).
const casesFile = "../../../shared/conformance/openmldb/cases.jsonl"

// conformanceCase is the part of a case these tests read.
type conformanceCase struct {
	ID           string   `json:"id"`
	SQL          string   `json:"sql"`
	Level        int      `json:"level"`
	AggFunctions []string `json:"agg_functions"`
	LongWindow   string   `json:"long_window"`
	Inputs       []struct {
		Columns []string `json:"columns"`
	} `json:"inputs"`
	Expect struct {
		Columns []string `json:"columns"`
		Success *bool    `json:"success"`
	} `json:"expect"`
}

// staleCases are cases whose expected types contradict the rest of the
// suite; the reason is given.
var staleCases = map[string]string{
	"cases/integration_test/join/test_lastjoin_complex.yaml#14:11-3": "expects sum(int32) as int64; every other case has int32",
}

// TestConformanceSignatures checks Resolve against the argument types the
// conformance cases use: in a case that OpenMLDB accepts, every aggregate
// call must resolve, to the type of its output column; in a case of the
// type grids (level 5) that OpenMLDB rejects with a single aggregate call,
// Resolve must reject it. Calls whose arguments are not plain columns,
// literals or comparisons are skipped, and so are long-window cases, whose
// rejections come from the deployment's pre-aggregation rules, not from
// argument types.
func TestConformanceSignatures(t *testing.T) {
	t.Parallel()
	f, err := os.Open(casesFile)
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("conformance cases not present")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	var accepted, rejected int
	for sc.Scan() {
		var c conformanceCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		if c.LongWindow != "" || len(c.AggFunctions) == 0 || staleCases[c.ID] != "" {
			continue
		}
		calls, complete := aggCalls(c)
		success := c.Expect.Success == nil || *c.Expect.Success
		if !success {
			if c.Level != 5 || !complete || len(calls) != 1 {
				continue
			}
			if fn, err := Resolve(calls[0].name, calls[0].args, calls[0].consts); err == nil {
				t.Errorf("%s: %s accepted (result %s); OpenMLDB rejects it", c.ID, calls[0], fn.Result)
			}
			rejected++
			continue
		}
		for _, call := range calls {
			fn, err := Resolve(call.name, call.args, call.consts)
			if err != nil {
				t.Errorf("%s: %s: %v", c.ID, call, err)
				continue
			}
			if want, ok := outputType(c, call.alias); ok && fn.Result != want {
				t.Errorf("%s: %s has type %s, want %s", c.ID, call, fn.Result, want)
			}
			accepted++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d calls accepted, %d rejected as OpenMLDB does", accepted, rejected)
}

// call is an aggregate call found in a case's SQL.
type call struct {
	name   string
	args   []types.Type
	consts []*types.Value
	alias  string
}

func (c call) String() string { return sigName(c.name, sig{args: c.args, consts: c.consts}) }

var (
	callStart = regexp.MustCompile(`(?i)\b([a-z_][a-z0-9_]*)\s*\(`)
	aliasRe   = regexp.MustCompile(`(?i)^\s*over\s+\w+\s+as\s+(\w+)`)
	compareRe = regexp.MustCompile(`^([\w.` + "`" + `]+)\s*(<=|>=|!=|==|=|<|>)\s*([\w.'"` + "`" + `-]+)$`)
)

// aggCalls returns the calls of the case's aggregates that it can type, and
// whether it could type them all.
func aggCalls(c conformanceCase) (calls []call, complete bool) {
	cols := map[string]types.Type{}
	for _, in := range c.Inputs {
		for _, def := range in.Columns {
			name, typ, _ := strings.Cut(def, " ")
			t, err := types.Parse(typ)
			if prev, dup := cols[strings.ToLower(name)]; err != nil || dup && prev != t {
				t = types.Type(0xff) // unknown or ambiguous
			}
			cols[strings.ToLower(name)] = t
		}
	}
	aggs := map[string]bool{}
	for _, a := range c.AggFunctions {
		aggs[a] = IsAggregate(a)
	}
	complete = true
	sql := c.SQL
	for _, m := range callStart.FindAllStringSubmatchIndex(sql, -1) {
		name := strings.ToLower(sql[m[2]:m[3]])
		if !aggs[name] {
			continue
		}
		body, end, ok := parenBody(sql, m[1])
		if !ok {
			complete = false
			continue
		}
		cl := call{name: name}
		typed := true
		for _, a := range splitArgs(body) {
			if a == "*" {
				continue
			}
			t, v, ok := argType(a, cols)
			if !ok {
				typed = false
				break
			}
			cl.args = append(cl.args, t)
			cl.consts = append(cl.consts, v)
		}
		if !typed {
			complete = false
			continue
		}
		if am := aliasRe.FindStringSubmatch(sql[end:]); am != nil {
			cl.alias = strings.ToLower(am[1])
		}
		calls = append(calls, cl)
	}
	return calls, complete
}

// parenBody returns the text between the parenthesis opened before start
// and its match, and the index after the match.
func parenBody(s string, start int) (string, int, bool) {
	depth, quote := 1, byte(0)
	for i := start; i < len(s); i++ {
		switch ch := s[i]; {
		case quote != 0:
			if ch == quote {
				quote = 0
			}
		case ch == '"' || ch == '\'':
			quote = ch
		case ch == '(':
			depth++
		case ch == ')':
			if depth--; depth == 0 {
				return s[start:i], i + 1, true
			}
		}
	}
	return "", 0, false
}

// splitArgs splits at the top-level commas.
func splitArgs(s string) []string {
	var out []string
	depth, quote, from := 0, byte(0), 0
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case quote != 0:
			if ch == quote {
				quote = 0
			}
		case ch == '"' || ch == '\'':
			quote = ch
		case ch == '(':
			depth++
		case ch == ')':
			depth--
		case ch == ',' && depth == 0:
			out = append(out, strings.TrimSpace(s[from:i]))
			from = i + 1
		}
	}
	if rest := strings.TrimSpace(s[from:]); rest != "" {
		out = append(out, rest)
	}
	return out
}

// argType types a plain argument: a column, a literal (a constant) or a
// comparison of those (a bool).
func argType(a string, cols map[string]types.Type) (types.Type, *types.Value, bool) {
	if t, v, ok := literal(a); ok {
		return t, v, true
	}
	if t, ok := columnType(a, cols); ok {
		return t, nil, true
	}
	if m := compareRe.FindStringSubmatch(a); m != nil {
		if _, _, ok := argType(m[1], cols); ok {
			if _, _, ok := argType(m[3], cols); ok {
				return types.Bool, nil, true
			}
		}
	}
	return 0, nil, false
}

func columnType(a string, cols map[string]types.Type) (types.Type, bool) {
	name := strings.ToLower(strings.Trim(a[strings.LastIndexByte(a, '.')+1:], "`"))
	t, ok := cols[name]
	return t, ok && t != types.Type(0xff)
}

func literal(a string) (types.Type, *types.Value, bool) {
	switch low := strings.ToLower(a); {
	case low == "true" || low == "false":
		return types.Bool, constant(types.Bool, low == "true"), true
	case low == "null":
		return types.Null, &types.Value{Type: types.Null, Null: true}, true
	case len(a) >= 2 && (a[0] == '"' || a[0] == '\'') && a[len(a)-1] == a[0]:
		return types.String, constant(types.String, a[1:len(a)-1]), true
	}
	if i, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSuffix(a, "L"), "l"), 10, 64); err == nil {
		if a[len(a)-1] == 'L' || a[len(a)-1] == 'l' {
			return types.Int64, constant(types.Int64, i), true
		}
		return types.Int32, constant(types.Int32, int(i)), true
	}
	if f, err := strconv.ParseFloat(a, 64); err == nil && strings.Contains(a, ".") {
		return types.Double, constant(types.Double, f), true
	}
	return 0, nil, false
}

// outputType returns the type of the expected output column named alias.
func outputType(c conformanceCase, alias string) (types.Type, bool) {
	if alias == "" {
		return 0, false
	}
	for _, def := range c.Expect.Columns {
		name, typ, _ := strings.Cut(def, " ")
		if strings.EqualFold(name, alias) {
			t, err := types.Parse(typ)
			return t, err == nil
		}
	}
	return 0, false
}
