package eval

import (
	"encoding/binary"
	"math"

	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// appendKey appends a hashable encoding of v to buf: values that compare
// equal as keys (integers of any width, float and double, -0 and +0, NULL
// and NULL) encode identically, and distinct values never collide.
func appendKey(buf []byte, v types.Value) []byte {
	if v.Null {
		return append(buf, 0)
	}
	class := plan.KeyClass(v.Type)
	buf = append(buf, class)
	switch class {
	case 'f':
		f := v.F
		if f == 0 {
			f = 0 // -0 and +0 are one key
		}
		return binary.LittleEndian.AppendUint64(buf, math.Float64bits(f))
	case 's':
		buf = binary.AppendUvarint(buf, uint64(len(v.S)))
		return append(buf, v.S...)
	}
	return binary.LittleEndian.AppendUint64(buf, uint64(v.I))
}

// keyOf encodes the values of fns for the current row of c into buf.
func keyOf(buf []byte, c *ectx, fns []evalFn) []byte {
	buf = buf[:0]
	for _, f := range fns {
		buf = appendKey(buf, f(c))
	}
	return buf
}
