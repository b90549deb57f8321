package agg

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkSlide slides a 100-row frame over 10,000 random rows, reading
// the result at every row, as batch mode does.
func BenchmarkSlide(b *testing.B) {
	sigs := signatures()
	for _, name := range []string{"sum", "sum_where", "avg_where", "distinct_count", "count_cate",
		"top_n_key_sum_cate_where", "topn_frequency", "median", "lag", "var_pop", "window_split",
		"entropy", "top", "drawdown", "ew_avg"} {
		s := sigs[name][0]
		b.Run(sigName(name, s), func(b *testing.B) {
			const n, width = 10000, 100
			f, err := Resolve(name, s.args, s.consts)
			if err != nil {
				b.Fatal(err)
			}
			cols := randomColumns(rand.New(rand.NewPCG(1, 1)), s, n)
			for b.Loop() {
				acc := f.Bind(cols)
				for r := range n {
					acc.Add(r)
					if r >= width {
						acc.Remove(r - width)
					}
					acc.Result()
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/row")
		})
	}
}
