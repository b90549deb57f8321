package agg

import (
	"math"
	"strconv"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// The string results of the *_cate family and topn_frequency are built the
// way OpenMLDB prints them: integers in decimal, floats with C's "%f" (six
// decimals; nan, inf), dates as 2006-01-02 and timestamps as
// 2006-01-02 15:04:05 in types.Zone() (--time-zone).

// appendCFloat appends f as C's printf("%f") does.
func appendCFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		if math.Signbit(f) {
			return append(b, "-nan"...)
		}
		return append(b, "nan"...)
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	}
	return strconv.AppendFloat(b, f, 'f', 6, 64)
}

// appendKey appends the printed form of a category or frequency key: the
// payload of a non-NULL value of a scalar type.
func appendKey(b []byte, t types.Type, i int64, f float64, s string) []byte {
	switch t {
	case types.String:
		return append(b, s...)
	case types.Float, types.Double:
		return appendCFloat(b, f)
	case types.Date:
		return append(b, types.FormatDate(i)...)
	case types.Timestamp:
		return append(b, types.FormatTimestamp(i)...)
	case types.Bool:
		return strconv.AppendBool(b, i != 0)
	}
	return strconv.AppendInt(b, i, 10)
}

// maxCateOutput is OpenMLDB's limit on a *_cate string: entries "k:v," are
// written while their total length stays within it, and the first entry
// that would exceed it ends the output.
const maxCateOutput = 4096
