// Package wire is the compact binary form of rows that travel between
// pipeline stages: a chunk holds rows of one table with their arrival
// sequence numbers, column by column.
//
//	chunk   = uvarint(table) uvarint(n) uvarint(seq[0]) { zigzag(seq[i]-seq[i-1]) }
//	          { column }                               (one per schema column)
//	column  = nulls values
//	nulls   = 0x00 | 0x01 bitmap                       (bit i set: row i is NULL, LSB first)
//	values  = integers, timestamps, dates, bools: { zigzag(v[i]-v[i-1]) } (wrapping)
//	          float: { float32 bits, little endian }
//	          double: 0x00 { float64 bits, little endian }
//	                | 1+k { zigzag(m[i]) }             (decimal: v[i] = float64(m[i]) / 1e k)
//	          string: { uvarint(len) bytes }
//
// A NULL's slot holds the zero value, as in a types.Block. Arrays and maps
// never appear in tables, so chunks cannot carry them. A double column
// whose values are all decimals of at most maxScale places (prices,
// amounts) is sent as those decimals' integers, which take 1 to 4 bytes
// rather than 8; the encoder checks that each value decodes to itself,
// bit for bit (IEEE division is correctly rounded), else sends the bits.
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// ErrCorrupt reports a chunk that does not decode.
var ErrCorrupt = errors.New("wire: corrupt chunk")

// Append encodes the rows idx of b (all rows when idx is nil), whose
// sequence numbers are seqs[idx[k]], as a chunk of table and appends it
// to dst.
func Append(dst []byte, table int, b *types.Block, idx []int32, seqs []uint64) []byte {
	n := b.Len
	if idx != nil {
		n = len(idx)
	}
	row := func(k int) int {
		if idx == nil {
			return k
		}
		return int(idx[k])
	}
	dst = binary.AppendUvarint(dst, uint64(table))
	dst = binary.AppendUvarint(dst, uint64(n))
	var prev uint64
	for k := 0; k < n; k++ {
		s := seqs[row(k)]
		if k == 0 {
			dst = binary.AppendUvarint(dst, s)
		} else {
			dst = binary.AppendUvarint(dst, zigzag(int64(s-prev)))
		}
		prev = s
	}
	for j := range b.Cols {
		dst = appendColumn(dst, &b.Cols[j], n, row)
	}
	return dst
}

func appendColumn(dst []byte, c *types.Column, n int, row func(int) int) []byte {
	dst = appendNulls(dst, c, n, row)
	switch {
	case isInt(c.Type):
		var prev int64
		for k := 0; k < n; k++ {
			v := c.I[row(k)]
			dst = binary.AppendUvarint(dst, zigzag(v-prev))
			prev = v
		}
	case c.Type == types.Float:
		for k := 0; k < n; k++ {
			dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(float32(c.F[row(k)])))
		}
	case c.Type == types.Double:
		dst = appendDoubles(dst, c.F, n, row)
	default: // string
		for k := 0; k < n; k++ {
			s := c.S[row(k)]
			dst = binary.AppendUvarint(dst, uint64(len(s)))
			dst = append(dst, s...)
		}
	}
	return dst
}

// maxScale is the most decimal places a decimal double column has.
const maxScale = 10

// pow10 holds the powers of ten 1e0 ... 1e maxScale, exact as float64.
var pow10 = func() (p [maxScale + 1]float64) {
	p[0] = 1
	for k := 1; k <= maxScale; k++ {
		p[k] = p[k-1] * 10
	}
	return p
}()

// decimalOf returns the integer m such that float64(m) / 1e k is v, bit
// for bit, if there is one of at most 53 bits.
func decimalOf(v float64, k int) (int64, bool) {
	m := math.Round(v * pow10[k])
	if !(math.Abs(m) <= 1<<53) || m/pow10[k] != v || (v == 0 && math.Signbit(v)) {
		return 0, false // NaN, ±Inf, -0, too many places or digits
	}
	return int64(m), true
}

// appendDoubles appends a double column's values: as decimals of the
// fewest places that hold them all, or as their bits.
func appendDoubles(dst []byte, f []float64, n int, row func(int) int) []byte {
	start := len(dst)
	// A decimal of k places is one of k+1 places too (the same rational,
	// correctly rounded), so the scale only grows: when a value needs
	// more places, the values before it are encoded again at the new
	// scale.
	scale, k := 0, 0
	dst = append(dst, 1)
	for k < n {
		m, ok := decimalOf(f[row(k)], scale)
		if ok {
			dst = binary.AppendUvarint(dst, zigzag(m))
			k++
			continue
		}
		for scale++; scale <= maxScale; scale++ {
			if _, ok := decimalOf(f[row(k)], scale); ok {
				break
			}
		}
		if scale > maxScale {
			break
		}
		dst, k = append(dst[:start], byte(1+scale)), 0
	}
	if k == n {
		return dst
	}
	dst = append(dst[:start], 0)
	for k := 0; k < n; k++ {
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(f[row(k)]))
	}
	return dst
}

func appendNulls(dst []byte, c *types.Column, n int, row func(int) int) []byte {
	if c.Nulls == nil {
		return append(dst, 0)
	}
	start := len(dst)
	dst = append(dst, 1)
	dst = append(dst, make([]byte, (n+7)/8)...)
	any := false
	for k := 0; k < n; k++ {
		if c.Nulls[row(k)] {
			dst[start+1+k/8] |= 1 << (k % 8)
			any = true
		}
	}
	if !any {
		return append(dst[:start], 0)
	}
	return dst
}

