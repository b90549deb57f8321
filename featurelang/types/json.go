package types

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// valueJSON is the JSON form of a Value: its type, and its payload in the
// field that type uses. Floats are written as strings in shortest
// round-trip form so NaN and infinities survive and no bits are lost.
type valueJSON struct {
	T    Type        `json:"t"`
	Null bool        `json:"null,omitempty"`
	I    int64       `json:"i,omitempty"`
	F    string      `json:"f,omitempty"`
	S    string      `json:"s,omitempty"`
	SB   []byte      `json:"sb,omitempty"` // a string that is not UTF-8, as base64
	A    []Value     `json:"a,omitempty"`
	M    *[2][]Value `json:"m,omitempty"`
}

// MarshalJSON encodes v exactly (see valueJSON).
func (v Value) MarshalJSON() ([]byte, error) {
	j := valueJSON{T: v.Type, Null: v.Null}
	if !v.Null {
		switch storageOf(v.Type) {
		case inI:
			j.I = v.I
		case inF:
			j.F = strconv.FormatFloat(v.F, 'g', -1, 64)
		case inS:
			if utf8.ValidString(v.S) {
				j.S = v.S
			} else {
				j.SB = []byte(v.S) // JSON would replace the bad bytes
			}
		case inX:
			switch x := v.X.(type) {
			case []Value:
				j.A = x
			case *Map:
				j.M = &[2][]Value{x.Keys, x.Vals}
			}
		}
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes a value written by MarshalJSON.
func (v *Value) UnmarshalJSON(b []byte) error {
	var j valueJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*v = Value{Type: j.T, Null: j.Null}
	if j.Null {
		return nil
	}
	switch storageOf(j.T) {
	case inI:
		v.I = j.I
	case inF:
		f, err := strconv.ParseFloat(j.F, 64)
		if err != nil && !math.IsInf(f, 0) {
			return fmt.Errorf("types: bad float %q", j.F)
		}
		v.F = f
	case inS:
		v.S = j.S
		if j.SB != nil {
			v.S = string(j.SB)
		}
	case inX:
		if j.T.Kind() == KindArray {
			v.X = j.A
		} else if j.M != nil {
			v.X = &Map{Keys: j.M[0], Vals: j.M[1]}
		} else {
			v.X = &Map{}
		}
	}
	return nil
}
