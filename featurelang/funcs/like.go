package funcs

import (
	"regexp"
	"strings"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// Pattern matching.
//
// x LIKE p [ESCAPE e], like_match(x, p[, e]) and their case-insensitive
// ILIKE / ilike_match forms: '%' matches any run of characters, '_' one
// character; the escape character (backslash by default) makes the next
// pattern character literal and takes precedence over the wildcards (with
// ESCAPE '%', "%%" is a literal percent sign). An empty escape disables
// escaping. An escape longer than one character, or a pattern ending in an
// unfollowed escape, matches nothing (false, as OpenMLDB). Any NULL
// operand, the escape included, gives NULL. Characters are Unicode code
// points; ILIKE folds case with Unicode simple folding.
//
// x RLIKE p and regexp_like(x, p[, flags]) match the whole of x against the
// regular expression p. OpenMLDB uses RE2, whose syntax Go's regexp package
// implements (minus \C and a few Perl classes RE2 also lacks); flags are
// i (case-insensitive), c (case-sensitive, the default), m (multi-line),
// s (dot matches newline). An invalid pattern or flag gives NULL.
//
// Compiled patterns are cached per Overload in an atomic pointer: a
// constant pattern compiles once and is then matched without allocating.

func init() {
	register("like", resolveLike)
	register("ilike", resolveLike)
	register("like_match", resolveLike)
	register("ilike_match", resolveLike)
	register("rlike", resolveRegexp)
	register("regexp_like", resolveRegexp)
}

func resolveLike(name string, args []types.Type) (*Overload, error) {
	if len(args) < 2 || len(args) > 3 {
		return nil, errArgs(name, "(string, string[, string])", args)
	}
	for i, t := range args {
		// The pattern and escape must be typed strings: a bare NULL
		// literal there is rejected, as OpenMLDB does (string(NULL) is fine).
		if !isStringish(t) || i > 0 && t == types.Null {
			return nil, errArgs(name, "(string, string[, string])", args)
		}
	}
	fold := strings.HasPrefix(name, "i")
	var cache atomic.Pointer[likeCache]
	impl := func(v []types.Value) types.Value {
		esc := "\\"
		if len(v) == 3 {
			esc = v[2].S
		}
		c := cache.Load()
		if c == nil || c.pattern != v[1].S || c.escape != esc {
			c = &likeCache{pattern: v[1].S, escape: esc}
			c.tokens, c.valid = compileLike(v[1].S, esc, fold)
			cache.Store(c)
		}
		return boolV(c.valid && likeMatch(c.tokens, v[0].S, fold))
	}
	return overload(name, args, types.Bool, impl), nil
}

type likeCache struct {
	pattern, escape string
	tokens          []likeToken
	valid           bool
}

// A likeToken is a literal rune, or one of the wildcards.
type likeToken struct {
	r    rune
	kind uint8 // 0 literal, 1 '_', 2 '%'
}

func compileLike(p, esc string, fold bool) ([]likeToken, bool) {
	if utf8.RuneCountInString(esc) > 1 {
		return nil, false
	}
	escape, _ := utf8.DecodeRuneInString(esc)
	if esc == "" {
		escape = -1
	}
	var toks []likeToken
	rs := []rune(p)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == escape:
			if i+1 == len(rs) {
				return nil, false
			}
			i++
			toks = append(toks, likeToken{r: foldRune(rs[i], fold)})
		case r == '%':
			if n := len(toks); n == 0 || toks[n-1].kind != 2 {
				toks = append(toks, likeToken{kind: 2})
			}
		case r == '_':
			toks = append(toks, likeToken{kind: 1})
		default:
			toks = append(toks, likeToken{r: foldRune(r, fold)})
		}
	}
	return toks, true
}

func foldRune(r rune, fold bool) rune {
	if fold {
		return unicode.ToLower(r)
	}
	return r
}

// likeMatch matches s against the tokens with the classic linear-time
// backtracking over the last '%'.
func likeMatch(toks []likeToken, s string, fold bool) bool {
	ti, si := 0, 0
	starT, starS := -1, 0
	for si < len(s) {
		r, size := utf8.DecodeRuneInString(s[si:])
		if ti < len(toks) {
			switch t := toks[ti]; {
			case t.kind == 2:
				starT, starS = ti, si
				ti++
				continue
			case t.kind == 1 || t.r == foldRune(r, fold):
				ti++
				si += size
				continue
			}
		}
		if starT < 0 {
			return false
		}
		_, size = utf8.DecodeRuneInString(s[starS:])
		starS += size
		ti, si = starT+1, starS
	}
	for ti < len(toks) && toks[ti].kind == 2 {
		ti++
	}
	return ti == len(toks)
}

func resolveRegexp(name string, args []types.Type) (*Overload, error) {
	max := 3
	if name == "rlike" {
		max = 2
	}
	if len(args) < 2 || len(args) > max {
		return nil, errArgs(name, "(string, string[, string])", args)
	}
	for _, t := range args {
		if !isStringish(t) {
			return nil, errArgs(name, "(string, string[, string])", args)
		}
	}
	var cache atomic.Pointer[regexpCache]
	return overload(name, args, types.Bool, func(v []types.Value) types.Value {
		flags := ""
		if len(v) == 3 {
			flags = v[2].S
		}
		c := cache.Load()
		if c == nil || c.pattern != v[1].S || c.flags != flags {
			c = &regexpCache{pattern: v[1].S, flags: flags, re: compileRegexp(v[1].S, flags)}
			cache.Store(c)
		}
		if c.re == nil {
			return types.NullOf(types.Bool)
		}
		return boolV(c.re.MatchString(v[0].S))
	}), nil
}

type regexpCache struct {
	pattern, flags string
	re             *regexp.Regexp
}

func compileRegexp(p, flags string) *regexp.Regexp {
	prefix := ""
	for _, f := range flags {
		switch f {
		case 'i', 'm', 's':
			prefix += string(f)
		case 'c':
			prefix = strings.ReplaceAll(prefix, "i", "")
		default:
			return nil
		}
	}
	if prefix != "" {
		prefix = "(?" + prefix + ")"
	}
	re, err := regexp.Compile(prefix + `\A(?:` + p + `)\z`)
	if err != nil {
		return nil
	}
	return re
}