func isInt(t types.Type) bool {
	switch t.Kind() {
	case types.KindFloat, types.KindDouble, types.KindString:
		return false
	}
	return true
}

func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// Header is the start of a chunk.
type Header struct {
	Table    int
	Rows     int
	FirstSeq uint64
}

// Peek reads a chunk's header.
func Peek(data []byte) (Header, error) {
	d := decoder{buf: data}
	h := Header{Table: int(d.uvarint()), Rows: int(d.uvarint())}
	if h.Rows > 0 {
		h.FirstSeq = d.uvarint()
	}
	return h, d.err
}

// Decode appends the rows of a chunk to b, which must have the chunk's
// table schema, and their sequence numbers to *seqs. On error, b and seqs
// may hold part of the chunk.
func Decode(data []byte, b *types.Block, seqs *[]uint64) error {
	d := decoder{buf: data}
	d.uvarint() // table
	n := d.uvarint()
	if d.err == nil && n > uint64(len(data)) {
		return fmt.Errorf("%w: %d rows in %d bytes", ErrCorrupt, n, len(data))
	}
	var s uint64
	for k := uint64(0); k < n && d.err == nil; k++ {
		if k == 0 {
			s = d.uvarint()
		} else {
			s += uint64(unzigzag(d.uvarint()))
		}
		*seqs = append(*seqs, s)
	}
	for j := range b.Cols {
		d.column(&b.Cols[j], b.Len, int(n))
	}
	if d.err != nil {
		return d.err
	}
	if d.off != len(data) {
		return fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(data)-d.off)
	}
	b.Len += int(n)
	return nil
}

type decoder struct {
	buf []byte
	off int
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: bad %s at byte %d", ErrCorrupt, what, d.off)
	}
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, k := binary.Uvarint(d.buf[d.off:])
	if k <= 0 {
		d.fail("varint")
		return 0
	}
	d.off += k
	return v
}

func (d *decoder) bytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.buf)-d.off {
		d.fail("length")
		return nil
	}
	b := d.buf[d.off : d.off+n]
	d.off += n
	return b
}

// column appends n values to c, which holds have values already.
func (d *decoder) column(c *types.Column, have, n int) {
	d.nulls(c, have, n)
	switch {
	case isInt(c.Type):
		var v int64
		for k := 0; k < n && d.err == nil; k++ {
			v += unzigzag(d.uvarint())
			c.I = append(c.I, v)
		}
	case c.Type == types.Float:
		raw := d.bytes(4 * n)
		for k := 0; k+4 <= len(raw); k += 4 {
			c.F = append(c.F, float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[k:]))))
		}
	case c.Type == types.Double:
		d.doubles(c, n)
	default:
		d.strings(c, n)
	}
}

// doubles decodes n double values: bits or decimals.
func (d *decoder) doubles(c *types.Column, n int) {
	enc := d.bytes(1)
	switch {
	case d.err != nil:
	case enc[0] == 0:
		raw := d.bytes(8 * n)
		for k := 0; k+8 <= len(raw); k += 8 {
			c.F = append(c.F, math.Float64frombits(binary.LittleEndian.Uint64(raw[k:])))
		}
	case int(enc[0]) <= 1+maxScale:
		p := pow10[enc[0]-1]
		for k := 0; k < n && d.err == nil; k++ {
			c.F = append(c.F, float64(unzigzag(d.uvarint()))/p)
		}
	default:
		d.fail("double encoding")
	}
}

// strings decodes n strings into one allocation shared by them.
func (d *decoder) strings(c *types.Column, n int) {
	start, total := d.off, 0
	for k := 0; k < n && d.err == nil; k++ {
		l := int(d.uvarint())
		d.bytes(l)
		total += l
	}
	if d.err != nil {
		return
	}
	all := make([]byte, 0, total)
	lens := make([]int, 0, n)
	sub := decoder{buf: d.buf[:d.off], off: start}
	for k := 0; k < n; k++ {
		b := sub.bytes(int(sub.uvarint()))
		all = append(all, b...)
		lens = append(lens, len(b))
	}
	s := string(all)
	for _, l := range lens {
		c.S = append(c.S, s[:l])
		s = s[l:]
	}
}

func (d *decoder) nulls(c *types.Column, have, n int) {
	switch flag := d.bytes(1); {
	case d.err != nil:
	case flag[0] == 0:
		if c.Nulls != nil {
			c.Nulls = append(c.Nulls, make([]bool, n)...)
		}
	case flag[0] == 1:
		bits := d.bytes((n + 7) / 8)
		if d.err != nil {
			return
		}
		if c.Nulls == nil {
			c.Nulls = make([]bool, have, have+n)
		}
		for k := 0; k < n; k++ {
			c.Nulls = append(c.Nulls, bits[k/8]&(1<<(k%8)) != 0)
		}
	default:
		d.fail("null flag")
	}
}

// AppendFrame appends chunk to dst with its length in front, so that
// several chunks travel in one element.
func AppendFrame(dst, chunk []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(chunk)))
	return append(dst, chunk...)
}

// Frames splits data made by AppendFrame into its chunks (aliasing data).
func Frames(data []byte, into [][]byte) ([][]byte, error) {
	d := decoder{buf: data}
	for d.off < len(data) && d.err == nil {
		n := d.uvarint()
		if n > uint64(len(data)) {
			d.fail("frame length")
			break
		}
		if b := d.bytes(int(n)); d.err == nil {
			into = append(into, b)
		}
	}
	return into, d.err
}
