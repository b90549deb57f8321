package exactsum

import (
	"encoding/binary"
	"math"
	"testing"
)

// Opcodes of FuzzAcc scripts. Bit 0 of an opcode picks the Acc (a or b),
// bits 1 to 3 the operation, and for fuzzAdd to fuzzSubInt, bit 4 repeats
// it fuzzRepeat times, to reach carry passes with short inputs.
const (
	fuzzAdd       = iota // + 8-byte operand: float64 bits
	fuzzSub              // + 8-byte operand: float64 bits
	fuzzAddInt           // + 8-byte operand: int64
	fuzzSubInt           // + 8-byte operand: int64
	fuzzMerge            // Merge the other Acc
	fuzzMergeSelf        // Merge itself
	fuzzReset            // Reset
	fuzzMarshal          // MarshalBinary, UnmarshalBinary, and compare

	fuzzRepeat = 700
	fuzzMaxLen = 4096 // longer inputs are skipped: slow to run and minimize
)

// FuzzAcc runs a script of operations on two Accs, decoded from the input
// (see the opcodes), and checks them against the oracle after every step.
func FuzzAcc(f *testing.F) {
	for _, tt := range accTests {
		if len(tt.ops) <= 100 {
			f.Add(encodeScript(tt.ops))
		}
	}
	f.Add([]byte{fuzzMerge << 1, fuzzMergeSelf << 1, fuzzReset << 1, fuzzMarshal << 1})
	f.Add(append(encodeScript(adds(0x1.fffffffffffffp32)), 16|fuzzAdd<<1, 0, 0, 0, 0, 0, 0, 0xF0, 0x41, 1|16|fuzzSubInt<<1, 0, 0, 0, 0, 0, 0, 0, 0x80, fuzzMerge<<1))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > fuzzMaxLen {
			return
		}
		var accs [2]Acc
		var oracles [2]oracle
		for step := 0; len(data) > 0; step++ {
			code := data[0]
			data = data[1:]
			a, o := &accs[code&1], &oracles[code&1]
			other, otherO := &accs[code&1^1], &oracles[code&1^1]
			switch kind := code >> 1 & 7; kind {
			case fuzzAdd, fuzzSub, fuzzAddInt, fuzzSubInt:
				if len(data) < 8 {
					return
				}
				arg := binary.LittleEndian.Uint64(data)
				data = data[8:]
				p := op{kind: opKind(kind), f: math.Float64frombits(arg), i: int64(arg)}
				n := 1
				if code&16 != 0 {
					n = fuzzRepeat
				}
				for range n {
					p.apply(a, o)
				}
			case fuzzMerge:
				a.Merge(other)
				o.merge(otherO)
			case fuzzMergeSelf:
				a.Merge(a)
				o.merge(o)
			case fuzzReset:
				a.Reset()
				*o = oracle{}
			case fuzzMarshal:
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
