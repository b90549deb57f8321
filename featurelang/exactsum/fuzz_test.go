package exactsum

import (
	"encoding/binary"
	"math"
	"testing"
)

// FuzzAcc runs a script of operations on two Accs, a and b, decoded from
// the input, and checks them against the oracle after every step.
//
// Each step is an opcode byte and, for opcodes that take one, 8 bytes of
// operand (a float64's bits or an int64). The opcode's low bit picks the
// Acc; the rest: 0 Add, 1 Sub, 2 AddInt, 3 SubInt, 4 Merge the other Acc,
// 5 Merge itself, 6 Reset, 7 marshal and unmarshal.
func FuzzAcc(f *testing.F) {
	for _, tt := range accTests {
		f.Add(encodeScript(tt.ops))
	}
	f.Add([]byte{8, 9, 10, 11, 12, 13, 14, 15})
	f.Fuzz(func(t *testing.T, data []byte) {
		var accs [2]Acc
		var oracles [2]oracle
		for step := 0; len(data) > 0; step++ {
			code := data[0]
			data = data[1:]
			a, o := &accs[code&1], &oracles[code&1]
			other, otherO := &accs[code&1^1], &oracles[code&1^1]
			var arg uint64
			if code>>1&7 < 4 {
				if len(data) < 8 {
					return
				}
				arg = binary.LittleEndian.Uint64(data)
				data = data[8:]
			}
			switch code >> 1 & 7 {
			case 0, 1, 2, 3:
				op{kind: opKind(code >> 1 & 3), f: math.Float64frombits(arg), i: int64(arg)}.apply(a, o)
			case 4:
				a.Merge(other)
				o.merge(otherO)
			case 5:
				a.Merge(a)
				o.merge(o)
			case 6:
				a.Reset()
				*o = oracle{}
			case 7:
				enc, err := a.MarshalBinary()
				if o.exact().MantExp(nil) > maxExp {
					if err == nil {
						t.Fatalf("step %d: MarshalBinary() succeeded out of range", step)
					}
					continue
				}
				var b Acc
				if err != nil || b.UnmarshalBinary(enc) != nil || !b.Equal(a) {
					t.Fatalf("step %d: round trip of %x failed: %v", step, enc, err)
				}
			}
			if o.exact().MantExp(nil) > 1131 {
				return // the sum wraps around
			}
			checkOracle(t, "step", a, o)
			if t.Failed() {
				t.FailNow()
			}
		}
	})
}

// encodeScript encodes ops on Acc a for FuzzAcc.
func encodeScript(ops []op) []byte {
	var data []byte
	for _, p := range ops {
		arg := math.Float64bits(p.f)
		if p.kind >= opAddInt {
			arg = uint64(p.i)
		}
		data = append(data, byte(p.kind)<<1)
		data = binary.LittleEndian.AppendUint64(data, arg)
	}
	return data
}
