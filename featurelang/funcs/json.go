package funcs

import (
	"strings"
	"unicode/utf8"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// JSON functions.
//
//	get_json_object(json, pointer)   (string, string) → string: the value the
//	                                 JSON Pointer (RFC 6901) selects: a string
//	                                 unescaped, anything else as written
//	json_array_length(json)          (string) → int32: the elements of the
//	                                 outermost array
//
// Both give NULL for JSON they cannot read or a pointer that selects
// nothing. OpenMLDB reads JSON with simdjson's On-Demand API
// (json_defs.cc), which validates only what a lookup touches, and its
// answers on malformed input are part of the contract (the reference:
// get_json_object('{"foo": {"bar": bz}}', '/foo') is '{"bar": bz}'). So
// these functions do not decode JSON as encoding/json would: jsonDoc
// indexes the text as simdjson's stage 1 does and walks the index as
// On-Demand does; each step names the simdjson function it mirrors.

func init() {
	register("get_json_object", stringFunc("(string, string)", []types.Type{types.String, types.String}, types.String,
		func(v []types.Value) types.Value {
			s, ok := jsonObject(v[0].S, v[1].S)
			if !ok {
				return types.NullOf(types.String)
			}
			return strV(s)
		}))
	register("json_array_length", stringFunc("(string)", []types.Type{types.String}, types.Int32,
		func(v []types.Value) types.Value {
			n, ok := jsonArrayLength(v[0].S)
			if !ok {
				return types.NullOf(types.Int32)
			}
			return intV(types.Int32, int64(n))
		}))
}

// jsonObject is get_json_object: the root (an array or an object) for an
// empty pointer, else the value the pointer selects.
func jsonObject(json, pointer string) (string, bool) {
	d, ok := indexJSON(json)
	if !ok {
		return "", false
	}
	root := d.at(0)
	if (root != '[' && root != '{') || !d.rootClosed(root) {
		return "", false // document::get_value, document::at_pointer
	}
	p := 0
	if pointer != "" {
		if p, ok = d.pointer(0, pointer); !ok {
			return "", false
		}
	}
	return d.render(p)
}

// jsonArrayLength is json_array_length: the count of the root array's
// elements (array::count_elements).
func jsonArrayLength(json string) (int, bool) {
	d, ok := indexJSON(json)
	if !ok || d.at(0) != '[' || !d.rootClosed('[') {
		return 0, false
	}
	p := 1
	if d.at(p) == ']' {
		return 0, true
	}
	for n := 1; ; n++ {
		if p, ok = d.skipChild(p, 1); !ok {
			return 0, false
		}
		switch d.at(p) { // value_iterator::has_next_element
		case ']':
			return n, true
		case ',':
			p++
		default:
			return 0, false
		}
	}
}

// jsonDoc is a JSON text and the offsets of its structural characters as
// simdjson's stage 1 finds them: the operators {}[]:, outside strings, the
// opening quote of each string, and the first byte of every other run of
// bytes that are neither whitespace nor operators (a scalar: true, 12,
// and also garbage such as bz). Token p is the one at tok[p]; tokens past
// the end read as a NUL byte at the end of the text, as simdjson's
// padding does.
type jsonDoc struct {
	s   string
	tok []int
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isJSONOp(c byte) bool {
	switch c {
	case '{', '}', '[', ']', ':', ',':
		return true
	}
	return false
}

// indexJSON indexes s, or reports the errors simdjson's stage 1 reports:
// invalid UTF-8, a string left open, a control character inside a string
// and a text without tokens.
func indexJSON(s string) (*jsonDoc, bool) {
	if !utf8.ValidString(s) {
		return nil, false
	}
	d := &jsonDoc{s: s}
	inString := false
	backslashes := 0      // the backslashes right before the current byte
	prevNonQuote := false // the previous byte is a scalar byte but an unescaped quote
	for i := 0; i < len(s); i++ {
		c := s[i]
		quote := c == '"' && backslashes%2 == 0
		if c == '\\' {
			backslashes++
		} else {
			backslashes = 0
		}
		if quote {
			inString = !inString
		}
		if inString && c < 0x20 {
			return nil, false // UNESCAPED_CHARS
		}
		// The tail of a string is its bytes after the opening quote,
		// the closing quote included.
		tail := inString != quote
		scalar := !isJSONOp(c) && !isJSONSpace(c)
		if !tail && (isJSONOp(c) || scalar && !prevNonQuote) {
			d.tok = append(d.tok, i)
		}
		prevNonQuote = scalar && !quote
	}
	if inString || len(d.tok) == 0 {
		return nil, false // UNCLOSED_STRING, EMPTY
	}
	return d, true
}

// at returns the first byte of token p.
func (d *jsonDoc) at(p int) byte {
	if p < len(d.tok) {
		return d.s[d.tok[p]]
	}
	return 0
}

// off returns the offset of token p.
func (d *jsonDoc) off(p int) int {
	if p < len(d.tok) {
		return d.tok[p]
	}
	return len(d.s)
}

// byteAt returns s[i], or NUL past the end.
func (d *jsonDoc) byteAt(i int) byte {
	if i < len(d.s) {
		return d.s[i]
	}
	return 0
}

// rootClosed reports whether the root container opened by c ends the text
// (value_iterator::check_root_array and check_root_object look only at the
// last token).
func (d *jsonDoc) rootClosed(c byte) bool {
	end := byte(']')
	if c == '{' {
		end = '}'
	}
	return d.s[d.tok[len(d.tok)-1]] == end
}

// skipChild mirrors json_iterator::skip_child: from token p, depth levels
// inside the value being skipped, it consumes tokens until it has left
// that value, and returns the token after it. Brackets are counted, not
// matched.
func (d *jsonDoc) skipChild(p, depth int) (int, bool) {
	if depth <= 0 {
		return p, true
	}
	c := d.at(p)
	p++
	switch c {
	case '[', '{', ':', ',':
		// the first container is counted in depth already
	case '"':
		if d.at(p) == ':' { // a key
			p++
			break
		}
		if depth--; depth <= 0 {
			return p, true
		}
	default: // a scalar, or a closing bracket
		if depth--; depth <= 0 {
			return p, true
		}
	}
	for p < len(d.tok) {
		c := d.at(p)
		p++
		switch c {
		case '[', '{':
			depth++
		case ']', '}':
			if depth--; depth <= 0 {
				return p, true
			}
		}
	}
	return p, false // not enough close braces
}

// pointer returns the token of the value pointer selects in the container
// at token p (array::at_pointer, object::at_pointer, value::at_pointer).
func (d *jsonDoc) pointer(p int, pointer string) (int, bool) {
	for pointer != "" {
		if pointer[0] != '/' {
			return 0, false
		}
		var ok bool
		switch d.at(p) {
		case '[':
			p, pointer, ok = d.index(p, pointer[1:])
		case '{':
			p, pointer, ok = d.member(p, pointer[1:])
		default:
			return 0, false // a scalar has no children
		}
		if !ok {
			return 0, false
		}
	}
	return p, true
}

// index selects, in the array at token p, the element the reference
// token at the start of ref names (decimal digits, no leading zero), and
// returns the rest of ref. As simdjson, it does not check the index for
// overflow.
func (d *jsonDoc) index(p int, ref string) (int, string, bool) {
	if ref == "-" {
		return 0, "", false
	}
	var n uint64
	i := 0
	for ; i < len(ref) && ref[i] != '/'; i++ {
		digit := ref[i] - '0'
		if digit > 9 {
			return 0, "", false
		}
		n = n*10 + uint64(digit)
	}
	if i == 0 || i > 1 && ref[0] == '0' {
		return 0, "", false
	}
	q := p + 1
	if d.at(q) == ']' {
		return 0, "", false
	}
	for k := uint64(0); k < n; k++ { // array::at
		var ok bool
		if q, ok = d.skipChild(q, 1); !ok || d.at(q) != ',' {
			return 0, "", false // an error, or out of bounds
		}
		q++
	}
	return q, ref[i:], true
}

// member selects, in the object at token p, the value of the first field
// whose key is the reference token at the start of ref (~0 and ~1 decoded
// to ~ and /), and returns the rest of ref. Keys compare as written in
// the JSON, escapes and all (object::find_field does not unescape them).
func (d *jsonDoc) member(p int, ref string) (int, string, bool) {
	key, rest := ref, ""
	if i := strings.IndexByte(ref, '/'); i >= 0 {
		key, rest = ref[:i], ref[i:]
	}
	if strings.IndexByte(key, '~') >= 0 {
		var b strings.Builder
		for i := 0; i < len(key); i++ {
			if key[i] != '~' {
				b.WriteByte(key[i])
				continue
			}
			switch i++; {
			case i < len(key) && key[i] == '0':
				b.WriteByte('~')
			case i < len(key) && key[i] == '1':
				b.WriteByte('/')
			default:
				return 0, "", false
			}
		}
		key = b.String()
	}
	q := p + 1
	if d.at(q) == '}' {
		return 0, "", false
	}
	for { // value_iterator::find_field_raw
		if d.at(q) != '"' {
			return 0, "", false // the key is not a string
		}
		k := d.off(q) + 1
		q++
		if d.at(q) != ':' {
			return 0, "", false
		}
		q++
		// raw_json_string::unsafe_is_equal
		if strings.HasPrefix(d.s[k:], key) && d.byteAt(k+len(key)) == '"' {
			return q, rest, true
		}
		var ok bool
		if q, ok = d.skipChild(q, 1); !ok {
			return 0, "", false
		}
		switch d.at(q) { // value_iterator::has_next_field
		case ',':
			q++
		default: // '}': no such field, or an error
			return 0, "", false
		}
	}
}

// render returns the value at token p as get_json_object does: a string
// unescaped (value::get_string); a number, true, false or null as its
// token (and a token that only starts like one, such as 9n or flase); an
// array or an object as its text (to_json_string); without surrounding
// whitespace.
func (d *jsonDoc) render(p int) (string, bool) {
	start := d.off(p)
	q := p + 1
	switch c := d.at(p); {
	case c == '[': // array::raw_json
		ok := true
		if d.at(q) == ']' {
			q++
		} else {
			q, ok = d.skipChild(q, 2)
		}
		if !ok {
			return "", false
		}
	case c == '{': // object::raw_json
		var ok bool
		switch {
		case d.at(q) == '}':
			q++
			ok = true
		case d.at(q) == '"': // object::consume, at a key
			if d.at(q+1) != ':' {
				return "", false
			}
			q, ok = d.skipChild(q+2, 2)
		default:
			q, ok = d.skipChild(q, 1)
		}
		if !ok {
			return "", false
		}
	case c == '"':
		return unescapeJSON(d.s[start+1:])
	case c == 't' || c == 'f' || c == 'n' || c == '-' || '0' <= c && c <= '9':
	default:
		return "", false
	}
	return strings.Trim(d.s[start:d.off(q)], " \t\n\r"), true
}

// unescapeJSON decodes the JSON string whose body starts s (simdjson's
// parse_string without replacement): escapes \" \\ \/ \b \f \n \r \t and
// \uXXXX, surrogates only in valid pairs.
func unescapeJSON(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			return b.String(), true
		case '\\':
		default:
			b.WriteByte(c)
			continue
		}
		i++
		if i == len(s) {
			return "", false
		}
		switch s[i] {
		case '"', '\\', '/':
			b.WriteByte(s[i])
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, n, ok := jsonCodePoint(s[i+1:])
			if !ok {
				return "", false
			}
			b.WriteRune(r)
			i += n
		default:
			return "", false
		}
	}
	return "", false
}

// jsonCodePoint decodes the 4 hex digits after \u at the start of s, and
// the low surrogate's \uXXXX after a high surrogate; it returns the code
// point and the bytes read.
func jsonCodePoint(s string) (rune, int, bool) {
	hex4 := func(s string) (rune, bool) {
		if len(s) < 4 {
			return 0, false
		}
		var r rune
		for i := range 4 {
			d, ok := hexDigit(s[i])
			if !ok {
				return 0, false
			}
			r = r<<4 | rune(d)
		}
		return r, true
	}
	r, ok := hex4(s)
	switch {
	case !ok:
		return 0, 0, false
	case 0xdc00 <= r && r <= 0xdfff:
		return 0, 0, false // a low surrogate first
	case r < 0xd800 || r > 0xdbff:
		return r, 4, true
	}
	if len(s) < 6 || s[4] != '\\' || s[5] != 'u' {
		return 0, 0, false
	}
	lo, ok := hex4(s[6:])
	if !ok || lo < 0xdc00 || lo > 0xdfff {
		return 0, 0, false
	}
	return (r-0xd800)<<10 | (lo - 0xdc00) + 0x10000, 10, true
}
