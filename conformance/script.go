package conformance

import (
	"bytes"
	"fmt"
	"strings"
)

// A Script is a feature script: a commented archive of named sections, in
// the style of txtar:
//
//	# What the script shows (free text up to the first section).
//	-- features.sql --
//	CREATE TABLE tx (...);
//	DEPLOY card_features SELECT ...;
//	-- tx.csv --
//	id,card,amount,ts
//	1,c1,12.5,2024-05-01 10:00:00
//	-- out card_features --
//	(the expected output, written by the runner with -update)
//	-- errors --
//	(the expected compile errors, for scripts that must not compile)
//
// Each <table>.csv section holds a table's rows, a header naming columns;
// NULL is written NULL; values are read as CAST('text' AS type) reads them.
type Script struct {
	Path     string
	Comment  string
	Sections []Section
}

// Section is one named part of a Script.
type Section struct {
	Name string
	Data string
}

// ParseScript parses a script; path labels errors.
func ParseScript(path string, data []byte) (*Script, error) {
	s := &Script{Path: path}
	var cur *Section
	for i, line := range strings.SplitAfter(string(data), "\n") {
		if name, ok := sectionName(line); ok {
			if s.Section(name) != nil {
				return nil, fmt.Errorf("%s:%d: section %q appears twice", path, i+1, name)
			}
			s.Sections = append(s.Sections, Section{Name: name})
			cur = &s.Sections[len(s.Sections)-1]
			continue
		}
		if cur == nil {
			s.Comment += line
		} else {
			cur.Data += line
		}
	}
	return s, nil
}

func sectionName(line string) (string, bool) {
	line = strings.TrimRight(line, "\r\n")
	if !strings.HasPrefix(line, "-- ") || !strings.HasSuffix(line, " --") || len(line) < 7 {
		return "", false
	}
	return strings.TrimSpace(line[3 : len(line)-3]), true
}

// Section returns the section named name, or nil.
func (s *Script) Section(name string) *Section {
	for i := range s.Sections {
		if s.Sections[i].Name == name {
			return &s.Sections[i]
		}
	}
	return nil
}

// Set replaces (or appends) the section named name.
func (s *Script) Set(name, data string) {
	if !strings.HasSuffix(data, "\n") && data != "" {
		data += "\n"
	}
	if sec := s.Section(name); sec != nil {
		sec.Data = data
		return
	}
	s.Sections = append(s.Sections, Section{Name: name, Data: data})
}

// Format renders the script back to its file form.
func (s *Script) Format() []byte {
	var b bytes.Buffer
	b.WriteString(s.Comment)
	for _, sec := range s.Sections {
		fmt.Fprintf(&b, "-- %s --\n%s", sec.Name, sec.Data)
	}
	return b.Bytes()
}

// sectionLine returns the 1-based line of the file where section name's
// data begins, for file:line errors.
func (s *Script) sectionLine(name string) int {
	line := strings.Count(s.Comment, "\n") + 1
	for _, sec := range s.Sections {
		line++ // the header
		if sec.Name == name {
			return line
		}
		line += strings.Count(sec.Data, "\n")
	}
	return 0
}
