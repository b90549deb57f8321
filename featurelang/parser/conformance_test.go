package parser

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/diag"
)

// conformancePath is OpenMLDB's case corpus, kept outside the repository
// (see ../shared/conformance/README.md); it is absent on users' clones.
const conformancePath = "../../../shared/conformance/openmldb/cases.jsonl"

// conformanceCase is the part of a case this package needs.
type conformanceCase struct {
	ID     string `json:"id"`
	SQL    string `json:"sql"`
	Expect struct {
		Success *bool `json:"success"`
	} `json:"expect"`
}

// wantSuccess reports whether OpenMLDB accepts the case (success defaults
// to true).
func (c conformanceCase) wantSuccess() bool { return c.Expect.Success == nil || *c.Expect.Success }

// unsupportedCases are cases OpenMLDB accepts that this parser rejects on
// purpose, with the reason.
var unsupportedCases = map[string]string{}

// loadConformance returns the corpus, or skips the test when it is absent.
func loadConformance(tb testing.TB) []conformanceCase {
	tb.Helper()
	cases, err := readConformance()
	if errors.Is(err, fs.ErrNotExist) {
		tb.Skipf("%s not present", conformancePath)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return cases
}

// readConformance reads the corpus; the error wraps fs.ErrNotExist when it
// is absent.
func readConformance() ([]conformanceCase, error) {
	f, err := os.Open(conformancePath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var cases []conformanceCase
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var c conformanceCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			return nil, fmt.Errorf("%s: %w", conformancePath, err)
		}
		cases = append(cases, c)
	}
	return cases, sc.Err()
}

// TestConformance parses the SQL of every OpenMLDB case: those OpenMLDB
// accepts must parse, except the listed unsupported ones. Cases OpenMLDB
// rejects (mostly type errors, left to the checker) must merely not panic.
func TestConformance(t *testing.T) {
	t.Parallel()
	cases := loadConformance(t)
	var accepted, parsed, rejected, rejectedParsed, skipped int
	for _, c := range cases {
		script, err := Parse(diag.NewSource(c.ID, c.SQL))
		checkPositions(t, c.SQL, script)
		if !c.wantSuccess() {
			rejected++
			if err == nil {
				rejectedParsed++
			}
			continue
		}
		accepted++
		reason, unsupported := unsupportedCases[c.ID]
		switch {
		case unsupported && err == nil:
			t.Errorf("%s: listed as unsupported (%s) but parses", c.ID, reason)
		case unsupported:
			skipped++
		case err != nil:
			t.Errorf("%s:\n%v", c.ID, err)
		default:
			parsed++
		}
	}
	t.Logf("%d cases: %d accepted by OpenMLDB, %d of them parse, %d unsupported on purpose; "+
		"%d rejected by OpenMLDB, %d of them parse (left to the checker)",
		len(cases), accepted, parsed, skipped, rejected, rejectedParsed)
}
