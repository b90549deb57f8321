package bigtable

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"

	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
)

// rowFormat is the version byte that starts every encoded row.
const rowFormat = 1

// Codec encodes the rows of one schema as cell values and decodes them
// back into blocks (see docs/storage-format.md, "Row values"):
//
//	format u8 | fingerprint [8]byte | NULL bitmap | values | string bytes
//
// A Codec is immutable and safe for concurrent use.
type Codec struct {
	schema types.Schema
	fp     Fingerprint
	kinds  []types.Kind
}

// Fingerprint identifies a schema: the first 8 bytes of the SHA-256 of its
// canonical text, "name type, name type" (types.Schema.String).
type Fingerprint [8]byte

// String returns the fingerprint in hex.
func (f Fingerprint) String() string { return hex.EncodeToString(f[:]) }

// SchemaFingerprint returns the fingerprint of s.
func SchemaFingerprint(s types.Schema) Fingerprint {
	sum := sha256.Sum256([]byte(s.String()))
	return Fingerprint(sum[:8])
}

// NewCodec returns the codec of schema, whose columns must be of the nine
// scalar column types.
func NewCodec(schema types.Schema) (*Codec, error) {
	c := &Codec{schema: schema, fp: SchemaFingerprint(schema), kinds: make([]types.Kind, len(schema))}
	for i, f := range schema {
		k := f.Type.Kind()
		if k == types.KindNull || k > types.KindDate {
			return nil, fmt.Errorf("bigtable: column %s is %s; stored columns must be scalar", f.Name, f.Type)
		}
		c.kinds[i] = k
	}
	return c, nil
}

// Schema returns the codec's schema.
func (c *Codec) Schema() types.Schema { return c.schema }

// Fingerprint returns the fingerprint of the codec's schema.
func (c *Codec) Fingerprint() Fingerprint { return c.fp }

// Append appends the encoding of row i of b, which has the codec's schema,
// to dst.
func (c *Codec) Append(dst []byte, b *types.Block, i int) []byte {
	dst = append(dst, rowFormat)
	dst = append(dst, c.fp[:]...)
	bitmap := len(dst)
	for range (len(c.kinds) + 7) / 8 {
		dst = append(dst, 0)
	}
	for k, kind := range c.kinds {
		col := &b.Cols[k]
		if col.IsNull(i) {
			dst[bitmap+k/8] |= 1 << (k % 8)
			continue
		}
		switch kind {
		case types.KindBool:
			dst = append(dst, byte(col.I[i]&1))
		case types.KindFloat:
			dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(float32(col.F[i])))
		case types.KindDouble:
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(col.F[i]))
		case types.KindString:
			dst = binary.AppendUvarint(dst, uint64(len(col.S[i])))
		default: // integers, timestamp, date
			dst = binary.AppendVarint(dst, col.I[i])
		}
	}
	for k, kind := range c.kinds {
		if kind == types.KindString && !b.Cols[k].IsNull(i) {
			dst = append(dst, b.Cols[k].S[i]...)
		}
	}
	return dst
}

// errCorrupt is wrapped by decoding errors other than a schema mismatch.
var errCorrupt = errors.New("bigtable: corrupt row value")

// SchemaError reports a row written with another schema than the reader's.
// It wraps storage.ErrSchema.
type SchemaError struct {
	Want   types.Schema // the reader's schema
	WantFP Fingerprint
	Got    types.Schema // the writer's schema, when known (else nil)
	GotFP  Fingerprint
}

// Error names both schemas (the writer's by fingerprint when unknown).
func (e *SchemaError) Error() string {
	got := "an unknown schema"
	if e.Got != nil {
		got = "(" + e.Got.String() + ")"
	}
	return fmt.Sprintf("%v: row written with schema %s %s, read with schema %s (%s)", storage.ErrSchema, e.GotFP, got, e.WantFP, e.Want)
}

// Unwrap returns storage.ErrSchema.
func (e *SchemaError) Unwrap() error { return storage.ErrSchema }

// Decode decodes one encoded row and appends it to b, which has the
// codec's schema. On error b is unchanged. A row of another schema gives a
// *SchemaError; a malformed one an error describing it. Strings are the
// only values that allocate: one string per row holds all of them.
func (c *Codec) Decode(data []byte, b *types.Block) error {
	if err := c.decode(data, b); err != nil {
		truncate(b)
		return err
	}
	b.Len++
	return nil
}

