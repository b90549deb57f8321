package datafile

import (
	"bytes"
	"fmt"
	"io"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// jsonState is a Reader's JSON Lines state.
type jsonState struct {
	seen    []uint64 // per column: the stamp of the last row that had its key
	plain   []bool   // per column: its name needs no escapes in JSON
	stamp   uint64   // the current row's stamp
	scratch []byte   // decoded strings with escapes
}

// jsonRow reads one JSON Lines row into b, skipping blank lines.
func (r *Reader) jsonRow(b *types.Block) (int64, error) {
	for {
		line, text, err := r.nextLine()
		if err != nil {
			return 0, err
		}
		if skipWS(text, 0) == len(text) {
			continue
		}
		return line, r.jsonObject(b, text, line)
	}
}

// nextLine returns the next line (without its LF) and its number, or
// io.EOF at the end, or a sticky error.
func (r *Reader) nextLine() (int64, []byte, error) {
	for {
		data := r.buf[r.pos:r.end]
		n := bytes.IndexByte(data, '\n')
		switch {
		case n >= 0:
			r.pos += n + 1
		case r.eof && len(data) == 0:
			return 0, nil, r.fail(io.EOF)
		case r.eof:
			r.pos, n = r.end, len(data)
		default:
			if err := r.fill(); err != nil {
				return 0, nil, err
			}
			continue
		}
		r.line++
		return r.line - 1, data[:n], nil
	}
}

// jsonObject appends the row that the object in text denotes to b.
func (r *Reader) jsonObject(b *types.Block, text []byte, line int64) error {
	r.fresh = r.fresh[:0]
	r.json.stamp++
	if col, msg := r.jsonFields(b, text); msg != "" {
		r.rollback(b)
		return &RowError{File: r.name, Line: line, Column: col, Msg: msg}
	}
	for c, s := range r.json.seen {
		if s != r.json.stamp {
			r.appendNull(b, c)
		}
	}
	b.Len++
	return nil
}

// jsonFields appends the values of the object in text to b's columns. On a
// problem it returns the column concerned (or "") and a message.
func (r *Reader) jsonFields(b *types.Block, text []byte) (string, string) {
	i := skipWS(text, 0)
	if text[i] != '{' {
		return "", "want a JSON object, found " + found(text, i)
	}
	i = skipWS(text, i+1)
	if i < len(text) && text[i] == '}' {
		return "", jsonEnd(text, i+1)
	}
	for next := 0; ; {
		if i >= len(text) || text[i] != '"' {
			return "", malformed(text, i, "a key")
		}
		col, j := r.expectedKey(text, i, next)
		if col < 0 {
			key, end, msg := r.jsonString(text, i)
			if msg != "" {
				return "", msg
			}
			if col, j = r.column(key, next), end; col < 0 {
				return clip(key), fmt.Sprintf("not in the table (%s)", r.schema)
			}
		}
		name := r.schema[col].Name
		if r.json.seen[col] == r.json.stamp {
			return name, "the object has this key twice"
		}
		r.json.seen[col], next = r.json.stamp, col+1
		if i = skipWS(text, j); i >= len(text) || text[i] != ':' {
			return name, malformed(text, i, "':'")
		}
		var msg string
		if i, msg = r.jsonValue(b, col, text, skipWS(text, i+1)); msg != "" {
			return name, msg
		}
		switch i = skipWS(text, i); {
		case i < len(text) && text[i] == ',':
			i = skipWS(text, i+1)
		case i < len(text) && text[i] == '}':
			return "", jsonEnd(text, i+1)
		default:
			return "", malformed(text, i, "',' or '}'")
		}
	}
}

// expectedKey is the fast path for keys in schema order: if the key at
// text[i] is column next's name, written without escapes, it returns next
// and the position after the key; otherwise -1.
func (r *Reader) expectedKey(text []byte, i, next int) (int, int) {
	if next >= len(r.schema) || !r.json.plain[next] {
		return -1, i
	}
	name := r.schema[next].Name
	end := i + 1 + len(name)
	if end < len(text) && text[end] == '"' && string(text[i+1:end]) == name {
		return next, end + 1
	}
	return -1, i
}

// column returns the column named key, trying next first (keys usually
// come in schema order), or -1.
func (r *Reader) column(key []byte, next int) int {
	if next < len(r.schema) && r.schema[next].Name == string(key) {
		return next
	}
	if c, ok := r.index[string(key)]; ok {
		return c
	}
	return -1
}

// jsonEnd checks that only white space follows the object.
func jsonEnd(text []byte, i int) string {
	if i = skipWS(text, i); i < len(text) {
		return fmt.Sprintf("malformed JSON at column %d: text after the object", i+1)
	}
	return ""
}

// jsonValue appends the JSON value at text[i] to column col of b. It
// returns the position after the value, or a message.
func (r *Reader) jsonValue(b *types.Block, col int, text []byte, i int) (int, string) {
	c := &b.Cols[col]
	if i >= len(text) {
		return i, malformed(text, i, "a value")
	}
	switch ch := text[i]; {
	case ch == '"':
		s, j, msg := r.jsonString(text, i)
		if msg == "" {
			msg = appendJSONText(c, s)
		}
		return j, msg
	case ch == '-' || ch-'0' <= 9:
		if j, ok := literal(text, i, "-Infinity"); ok {
			return j, appendJSONFloat(c, text[i:j])
		}
		j, integer, ok := scanNumber(text, i)
		if !ok {
			return j, malformed(text, j, "a digit")
		}
		return j, appendJSONNumber(c, text[i:j], integer)
	case ch == 'N' || ch == 'I':
		for _, lit := range [...]string{"NaN", "Infinity"} {
			if j, ok := literal(text, i, lit); ok {
				return j, appendJSONFloat(c, text[i:j])
			}
		}
	case ch == 'n':
		if j, ok := literal(text, i, "null"); ok {
			r.appendNull(b, col)
			return j, ""
		}
	case ch == 't' || ch == 'f':
		for _, lit := range [...]string{"true", "false"} {
			if j, ok := literal(text, i, lit); ok {
				if c.Type != types.Bool {
					return j, cannotRead(lit, c.Type, numSyntax)
				}
				appendI(c, btoi(ch == 't'))
				return j, ""
			}
		}
	case ch == '{':
		return i, cannotRead("an object", c.Type, numSyntax)
	case ch == '[':
		return i, cannotRead("an array", c.Type, numSyntax)
	}
	return i, malformed(text, i, "a value")
}

// literal reports whether text[i:] starts with lit, and the position after.
func literal(text []byte, i int, lit string) (int, bool) {
	if len(text)-i >= len(lit) && string(text[i:i+len(lit)]) == lit {
		return i + len(lit), true
	}
	return i, false
}

// appendJSONText appends a JSON string's content s to c: string and date
// columns take strings, timestamp columns timestamp text, float columns
// numeric text (with NaN, Inf, -Inf).
func appendJSONText(c *types.Column, s []byte) string {
	switch c.Type {
	case types.String, types.Date, types.Timestamp, types.Float, types.Double:
		return appendValue(c, s)
	}
	return cannotRead(quote(s), c.Type, numSyntax)
}

// appendJSONFloat appends a bare NaN, Infinity or -Infinity to a float
// column.
func appendJSONFloat(c *types.Column, tok []byte) string {
	if !c.Type.IsFloat() {
		return cannotRead(string(tok), c.Type, numSyntax)
	}
	return appendValue(c, tok)
}

// appendJSONNumber appends a JSON number (text of the JSON grammar) to c:
// numeric and timestamp columns take numbers, integral ones for integers
// and timestamps. integer says num has no fraction and no exponent.
func appendJSONNumber(c *types.Column, num []byte, integer bool) string {
	switch c.Type {
	case types.Float, types.Double:
		return appendValue(c, num)
	case types.Int16, types.Int32, types.Int64, types.Timestamp:
		t := c.Type
		if t == types.Timestamp {
			t = types.Int64
		}
		parse := jsonInt
		if integer {
			parse = parseIntOf
		}
		i, st := parse(t, num)
		if st != numOK {
			return cannotRead(string(num), c.Type, st)
		}
		appendI(c, i)
		return ""
	}
	return cannotRead(string(num), c.Type, numSyntax)
}

// jsonInt reads a JSON number (valid per the grammar) as an integer of
// type t: its decimal value must be an integer (7, -7.0, 7e2, 700e-2) that
// fits t. It is exact: no detour through float64.
func jsonInt(t types.Type, num []byte) (int64, numStatus) {
	neg := num[0] == '-'
	if neg {
		num = num[1:]
	}
	mant, exp := num, int64(0)
	if k := bytes.IndexAny(num, "eE"); k >= 0 {
		mant = num[:k]
		x, st := parseInt(num[k+1:])
		switch {
		case st == numRange && num[k+1] == '-', x < -1<<40:
			exp = -1 << 40
		case st == numRange, x > 1<<40:
			exp = 1 << 40
		default:
			exp = x
		}
	}
	intPart, frac := mant, mant[len(mant):]
	if k := bytes.IndexByte(mant, '.'); k >= 0 {
		intPart, frac = mant[:k], mant[k+1:]
	}
	// The value is digits × 10^exp, digits being intPart then frac.
	digit := func(k int) byte {
		if k < len(intPart) {
			return intPart[k]
		}
		return frac[k-len(intPart)]
	}
	lo, hi := 0, len(intPart)+len(frac)
	exp -= int64(len(frac))
	for lo < hi && digit(lo) == '0' {
		lo++
	}
	for hi > lo && digit(hi-1) == '0' {
		hi--
		exp++
	}
	switch {
	case lo == hi:
		return 0, numOK
	case exp < 0:
		return 0, numSyntax
	case int64(hi-lo)+exp > 19:
		return 0, numRange
	}
	var u uint64
	for k := lo; k < hi; k++ {
		u = u*10 + uint64(digit(k)-'0')
	}
	for ; exp > 0; exp-- {
		u *= 10
	}
	var i int64
	switch {
	case neg && u > 1<<63, !neg && u > 1<<63-1:
		return 0, numRange
	case neg:
		i = -int64(u)
	default:
		i = int64(u)
	}
	if types.Wrap(t, i) != i {
		return 0, numRange
	}
	return i, numOK
}

// scanNumber returns the end of the JSON number at text[i] and whether it
// is an integer (no fraction, no exponent), or false (with the position of
// the problem) if it is malformed.
func scanNumber(text []byte, i int) (end int, integer, ok bool) {
	if text[i] == '-' {
		i++
	}
	switch {
	case i < len(text) && text[i] == '0':
		i++
	case i < len(text) && text[i]-'1' <= 8:
		i = digits(text, i)
	default:
		return i, false, false
	}
	integer = true
	if i < len(text) && text[i] == '.' {
		j := digits(text, i+1)
		if j == i+1 {
			return j, false, false
		}
		i, integer = j, false
	}
	if i < len(text) && text[i]|0x20 == 'e' {
		i++
		if i < len(text) && (text[i] == '+' || text[i] == '-') {
			i++
		}
		j := digits(text, i)
		if j == i {
			return j, false, false
		}
		i, integer = j, false
	}
	return i, integer, true
}

// digits returns the end of the run of digits at text[i].
func digits(text []byte, i int) int {
	for i < len(text) && text[i]-'0' <= 9 {
		i++
	}
	return i
}

// skipWS returns the position of the first non-white-space byte at or
// after text[i] (JSON white space: space, tab, CR, LF).
func skipWS(text []byte, i int) int {
	for i < len(text) && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n') {
		i++
	}
	return i
}

