package parser

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/fenestra-dev/fenestra/featurelang/diag"
)

// tokKind is the lexical class of a token.
type tokKind uint8

const (
	tEOF     tokKind = iota
	tIllegal         // a lexical error, already reported by the lexer
	tIdent           // identifier or keyword; never a keyword when quoted
	tNumber          // numeric literal, possibly with a suffix (L, f, s, m, h, d)
	tString          // '...' or "..." string literal
	tOp              // operator or punctuation
)

// token is one lexical token. text is the exact source text.
type token struct {
	kind   tokKind
	pos    diag.Pos
	text   string
	val    string     // identifier name, or string value after escapes
	kw     string     // upper-cased text of an unquoted identifier, else ""
	offs   []diag.Pos // string literals with escapes: source offset of each byte of val
	quoted bool       // a backquoted identifier
	bol    bool       // first token on its line
}

// lexError is an error the lexer found. Each one produced exactly one
// tIllegal token, the token at index tok.
type lexError struct {
	tok   int
	pos   diag.Pos
	msg   string
	quiet bool // inside an unknown statement the parser skipped: not reported
}

// lexer splits a source into tokens. Errors are recorded in errs and
// surface as tIllegal tokens, so the parser can stop without reporting twice.
type lexer struct {
	s    string
	i    int
	bol  bool
	errs []lexError
	toks []token
}

// lex returns the tokens of src, ending with a tEOF token, and the lexical
// errors in source order.
func lex(src *diag.Source) ([]token, []lexError) {
	// Feature SQL averages over five bytes a token; sizing up front avoids
	// regrowing the slice, which dominated parse time.
	lx := &lexer{s: src.Text, bol: true, toks: make([]token, 0, len(src.Text)/5+8)}
	for {
		t := lx.next()
		lx.toks = append(lx.toks, t)
		if t.kind == tEOF {
			return lx.toks, lx.errs
		}
	}
}

// errorf records an error at offset p for the token being scanned.
func (lx *lexer) errorf(p int, format string, args ...any) {
	lx.errs = append(lx.errs, lexError{tok: len(lx.toks), pos: diag.Pos(p), msg: fmt.Sprintf(format, args...)})
}

func (lx *lexer) next() token {
	if t, ok := lx.skip(); !ok {
		return t
	}
	start, bol := lx.i, lx.bol
	lx.bol = false
	t := lx.scan()
	t.pos, t.text, t.bol = diag.Pos(start), lx.s[start:lx.i], bol
	return t
}

// skip skips white space and comments. It returns false and a tIllegal
// token for an unterminated block comment.
func (lx *lexer) skip() (token, bool) {
	for lx.i < len(lx.s) {
		c := lx.s[lx.i]
		switch {
		case c == '\n':
			lx.bol = true
			lx.i++
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			lx.i++
		case c == '#' || strings.HasPrefix(lx.s[lx.i:], "--"):
			lx.lineComment()
		case strings.HasPrefix(lx.s[lx.i:], "/*"):
			if !lx.blockComment() {
				return token{kind: tIllegal, pos: diag.Pos(len(lx.s))}, false
			}
		case c >= utf8.RuneSelf && lx.unicodeSpace():
		default:
			return token{}, true
		}
	}
	return token{}, true
}

func (lx *lexer) lineComment() {
	if n := strings.IndexByte(lx.s[lx.i:], '\n'); n >= 0 {
		lx.i += n
	} else {
		lx.i = len(lx.s)
	}
}

func (lx *lexer) blockComment() bool {
	n := strings.Index(lx.s[lx.i+2:], "*/")
	if n < 0 {
		lx.errorf(lx.i, "unterminated comment")
		lx.i = len(lx.s)
		return false
	}
	end := lx.i + 2 + n + 2
	if strings.IndexByte(lx.s[lx.i:end], '\n') >= 0 {
		lx.bol = true
	}
	lx.i = end
	return true
}

// unicodeSpace skips one non-ASCII white-space rune and reports whether it
// did.
func (lx *lexer) unicodeSpace() bool {
	r, n := utf8.DecodeRuneInString(lx.s[lx.i:])
	if r == utf8.RuneError || !unicode.IsSpace(r) {
		return false
	}
	lx.i += n
	return true
}

func (lx *lexer) scan() token {
	if lx.i >= len(lx.s) {
		return token{kind: tEOF}
	}
	c := lx.s[lx.i]
	switch {
	case isIdentStart(c):
		return lx.ident()
	case isDigit(c) || c == '.' && lx.i+1 < len(lx.s) && isDigit(lx.s[lx.i+1]) && !lx.dotIsOp():
		return lx.number()
	case c == '\'' || c == '"':
		return lx.str(c)
	case c == '`':
		return lx.quotedIdent()
	}
	return lx.op()
}

func (lx *lexer) ident() token {
	start := lx.i
	for lx.i < len(lx.s) && isIdentChar(lx.s[lx.i]) {
		lx.i++
	}
	name := lx.s[start:lx.i]
	return token{kind: tIdent, val: name, kw: strings.ToUpper(name)}
}

// dotIsOp reports whether a '.' followed by a digit is a qualifier dot (as
// in t.1, after a name) rather than the start of a number (as in .5).
func (lx *lexer) dotIsOp() bool {
	if len(lx.toks) == 0 {
		return false
	}
	prev := lx.toks[len(lx.toks)-1]
	if prev.kind == tIdent {
		return prev.quoted || !reserved[prev.kw]
	}
	return prev.kind == tOp && (prev.text == ")" || prev.text == "]")
}