func (c *Codec) decode(data []byte, b *types.Block) error {
	n := len(c.kinds)
	head := 1 + len(c.fp) + (n+7)/8
	if len(data) < 1+len(c.fp) {
		return fmt.Errorf("%w: %d bytes", errCorrupt, len(data))
	}
	if data[0] != rowFormat {
		return fmt.Errorf("%w: format %d, this build reads format %d", errCorrupt, data[0], rowFormat)
	}
	if fp := Fingerprint(data[1:9]); fp != c.fp {
		return &SchemaError{Want: c.schema, WantFP: c.fp, GotFP: fp}
	}
	if len(data) < head {
		return fmt.Errorf("%w: %d bytes", errCorrupt, len(data))
	}
	bitmap := data[1+len(c.fp) : head]
	if n%8 != 0 && bitmap[len(bitmap)-1]>>(n%8) != 0 {
		return fmt.Errorf("%w: NULL bitmap marks columns beyond the schema", errCorrupt)
	}
	pos := head
	var lens [16]int // string lengths, in column order
	strLens := lens[:0]
	total := 0
	for k, kind := range c.kinds {
		col := &b.Cols[k]
		if bitmap[k/8]&(1<<(k%8)) != 0 {
			appendNull(col, b.Len)
			continue
		}
		if col.Nulls != nil {
			col.Nulls = append(col.Nulls, false)
		}
		var err error
		switch kind {
		case types.KindBool:
			if pos >= len(data) || data[pos] > 1 {
				return fmt.Errorf("%w: column %s: bad bool", errCorrupt, c.schema[k].Name)
			}
			col.I = append(col.I, int64(data[pos]))
			pos++
		case types.KindFloat:
			if pos+4 > len(data) {
				return fmt.Errorf("%w: column %s: truncated float", errCorrupt, c.schema[k].Name)
			}
			col.F = append(col.F, float64(math.Float32frombits(binary.LittleEndian.Uint32(data[pos:]))))
			pos += 4
		case types.KindDouble:
			if pos+8 > len(data) {
				return fmt.Errorf("%w: column %s: truncated double", errCorrupt, c.schema[k].Name)
			}
			col.F = append(col.F, math.Float64frombits(binary.LittleEndian.Uint64(data[pos:])))
			pos += 8
		case types.KindString:
			l, w := binary.Uvarint(data[pos:])
			if w <= 0 || l > uint64(len(data)) {
				return fmt.Errorf("%w: column %s: bad string length", errCorrupt, c.schema[k].Name)
			}
			pos += w
			total += int(l)
			strLens = append(strLens, int(l))
			col.S = append(col.S, "")
		default:
			var v int64
			if v, pos, err = c.varint(data, pos, k); err != nil {
				return err
			}
			col.I = append(col.I, v)
		}
	}
	if len(data)-pos != total {
		return fmt.Errorf("%w: %d bytes of strings, %d left", errCorrupt, total, len(data)-pos)
	}
	if total > 0 && !c.sameStrings(data[pos:], strLens, b) {
		all := string(data[pos:])
		s := 0
		for k, kind := range c.kinds {
			if kind == types.KindString && !b.Cols[k].IsNull(b.Len) {
				l := strLens[0]
				strLens = strLens[1:]
				b.Cols[k].S[b.Len] = all[s : s+l]
				s += l
			}
		}
	}
	return nil
}

// sameStrings reports whether the strings of the row being decoded
// (strs, of lengths lens in column order) equal those of the row before
// it in b, and if so gives the row the previous row's strings: the rows
// of a key, read together, repeat the key's strings, which then cost no
// allocation.
func (c *Codec) sameStrings(strs []byte, lens []int, b *types.Block) bool {
	if b.Len == 0 {
		return false
	}
	s, j := 0, 0
	for k, kind := range c.kinds {
		if kind != types.KindString || b.Cols[k].IsNull(b.Len) {
			continue
		}
		col := &b.Cols[k]
		if col.IsNull(b.Len-1) || col.S[b.Len-1] != string(strs[s:s+lens[j]]) {
			return false
		}
		s += lens[j]
		j++
	}
	for k, kind := range c.kinds {
		if kind == types.KindString && !b.Cols[k].IsNull(b.Len) {
			b.Cols[k].S[b.Len] = b.Cols[k].S[b.Len-1]
		}
	}
	return true
}

// varint reads column k's integer value at pos and checks it fits the
// column's type.
func (c *Codec) varint(data []byte, pos, k int) (int64, int, error) {
	v, w := binary.Varint(data[pos:])
	if w <= 0 {
		return 0, pos, fmt.Errorf("%w: column %s: bad varint", errCorrupt, c.schema[k].Name)
	}
	if t := c.schema[k].Type; t.IsInteger() && types.Wrap(t, v) != v {
		return 0, pos, fmt.Errorf("%w: column %s: %d out of range for %s", errCorrupt, c.schema[k].Name, v, t)
	}
	return v, pos + w, nil
}

// appendNull appends a NULL to col, which holds n values.
func appendNull(col *types.Column, n int) {
	if col.Nulls == nil {
		col.Nulls = make([]bool, n, n+16)
	}
	col.Nulls = append(col.Nulls, true)
	switch {
	case col.Type == types.String:
		col.S = append(col.S, "")
	case col.Type.IsFloat():
		col.F = append(col.F, 0)
	default:
		col.I = append(col.I, 0)
	}
}

// truncate drops whatever a failed decode appended past b.Len.
func truncate(b *types.Block) {
	for i := range b.Cols {
		c := &b.Cols[i]
		c.I, c.F, c.S = trim(c.I, b.Len), trim(c.F, b.Len), trim(c.S, b.Len)
		c.Nulls = trim(c.Nulls, b.Len)
	}
}

func trim[T any](s []T, n int) []T {
	if len(s) > n {
		return s[:n]
	}
	return s
}