// jsonString decodes the JSON string whose opening quote is at text[i]. It
// returns its content (a subslice of text, or of the reader's scratch
// buffer when it has escapes, valid until the next call) and the position
// after the closing quote, or a message.
func (r *Reader) jsonString(text []byte, i int) ([]byte, int, string) {
	start := i + 1
	for i = start; i < len(text); i++ {
		switch c := text[i]; {
		case c == '"':
			return text[start:i], i + 1, ""
		case c == '\\':
			return r.unescape(text, start, i)
		case c < 0x20:
			return nil, i, malformed(text, i, "a character of a string")
		}
	}
	return nil, i, "malformed JSON: a string is not closed"
}

// unescape decodes the JSON string text[start:] (up to its closing quote)
// whose first escape is at text[i], into the scratch buffer. Escapes are
// decoded as encoding/json decodes them: \uXXXX surrogate pairs combine,
// an unpaired surrogate becomes U+FFFD.
func (r *Reader) unescape(text []byte, start, i int) ([]byte, int, string) {
	out := append(r.json.scratch[:0], text[start:i]...)
	defer func() { r.json.scratch = out[:0] }()
	for i < len(text) {
		c := text[i]
		switch {
		case c == '"':
			return out, i + 1, ""
		case c < 0x20:
			return nil, i, malformed(text, i, "a character of a string")
		case c != '\\':
			out = append(out, c)
			i++
			continue
		case i+1 == len(text):
			return nil, i, "malformed JSON: a string is not closed"
		}
		if e := unescaped[text[i+1]]; e != 0 {
			out = append(out, e)
			i += 2
			continue
		}
		if text[i+1] != 'u' {
			return nil, i, fmt.Sprintf("malformed JSON at column %d: an unknown escape \\%c", i+1, text[i+1])
		}
		ch, ok := hex4(text, i+2)
		if !ok {
			return nil, i, fmt.Sprintf("malformed JSON at column %d: a \\u escape needs four hex digits", i+1)
		}
		i += 6
		if utf16.IsSurrogate(ch) {
			ch2, ok := hex4(text, i+2)
			if ok && text[i] == '\\' && text[i+1] == 'u' {
				if dec := utf16.DecodeRune(ch, ch2); dec != utf8.RuneError {
					ch = dec
					i += 6
				} else {
					ch = utf8.RuneError
				}
			} else {
				ch = utf8.RuneError
			}
		}
		out = utf8.AppendRune(out, ch)
	}
	return nil, i, "malformed JSON: a string is not closed"
}

// unescaped maps the byte after a backslash to what the escape denotes
// (except \u).
var unescaped = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// hex4 parses the four hex digits at text[i:].
func hex4(text []byte, i int) (rune, bool) {
	if len(text)-i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range text[i : i+4] {
		var d byte
		switch {
		case c-'0' <= 9:
			d = c - '0'
		case c|0x20-'a' <= 5:
			d = c | 0x20 - 'a' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}

// malformed is the message for malformed JSON at text[i], where want was
// expected.
func malformed(text []byte, i int, want string) string {
	if i >= len(text) {
		return fmt.Sprintf("malformed JSON: the line ends where %s should be", want)
	}
	return fmt.Sprintf("malformed JSON at column %d: want %s, found %s", i+1, want, found(text, i))
}

// found describes the character at text[i] for an error message.
func found(text []byte, i int) string {
	ch, _ := utf8.DecodeRune(text[i:])
	if ch == utf8.RuneError {
		return fmt.Sprintf("byte %#02x", text[i])
	}
	return fmt.Sprintf("%q", ch)
}
