package agg

import (
	"errors"
	"strings"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

func TestRejected(t *testing.T) {
	t.Parallel()
	n2 := constant(tI32, 2)
	cases := []struct {
		fn     string
		args   []types.Type
		consts []*types.Value
		want   string
	}{
		{"nosuch", []types.Type{tI32}, nil, `agg: unknown aggregate "nosuch"`},
		{"count_where", []types.Type{tI32}, nil, "count_where: the condition (argument 1) must be bool, got int32"},
		{"count_where", []types.Type{tI32, tI32}, nil, "count_where: the condition (argument 2) must be bool, got int32"},
		{"count_where", []types.Type{types.ArrayOf(tStr), tBool}, nil, "count_where: cannot aggregate array<string>; expected a scalar"},
		{"sum_where", []types.Type{tDate, tBool}, nil, "sum_where: cannot aggregate date; expected a number"},
		{"sum_where", []types.Type{tTS, tBool}, nil, "sum_where: cannot aggregate timestamp; expected a number"},
		{"avg_where", []types.Type{tStr, tBool}, nil, "avg_where: cannot aggregate string; expected a number"},
		{"min_where", []types.Type{tTS, tBool}, nil, "min_where: cannot aggregate timestamp; expected a number"},
		{"max_where", []types.Type{tBool, tBool}, nil, "max_where: cannot aggregate bool; expected a number"},
		{"max_where", []types.Type{tI32, tStr}, nil, "max_where: the condition (argument 2) must be bool, got string"},
		{"sum_where", []types.Type{tI32}, nil, "sum_where: takes (value, condition), got 1 argument"},
		{"distinct_count", []types.Type{types.MapOf(tStr, tI32)}, nil, "distinct_count: cannot count distinct values of map<string, int32>"},
		{"lag", []types.Type{tI32, tI32}, nil, "lag: the offset must be a constant integer"},
		{"at", []types.Type{tI32, tF64}, []*types.Value{nil, constant(tF64, 1.0)}, "at: the offset must be a constant integer, got double"},
		{"lag", []types.Type{tI32, tI32}, []*types.Value{nil, constant(tI32, nil)}, "lag: the offset must not be NULL"},
		{"lag", []types.Type{tI32}, nil, "lag: takes (value, offset[, ignore_nulls]), got 1 argument"},
		{"lag", []types.Type{tI32, tI32, tBool}, []*types.Value{nil, n2, nil}, "lag: ignore_nulls must be a constant bool"},
		{"first_value", []types.Type{tI32, tI32}, []*types.Value{nil, n2}, "first_value: ignore_nulls must be a constant bool, got int32"},
		{"last_value", []types.Type{types.Null}, nil, "last_value: cannot take a row of NULL"},
		{"nth_value_where", []types.Type{tI32, tI32, tBool}, nil, "nth_value_where: n must be a constant integer"},
		{"nth_value_where", []types.Type{tI32, tI32, tI32}, []*types.Value{nil, n2, nil}, "nth_value_where: the condition (argument 3) must be bool, got int32"},
		{"count_cate", []types.Type{tStr, tI32}, nil, "count_cate: cannot aggregate string; expected int16, int32, int64, float or double"},
		{"sum_cate", []types.Type{tI32, tF64}, nil, "sum_cate: cannot group by double; the category must be int16, int32, int64, date, timestamp or string"},
		{"avg_cate", []types.Type{tI32, tBool}, nil, "avg_cate: cannot group by bool"},
		{"min_cate", []types.Type{tTS, tI32}, nil, "min_cate: cannot aggregate timestamp"},
		{"max_cate", []types.Type{tDate, tI32}, nil, "max_cate: cannot aggregate date"},
		{"sum_cate_where", []types.Type{tI32, tI32, tI32}, nil, "sum_cate_where: the condition (argument 2) must be bool, got int32"},
		{"sum_cate_where", []types.Type{tI32, tI32}, nil, "sum_cate_where: takes (value, condition, category), got 2 arguments"},
		{"top_n_key_sum_cate_where", []types.Type{tI32, tBool, tI32, tI32}, nil, "top_n_key_sum_cate_where: n must be a constant integer"},
		{"top_n_key_avg_cate_where", []types.Type{tI32, tBool, tF32, tI32}, []*types.Value{nil, nil, nil, n2}, "cannot group by float"},
		{"top_n_value_ratio_cate", []types.Type{tI32, tBool, tStr, tStr}, []*types.Value{nil, nil, nil, constant(tStr, "2")}, "n must be a constant integer, got string"},
		{"top_n_key_ratio_cate", []types.Type{tI32, tBool, tStr}, nil, "takes (value, condition, category, n), got 3 arguments"},
		{"topn_frequency", []types.Type{tI32, tI32}, nil, "topn_frequency: n must be a constant integer"},
		{"topn_frequency", []types.Type{tI32, tI64}, []*types.Value{nil, constant(tI64, 3)}, "topn_frequency: n must be a constant int32, got int64"},
		{"topn_frequency", []types.Type{tBool, tI32}, []*types.Value{nil, n2}, "topn_frequency: cannot count values of bool"},
		{"top1_ratio", []types.Type{tBool}, nil, "top1_ratio: cannot count values of bool"},
		{"top1_ratio", []types.Type{types.ArrayOf(tBool)}, nil, "top1_ratio: cannot count values of array<bool>"},
		{"median", []types.Type{tTS}, nil, "median: cannot take the median of timestamp; expected a number"},
		{"median", []types.Type{tStr}, nil, "median: cannot take the median of string"},
		{"var_pop", []types.Type{tDate}, nil, "var_pop: cannot compute the variance of date; expected a number"},
		{"stddev", []types.Type{tI32, tI32}, nil, "stddev: takes 1 argument, got 2"},
		{"window_split", []types.Type{tI32, tStr}, []*types.Value{nil, constant(tStr, ",")}, "window_split: cannot split int32; expected a string"},
		{"window_split", []types.Type{tStr, tStr}, nil, "window_split: the delimiters must be non-NULL string constants"},
		{"window_split_by_key", []types.Type{tStr, tStr, tStr}, []*types.Value{nil, constant(tStr, ","), nil}, "the delimiters must be non-NULL string constants"},
		{"window_split", []types.Type{tStr, tStr}, []*types.Value{nil, constant(tStr, "((")}, "window_split: error parsing regexp"},
		{"window_split_by_value", []types.Type{tStr, tStr}, []*types.Value{nil, constant(tStr, ",")}, "takes (string, delimiter, kv_delimiter), got 2 arguments"},
		{"entropy", []types.Type{types.ArrayOf(tStr)}, nil, "entropy: cannot compute the entropy of array<string>; expected a scalar"},
		{"entropy", []types.Type{tI32, tI32}, nil, "entropy: takes 1 argument, got 2"},
		{"top", []types.Type{tI32, tI32}, nil, "top: k must be a constant integer"},
		{"top", []types.Type{tI32, tI16}, []*types.Value{nil, constant(tI16, 2)}, "top: k must be a constant int32 or int64, got int16"},
		{"top", []types.Type{tI32, tI32}, []*types.Value{nil, constant(tI32, nil)}, "top: k must not be NULL"},
		{"top", []types.Type{tBool, tI32}, []*types.Value{nil, n2}, "top: cannot take the top values of bool"},
		{"top", []types.Type{tI32}, nil, "top: takes 2 arguments, got 1"},
		{"drawdown", []types.Type{tTS}, nil, "drawdown: cannot compute the drawdown of timestamp; expected a number"},
		{"drawdown", []types.Type{tStr}, nil, "drawdown: cannot compute the drawdown of string"},
		{"ew_avg", []types.Type{tI32}, nil, "ew_avg: takes (value, alpha), got 1 argument"},
		{"ew_avg", []types.Type{tDate, tF64}, nil, "ew_avg: cannot average date; expected a number"},
		{"ew_avg", []types.Type{tI32, tI32}, []*types.Value{nil, n2}, "ew_avg: alpha must be a double, got int32"},
		{"ew_avg", []types.Type{tI32, tF32}, nil, "ew_avg: alpha must be a double, got float"},
	}
	for _, c := range cases {
		t.Run(c.fn+typeList(c.args), func(t *testing.T) {
			t.Parallel()
			f, err := Resolve(c.fn, c.args, c.consts)
			if err == nil {
				t.Fatalf("Resolve accepted it, result %s", f.Result)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q, want it to contain %q", err, c.want)
			}
			if unknown := strings.Contains(c.want, "unknown aggregate"); errors.Is(err, ErrUnknown) != unknown {
				t.Errorf("errors.Is(err, ErrUnknown) = %v", !unknown)
			}
		})
	}
}
