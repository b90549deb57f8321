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
