package types

// Column is one column of a Block, stored as a typed vector. Exactly one of
// I, F, S or X holds the values, chosen by the type as for Value. Nulls is nil
// while no value is NULL; a NULL's slot in the value vector holds the zero
// value.
type Column struct {
	Type  Type
	Nulls []bool
	I     []int64
	F     []float64
	S     []string
	X     []any
}

// storage is where a column of type t keeps its values.
type storage uint8

const (
	inI storage = iota
	inF
	inS
	inX
)

func storageOf(t Type) storage {
	switch t.Kind() {
	case KindFloat, KindDouble:
		return inF
	case KindString:
		return inS
	case KindArray, KindMap:
		return inX
	}
	return inI
}

// NewColumn returns an empty column of type t with room for n values.
func NewColumn(t Type, n int) Column {
	c := Column{Type: t}
	switch storageOf(t) {
	case inI:
		c.I = make([]int64, 0, n)
	case inF:
		c.F = make([]float64, 0, n)
	case inS:
		c.S = make([]string, 0, n)
	case inX:
		c.X = make([]any, 0, n)
	}
	return c
}

// Len returns the number of values in c.
func (c *Column) Len() int {
	switch storageOf(c.Type) {
	case inF:
		return len(c.F)
	case inS:
		return len(c.S)
	case inX:
		return len(c.X)
	}
	return len(c.I)
}

// IsNull reports whether value i is NULL.
func (c *Column) IsNull(i int) bool { return c.Nulls != nil && c.Nulls[i] }

// Value returns value i.
func (c *Column) Value(i int) Value {
	if c.IsNull(i) {
		return NullOf(c.Type)
	}
	v := Value{Type: c.Type}
	switch storageOf(c.Type) {
	case inI:
		v.I = c.I[i]
	case inF:
		v.F = c.F[i]
	case inS:
		v.S = c.S[i]
	case inX:
		v.X = c.X[i]
	}
	return v
}

// Append appends v, which must be of c's type or NULL.
func (c *Column) Append(v Value) {
	null := v.Null
	if null {
		if c.Nulls == nil {
			c.Nulls = make([]bool, c.Len(), cap(c.I)+cap(c.F)+cap(c.S)+cap(c.X)+1)
		}
		v = Value{}
	}
	if c.Nulls != nil {
		c.Nulls = append(c.Nulls, null)
	}
	switch storageOf(c.Type) {
	case inI:
		c.I = append(c.I, v.I)
	case inF:
		c.F = append(c.F, v.F)
	case inS:
		c.S = append(c.S, v.S)
	case inX:
		c.X = append(c.X, v.X)
	}
}

// HasNulls reports whether any value of c is NULL.
func (c *Column) HasNulls() bool {
	for _, n := range c.Nulls {
		if n {
			return true
		}
	}
	return false
}

// Block is a batch of rows stored column by column. Rows keep the order in
// which they were appended.
type Block struct {
	Schema Schema
	Cols   []Column
	Len    int
}

// NewBlock returns an empty block of the given schema with room for n rows.
func NewBlock(schema Schema, n int) *Block {
	b := &Block{Schema: schema, Cols: make([]Column, len(schema))}
	for i, f := range schema {
		b.Cols[i] = NewColumn(f.Type, n)
	}
	return b
}

// AppendRow appends one row; row must have one value per column.
func (b *Block) AppendRow(row []Value) {
	for i := range b.Cols {
		b.Cols[i].Append(row[i])
	}
	b.Len++
}

// Reset empties the block, keeping its columns' storage for reuse.
func (b *Block) Reset() {
	for i := range b.Cols {
		c := &b.Cols[i]
		c.Nulls = nil
		c.I, c.F, c.S, c.X = c.I[:0], c.F[:0], c.S[:0], c.X[:0]
	}
	b.Len = 0
}

// AppendFrom appends row i of src, which must have b's column types.
func (b *Block) AppendFrom(src *Block, i int) {
	for c := range b.Cols {
		b.Cols[c].Append(src.Cols[c].Value(i))
	}
	b.Len++
}

// Row returns row i, reusing dst's storage when it is large enough.
func (b *Block) Row(i int, dst []Value) []Value {
	if cap(dst) < len(b.Cols) {
		dst = make([]Value, 0, len(b.Cols))
	}
	dst = dst[:0]
	for c := range b.Cols {
		dst = append(dst, b.Cols[c].Value(i))
	}
	return dst
}

// Rows returns all rows as value slices (for tests and small outputs).
func (b *Block) Rows() [][]Value {
	out := make([][]Value, b.Len)
	for i := range out {
		out[i] = b.Row(i, nil)
	}
	return out
}

// BlockOf builds a block from rows (for tests and small inputs).
func BlockOf(schema Schema, rows [][]Value) *Block {
	b := NewBlock(schema, len(rows))
	for _, r := range rows {
		b.AppendRow(r)
	}
	return b
}

// MakeColumn returns a column of type t holding n zero (non-NULL) values,
// to be filled with Set.
func MakeColumn(t Type, n int) Column {
	c := Column{Type: t}
	switch storageOf(t) {
	case inI:
		c.I = make([]int64, n)
	case inF:
		c.F = make([]float64, n)
	case inS:
		c.S = make([]string, n)
	case inX:
		c.X = make([]any, n)
	}
	return c
}

// Set stores v at position i (which must exist).
func (c *Column) Set(i int, v Value) {
	if v.Null {
		if c.Nulls == nil {
			c.Nulls = make([]bool, c.Len())
		}
		c.Nulls[i] = true
		v = Value{}
	} else if c.Nulls != nil {
		c.Nulls[i] = false
	}
	switch storageOf(c.Type) {
	case inI:
		c.I[i] = v.I
	case inF:
		c.F[i] = v.F
	case inS:
		c.S[i] = v.S
	case inX:
		c.X[i] = v.X
	}
}

// Gather returns a new column holding c's values at the positions idx, in
// that order; a negative position gives NULL.
func (c *Column) Gather(idx []int) Column {
	out := Column{Type: c.Type}
	switch storageOf(c.Type) {
	case inI:
		out.I = gather(c.I, idx)
	case inF:
		out.F = gather(c.F, idx)
	case inS:
		out.S = gather(c.S, idx)
	case inX:
		out.X = gather(c.X, idx)
	}
	for i, j := range idx {
		if j < 0 || c.IsNull(j) {
			if out.Nulls == nil {
				out.Nulls = make([]bool, len(idx))
			}
			out.Nulls[i] = true
		}
	}
	return out
}

// gather returns v at the positions idx (the zero value for negative ones).
func gather[T any](v []T, idx []int) []T {
	out := make([]T, len(idx))
	for i, j := range idx {
		if j >= 0 {
			out[i] = v[j]
		}
	}
	return out
}

// Gather returns a new block of b's rows at the positions idx (negative
// positions give all-NULL rows).
func (b *Block) Gather(idx []int) *Block {
	out := &Block{Schema: b.Schema, Cols: make([]Column, len(b.Cols)), Len: len(idx)}
	for i := range b.Cols {
		out.Cols[i] = b.Cols[i].Gather(idx)
	}
	return out
}

// Concat returns a new block with the rows of b followed by the rows of
// each of more, which must have b's column types.
func Concat(b *Block, more ...*Block) *Block {
	n := b.Len
	for _, m := range more {
		n += m.Len
	}
	out := NewBlock(b.Schema, n)
	for _, src := range append([]*Block{b}, more...) {
		for i := 0; i < src.Len; i++ {
			out.AppendFrom(src, i)
		}
	}
	return out
}