// number scans digits [. digits] [e [+-] digits] and an optional one-letter
// suffix. A number glued to any other letters is an error.
func (lx *lexer) number() token {
	start := lx.i
	lx.digits()
	if lx.i < len(lx.s) && lx.s[lx.i] == '.' {
		lx.i++
		lx.digits()
	}
	lx.exponent()
	suffix := lx.i
	for lx.i < len(lx.s) && isIdentChar(lx.s[lx.i]) {
		lx.i++
	}
	text := lx.s[start:lx.i]
	if !validSuffix(text[:suffix-start], text[suffix-start:]) {
		lx.errorf(start, "invalid numeric literal %q", text)
		return token{kind: tIllegal}
	}
	return token{kind: tNumber}
}

func (lx *lexer) digits() {
	for lx.i < len(lx.s) && isDigit(lx.s[lx.i]) {
		lx.i++
	}
}

func (lx *lexer) exponent() {
	s, i := lx.s, lx.i
	if i >= len(s) || s[i] != 'e' && s[i] != 'E' {
		return
	}
	i++
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	if i < len(s) && isDigit(s[i]) {
		lx.i = i
		lx.digits()
	}
}

// validSuffix reports whether suffix may follow the number num: nothing, L
// or a time unit (s, m, h, d) after an integer, f after a decimal.
func validSuffix(num, suffix string) bool {
	switch {
	case suffix == "":
		return true
	case len(suffix) > 1:
		return false
	case strings.ContainsAny(num, ".eE"):
		return suffix == "f" || suffix == "F"
	}
	return strings.Contains("lLsSmMhHdD", suffix)
}

// escapes maps the character after a backslash to its value. Other escaped
// characters keep their backslash, as in MySQL, so LIKE patterns such as
// '\%' survive.
var escapes = [256]byte{
	'\\': '\\', '\'': '\'', '"': '"', 'n': '\n', 't': '\t', 'r': '\r',
	'0': 0, 'b': '\b', 'Z': 0x1a,
}

var hasEscape = [256]bool{
	'\\': true, '\'': true, '"': true, 'n': true, 't': true, 'r': true,
	'0': true, 'b': true, 'Z': true,
}

// str scans a string literal quoted by q. The value and, when the literal
// has escapes, the source offset of each value byte are stored in the token.
func (lx *lexer) str(q byte) token {
	start := lx.i
	lx.i++
	var sb *strBuilder
	for lx.i < len(lx.s) {
		c := lx.s[lx.i]
		switch {
		case c == q:
			lx.i++
			return sb.token(lx.s[start+1 : lx.i-1])
		case c != '\\':
			sb.add(c, lx.i)
			lx.i++
		case lx.i+1 >= len(lx.s):
			lx.i = len(lx.s)
		default:
			if sb == nil {
				sb = newStrBuilder(lx.s, start+1, lx.i)
			}
			sb.escape(lx.s[lx.i+1], lx.i)
			lx.i += 2
		}
	}
	lx.errorf(start, "unterminated string literal")
	return token{kind: tIllegal}
}

// strBuilder accumulates the value of a string literal with escapes. A nil
// *strBuilder means no escape has been seen yet.
type strBuilder struct {
	b    []byte
	offs []diag.Pos
}

func newStrBuilder(s string, from, to int) *strBuilder {
	sb := &strBuilder{b: []byte(s[from:to]), offs: make([]diag.Pos, 0, to-from+8)}
	for i := from; i < to; i++ {
		sb.offs = append(sb.offs, diag.Pos(i))
	}
	return sb
}

func (sb *strBuilder) add(c byte, at int) {
	if sb != nil {
		sb.b = append(sb.b, c)
		sb.offs = append(sb.offs, diag.Pos(at))
	}
}

func (sb *strBuilder) escape(c byte, at int) {
	if hasEscape[c] {
		sb.add(escapes[c], at)
		return
	}
	sb.add('\\', at)
	sb.add(c, at+1)
}

func (sb *strBuilder) token(raw string) token {
	if sb == nil {
		return token{kind: tString, val: raw}
	}
	return token{kind: tString, val: string(sb.b), offs: sb.offs}
}

// quotedIdent scans a backquoted identifier, which ends on the same line.
func (lx *lexer) quotedIdent() token {
	start := lx.i
	rest := lx.s[start+1:]
	end := strings.IndexAny(rest, "`\n")
	if end < 0 || rest[end] == '\n' {
		lx.errorf(start, "unterminated quoted identifier")
		lx.i = len(lx.s)
		if end >= 0 {
			lx.i = start + 1 + end
		}
		return token{kind: tIllegal}
	}
	lx.i = start + end + 2
	if end == 0 {
		lx.errorf(start, "empty quoted identifier")
		return token{kind: tIllegal}
	}
	return token{kind: tIdent, val: rest[:end], quoted: true}
}

// twoCharOps are the two-character operators; @@ prefixes a system
// variable in SET.
var twoCharOps = [...]string{"==", "!=", "<>", "<=", ">=", "&&", "||", "@@"}

const oneCharOps = "()[],;.*+-/%=<>!~&|^?"

func (lx *lexer) op() token {
	for _, op := range twoCharOps {
		if strings.HasPrefix(lx.s[lx.i:], op) {
			lx.i += 2
			return token{kind: tOp}
		}
	}
	if strings.IndexByte(oneCharOps, lx.s[lx.i]) >= 0 {
		lx.i++
		return token{kind: tOp}
	}
	r, n := utf8.DecodeRuneInString(lx.s[lx.i:])
	lx.errorf(lx.i, "unexpected character %q", r)
	lx.i += n
	return token{kind: tIllegal}
}

func isDigit(c byte) bool      { return '0' <= c && c <= '9' }
func isIdentStart(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' || c == '_' }
func isIdentChar(c byte) bool  { return isIdentStart(c) || isDigit(c) }
