package eval

import (
	"encoding/binary"
	"math"

	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// AppendKey appends the encoding of v as a partition or join key to buf:
// values that are equal as keys (integers of any width, float and double,
// -0 and +0, NULL and NULL) encode identically, and distinct values never
// collide. It is the evaluator's definition of key equality; hosts that
// split rows by key (into Beam buckets, say) hash this encoding.
func AppendKey(buf []byte, v types.Value) []byte {
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
		buf = AppendKey(buf, f(c))
	}
	return buf
}
