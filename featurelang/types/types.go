// Package types defines fenestra's SQL types, scalar values and columnar
// blocks of rows. It is the vocabulary shared by the parser, the checker, the
// function library and the evaluator, and it imports only the standard library.
package types

import (
	"fmt"
	"strings"
)

// Kind is the kind of a type: one of the nine column types, Null (the type of
// the NULL literal), or a composite (Array, Map).
type Kind uint8

// The kinds. The order of the numeric kinds is their promotion order.
const (
	KindNull Kind = iota
	KindBool
	KindInt16
	KindInt32
	KindInt64
	KindFloat
	KindDouble
	KindString
	KindTimestamp
	KindDate
	KindArray
	KindMap
)

// Type is a SQL type. Scalar types are their Kind; an array packs its element
// kind and a map its key and value kinds into the upper bytes, so Type is
// comparable with == and cheap to copy.
type Type uint32

// The scalar types.
var (
	Null      = Type(KindNull)
	Bool      = Type(KindBool)
	Int16     = Type(KindInt16)
	Int32     = Type(KindInt32)
	Int64     = Type(KindInt64)
	Float     = Type(KindFloat)
	Double    = Type(KindDouble)
	String    = Type(KindString)
	Timestamp = Type(KindTimestamp)
	Date      = Type(KindDate)
)

// ArrayOf returns the type array<elem>. elem must be a scalar type.
func ArrayOf(elem Type) Type { return Type(KindArray) | Type(elem.Kind())<<8 }

// MapOf returns the type map<key, val>. key and val must be scalar types.
func MapOf(key, val Type) Type {
	return Type(KindMap) | Type(key.Kind())<<8 | Type(val.Kind())<<16
}

// Kind returns the kind of t.
func (t Type) Kind() Kind { return Kind(t & 0xff) }

// Elem returns the element type of an array or the key type of a map.
func (t Type) Elem() Type { return Type((t >> 8) & 0xff) }

// Val returns the value type of a map.
func (t Type) Val() Type { return Type((t >> 16) & 0xff) }

// IsInteger reports whether t is int16, int32 or int64.
func (t Type) IsInteger() bool { return t == Int16 || t == Int32 || t == Int64 }

// IsFloat reports whether t is float or double.
func (t Type) IsFloat() bool { return t == Float || t == Double }

// IsNumeric reports whether t is an integer or floating-point type.
func (t Type) IsNumeric() bool { return t.IsInteger() || t.IsFloat() }

// IsScalar reports whether t is one of the nine column types or Null.
func (t Type) IsScalar() bool { return t.Kind() <= KindDate }

// String returns the canonical lower-case name used in schemas and plans:
// bool, int16, int32, int64, float, double, string, timestamp, date,
// array<T>, map<K, V>, and null for the NULL literal.
func (t Type) String() string {
	switch t.Kind() {
	case KindArray:
		return "array<" + t.Elem().String() + ">"
	case KindMap:
		return "map<" + t.Elem().String() + ", " + t.Val().String() + ">"
	}
	if int(t.Kind()) < len(kindNames) {
		return kindNames[t.Kind()]
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

var kindNames = [...]string{
	KindNull: "null", KindBool: "bool", KindInt16: "int16", KindInt32: "int32",
	KindInt64: "int64", KindFloat: "float", KindDouble: "double", KindString: "string",
	KindTimestamp: "timestamp", KindDate: "date",
}

// typeAliases maps every accepted scalar type name (lower case) to its type.
var typeAliases = map[string]Type{
	"bool": Bool, "boolean": Bool,
	"int16": Int16, "smallint": Int16,
	"int32": Int32, "int": Int32, "integer": Int32,
	"int64": Int64, "bigint": Int64,
	"float": Float, "float32": Float,
	"double": Double, "float64": Double,
	"string": String, "varchar": String, "text": String,
	"timestamp": Timestamp,
	"date":      Date,
}

// ParseScalar returns the scalar type named name (case-insensitive, with the
// SQL aliases smallint, int, integer, bigint, varchar, boolean).
func ParseScalar(name string) (Type, bool) {
	t, ok := typeAliases[strings.ToLower(name)]
	return t, ok
}

// Parse parses a type name as written in schemas and CAST: a scalar name or
// array<T> / map<K, V>.
func Parse(s string) (Type, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if t, ok := ParseScalar(s); ok {
		return t, nil
	}
	open, close := strings.IndexByte(s, '<'), strings.LastIndexByte(s, '>')
	if open < 0 || close != len(s)-1 {
		return 0, fmt.Errorf("unknown type %q", s)
	}
	head, args := strings.TrimSpace(s[:open]), strings.Split(s[open+1:close], ",")
	var elems []Type
	for _, a := range args {
		a = strings.TrimSpace(a)
		t, ok := ParseScalar(a)
		if a == "null" {
			t, ok = Null, true
		}
		if !ok {
			return 0, fmt.Errorf("unknown element type %q in %q", strings.TrimSpace(a), s)
		}
		elems = append(elems, t)
	}
	switch {
	case head == "array" && len(elems) == 1:
		return ArrayOf(elems[0]), nil
	case head == "map" && len(elems) == 2:
		return MapOf(elems[0], elems[1]), nil
	}
	return 0, fmt.Errorf("unknown type %q", s)
}

// Field is one named, typed column of a schema.
type Field struct {
	Name string `json:"name"`
	Type Type   `json:"type"`
}

// Schema is an ordered list of columns.
type Schema []Field

// Index returns the position of the column named name (case-insensitive), or -1.
func (s Schema) Index(name string) int {
	for i, f := range s {
		if strings.EqualFold(f.Name, name) {
			return i
		}
	}
	return -1
}

// String renders the schema as "name type, name type".
func (s Schema) String() string {
	parts := make([]string, len(s))
	for i, f := range s {
		parts[i] = f.Name + " " + f.Type.String()
	}
	return strings.Join(parts, ", ")
}

// MarshalText encodes a type by its canonical name, so plans and schemas
// serialize readably.
func (t Type) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText decodes a type name written by MarshalText.
func (t *Type) UnmarshalText(b []byte) error {
	if string(b) == "null" {
		*t = Null
		return nil
	}
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}
