package conformance

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// Known is a known-failures list: case id and mode -> reason. A case on it
// is one the project believes is wrong or does not support yet, with the
// reason written down; every other failure is a regression.
type Known map[string]string

func knownKey(id string, m Mode) string { return id + "\t" + string(m) }

// Has reports whether the case is a known failure in mode m.
func (k Known) Has(id string, m Mode) bool {
	_, ok := k[knownKey(id, m)]
	return ok
}

// LoadKnown reads a known-failures file: one "id<TAB>mode<TAB>reason" per
// line; blank lines and lines starting with # are ignored.
func LoadKnown(path string) (Known, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadKnown(f, path)
}

// ReadKnown reads a known-failures list from r.
func ReadKnown(r io.Reader, name string) (Known, error) {
	k := Known{}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		parts := strings.SplitN(text, "\t", 3)
		if len(parts) < 3 || strings.TrimSpace(parts[2]) == "" {
			return nil, fmt.Errorf("%s:%d: want id<TAB>mode<TAB>reason", name, line)
		}
		switch Mode(parts[1]) {
		case Batch, Request, Reject:
		default:
			return nil, fmt.Errorf("%s:%d: unknown mode %q", name, line, parts[1])
		}
		k[knownKey(parts[0], Mode(parts[1]))] = parts[2]
	}
	return k, sc.Err()
}

// Summary counts results.
type Summary struct {
	Passed, Failed, Skipped int
}

// Summarize counts results.
func Summarize(rs []Result) Summary {
	var s Summary
	for _, r := range rs {
		switch r.Status {
		case Pass:
			s.Passed++
		case Fail:
			s.Failed++
		default:
			s.Skipped++
		}
	}
	return s
}

// String is the runner's last line: "N passed, M failed, K skipped".
func (s Summary) String() string {
	return fmt.Sprintf("%d passed, %d failed, %d skipped", s.Passed, s.Failed, s.Skipped)
}
