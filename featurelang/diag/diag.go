// Package diag holds source files, positions and the positioned errors that
// the parser and checker report. An error renders as
//
//	features.sql:3:17: unknown column "amout"
//	 | SELECT sum(amout) OVER w AS s FROM tx
//	 |            ^
//
// and several errors are collected, up to a cap, instead of stopping at the
// first.
package diag

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Source is a named source text with a line index.
type Source struct {
	Name  string
	Text  string
	lines []int // byte offset of the start of each line
}

// NewSource returns a source named name (a file path, or a label such as
// "<query>") holding text.
func NewSource(name, text string) *Source {
	s := &Source{Name: name, Text: text, lines: []int{0}}
	for i := 0; i < len(text); i++ {
		if text[i] == '\n' {
			s.lines = append(s.lines, i+1)
		}
	}
	return s
}

// Pos is a byte offset into a Source; NoPos is unknown.
type Pos int

// NoPos marks an error without a position.
const NoPos Pos = -1

// LineCol returns the 1-based line and column (in runes) of p.
func (s *Source) LineCol(p Pos) (line, col int) {
	if s == nil || p < 0 {
		return 0, 0
	}
	off := min(int(p), len(s.Text))
	i := sort.Search(len(s.lines), func(i int) bool { return s.lines[i] > off }) - 1
	return i + 1, utf8.RuneCountInString(s.Text[s.lines[i]:off]) + 1
}

// Line returns the text of 1-based line n without its newline.
func (s *Source) Line(n int) string {
	if s == nil || n < 1 || n > len(s.lines) {
		return ""
	}
	start, end := s.lines[n-1], len(s.Text)
	if n < len(s.lines) {
		end = s.lines[n] - 1
	}
	return strings.TrimRight(s.Text[start:end], "\r")
}

// Error is one positioned error.
type Error struct {
	Source *Source
	Pos    Pos
	Msg    string
}

// Error renders "name:line:col: msg" followed by the source line and a caret
// under the column.
func (e *Error) Error() string {
	if e.Source == nil || e.Pos < 0 {
		if e.Source != nil {
			return e.Source.Name + ": " + e.Msg
		}
		return e.Msg
	}
	line, col := e.Source.LineCol(e.Pos)
	text := e.Source.Line(line)
	var caret strings.Builder
	for i, r := range []rune(text) {
		if i >= col-1 {
			break
		}
		if r == '\t' {
			caret.WriteByte('\t')
		} else {
			caret.WriteByte(' ')
		}
	}
	return fmt.Sprintf("%s:%d:%d: %s\n | %s\n | %s^", e.Source.Name, line, col, e.Msg, text, caret.String())
}

// Position returns "name:line:col" of e.
func (e *Error) Position() string {
	line, col := e.Source.LineCol(e.Pos)
	return fmt.Sprintf("%s:%d:%d", e.Source.Name, line, col)
}

// MaxErrors caps how many errors one List keeps.
const MaxErrors = 20

// List collects errors up to MaxErrors. The zero value is ready to use.
type List struct {
	Errs      []*Error
	truncated int
}

// Add records an error at p in src.
func (l *List) Add(src *Source, p Pos, format string, args ...any) {
	if len(l.Errs) >= MaxErrors {
		l.truncated++
		return
	}
	l.Errs = append(l.Errs, &Error{Source: src, Pos: p, Msg: fmt.Sprintf(format, args...)})
}

// Len returns how many errors were recorded, including those over the cap.
func (l *List) Len() int { return len(l.Errs) + l.truncated }

// Err returns nil when no error was recorded, else the list as an error
// sorted by position.
func (l *List) Err() error {
	if l.Len() == 0 {
		return nil
	}
	sort.SliceStable(l.Errs, func(i, j int) bool { return l.Errs[i].Pos < l.Errs[j].Pos })
	return l
}

// Error renders every error, separated by newlines, and notes any dropped
// over the cap.
func (l *List) Error() string {
	parts := make([]string, len(l.Errs))
	for i, e := range l.Errs {
		parts[i] = e.Error()
	}
	if l.truncated > 0 {
		parts = append(parts, fmt.Sprintf("(and %d more errors)", l.truncated))
	}
	return strings.Join(parts, "\n")
}

// Unwrap returns the collected errors, so errors.As finds an *Error.
func (l *List) Unwrap() []error {
	out := make([]error, len(l.Errs))
	for i, e := range l.Errs {
		out[i] = e
	}
	return out
}
