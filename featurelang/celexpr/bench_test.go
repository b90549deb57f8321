package celexpr

import (
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// BenchmarkEval measures one evaluation of the README's condition over a
// row of three columns.
func BenchmarkEval(b *testing.B) {
	vars := []Var{{Name: "country", Type: types.String}, {Name: "home", Type: types.String}, {Name: "amount", Type: types.Double}}
	p, issues := Compile(`country != home && amount > 100.0`, vars, 0)
	if len(issues) > 0 {
		b.Fatal(issues)
	}
	row := []types.Value{types.StringValue("FR"), types.StringValue("DE"), types.DoubleValue(250)}
	get := func(i int) types.Value { return row[i] }
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Eval(get); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPaths compares the closures with cel-go's interpreter on the CEL
// expressions of examples/cards.
func BenchmarkPaths(b *testing.B) {
	row := []types.Value{types.StringValue("FR"), types.DoubleValue(250), types.StringValue("DE"),
		types.DoubleValue(1000), types.StringValue("online")} // cardsVars
	get := func(i int) types.Value { return row[i] }
	for _, src := range []string{
		`country != null && cards.home != null && country != cards.home && amount > 100.0`,
		`merchants.category == "online"`,
		`cards.credit_limit == null ? 0.0 : amount / cards.credit_limit`,
	} {
		p, issues := Compile(src, cardsVars, 0)
		if len(issues) > 0 {
			b.Fatal(issues)
		}
		if p.fast == nil {
			b.Fatalf("%s: not on the fast path", src)
		}
		for _, path := range []struct {
			name string
			eval func(func(int) types.Value) (types.Value, error)
		}{{"closures", p.Eval}, {"cel-go", p.evalCEL}, {"row", evalRowOf(p, row)}} {
			b.Run(path.name+"/"+src, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := path.eval(get); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// evalRowOf returns an eval that ignores its get and evaluates p with
// EvalRow on a one-row block of row.
func evalRowOf(p *Program, row []types.Value) func(func(int) types.Value) (types.Value, error) {
	schema, cols := make(types.Schema, len(row)), make([]int, len(row))
	for i, v := range row {
		schema[i], cols[i] = types.Field{Name: cardsVars[i].Name, Type: v.Type}, i
	}
	r := &Row{Block: types.BlockOf(schema, [][]types.Value{row}), Cols: cols}
	return func(func(int) types.Value) (types.Value, error) { return p.EvalRow(r) }
}
