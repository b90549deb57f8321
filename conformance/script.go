package conformance

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"strings"

	"github.com/fenestra-dev/fenestra/featurelang/funcs"
	"github.com/fenestra-dev/fenestra/featurelang/types"
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

// ReadCSV reads rows of schema from CSV text with a header row naming
// columns (any order; columns not named are NULL). Errors name the file and
// line of the bad value.
func ReadCSV(r io.Reader, schema types.Schema, file string, firstLine int) (*types.Block, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s:%d: reading the header: %w", file, firstLine, err)
	}
	cols := make([]int, len(header))
	casts := make([]funcs.Impl, len(header))
	for i, h := range header {
		if cols[i] = schema.Index(strings.TrimSpace(h)); cols[i] < 0 {
			return nil, fmt.Errorf("%s:%d: column %q is not in the table (%s)", file, firstLine, h, schema)
		}
		if casts[i], err = funcs.Cast(types.String, schema[cols[i]].Type); err != nil {
			return nil, fmt.Errorf("%s:%d: column %q: %w", file, firstLine, h, err)
		}
	}
	b := types.NewBlock(schema, 0)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return b, nil
		}
		line, _ := cr.FieldPos(0)
		line += firstLine - 1
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", file, line, err)
		}
		if len(rec) != len(header) {
			return nil, fmt.Errorf("%s:%d: %d values for %d columns", file, line, len(rec), len(header))
		}
		row := make([]types.Value, len(schema))
		for i, f := range schema {
			row[i] = types.NullOf(f.Type)
		}
		for i, text := range rec {
			text = strings.TrimSpace(text)
			if text == "NULL" {
				continue
			}
			v := casts[i]([]types.Value{types.StringValue(text)})
			if v.Null {
				f := schema[cols[i]]
				return nil, fmt.Errorf("%s:%d: column %s: cannot read %q as %s", file, line, f.Name, text, f.Type)
			}
			row[cols[i]] = v
		}
		b.AppendRow(row)
	}
}

// FormatRows renders a block as CSV with a "name type" header, values as
// Value.String writes them (floats in shortest exact form, NULL as NULL).
func FormatRows(b *types.Block) string {
	var out strings.Builder
	w := csv.NewWriter(&out)
	header := make([]string, len(b.Schema))
	for i, f := range b.Schema {
		header[i] = f.Name + " " + f.Type.String()
	}
	w.Write(header)
	for i := 0; i < b.Len; i++ {
		rec := make([]string, len(b.Cols))
		for j := range b.Cols {
			rec[j] = b.Cols[j].Value(i).String()
		}
		w.Write(rec)
	}
	w.Flush()
	return out.String()
}
