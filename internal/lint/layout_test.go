package lint

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const (
	// root is the module's root, from this package's directory.
	root = "../.."
	// doc is the file holding the listing, relative to root.
	doc = "ARCHITECTURE.md"
	// heading introduces the section whose first fenced block is the listing.
	heading = "## Layout and dependency direction"
)

// TestLayout fails when a package imports one drawn above it in the
// listing of ARCHITECTURE.md, when a package of the module is not drawn,
// or when a drawn package does not exist.
func TestLayout(t *testing.T) {
	t.Parallel()
	drawn := readListing(t, filepath.Join(root, doc))
	for _, p := range layoutProblems(drawn, listPackages(t, root)) {
		t.Error(p)
	}
}

// TestLayoutProblems checks layoutProblems on small made-up modules, so a
// TestLayout that passes means the layout is right, not that the check
// sees nothing.
func TestLayoutProblems(t *testing.T) {
	t.Parallel()
	const listing = "cmd/x/   the entry point\n" +
		"core/    the core\n" +
		"  core.go  the core package itself\n" +
		"  sub/     a sub-package\n" +
		"\n" +
		"docs/    not code\n"
	tests := []struct {
		name string
		pkgs map[string][]string
		want []string
	}{
		{"ok", map[string][]string{"cmd/x": {"core", "core/sub"}, "core": {"core/sub"}, "core/sub": nil}, nil},
		{"upward", map[string][]string{"cmd/x": nil, "core": nil, "core/sub": {"cmd/x", "core"}}, []string{
			"ARCHITECTURE.md:4: core/sub imports cmd/x, drawn above it at ARCHITECTURE.md:1",
			"ARCHITECTURE.md:4: core/sub imports core, drawn above it at ARCHITECTURE.md:3",
		}},
		{"undrawn", map[string][]string{"cmd/x": nil, "core": nil, "core/sub": nil, "extra": {"core"}}, []string{
			"package extra is not drawn in ARCHITECTURE.md",
		}},
		{"missing", map[string][]string{"cmd/x": nil, "core": nil}, []string{
			"ARCHITECTURE.md:4: draws core/sub, which is not a package of the module",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			drawn, err := parseListing(strings.NewReader(heading + "\n```\n" + listing + "```\n"))
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range drawn {
				l.line -= 2 // count lines from the listing's first line
			}
			got := layoutProblems(drawn, tt.pkgs)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d problems %q, want %q", len(got), got, tt.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("problem %d is %q, want it to start with %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// place is where the listing draws a package.
type place struct {
	line int // line number in ARCHITECTURE.md
	text string
}

// readListing parses the listing of the file at name, failing t when the
// listing is missing or malformed.
func readListing(t *testing.T, name string) map[string]*place {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	drawn, err := parseListing(f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return drawn
}

// parseListing returns the package each line of the listing draws, keyed
// by its path in the module (featurelang/eval).
func parseListing(r io.Reader) (map[string]*place, error) {
	drawn := map[string]*place{}
	sc := bufio.NewScanner(r)
	n, state := 0, "before"
	parent := ""
	for sc.Scan() {
		n++
		text := sc.Text()
		switch {
		case state == "before":
			if text == heading {
				state = "heading"
			}
			continue
		case state == "heading":
			if strings.HasPrefix(text, "#") {
				return nil, fmt.Errorf("line %d: the section %q has no listing", n, heading)
			}
			if strings.HasPrefix(text, "```") {
				state = "in"
			}
			continue
		case strings.TrimSpace(text) == "" || strings.HasPrefix(text, "```"):
			return drawn, nil
		}
		indent := len(text) - len(strings.TrimLeft(text, " "))
		entry := strings.Fields(text)[0]
		pkg, err := entryPackage(indent, entry, parent)
		if err != nil {
			return nil, fmt.Errorf("line %d: %q: %v", n, text, err)
		}
		if indent == 0 {
			parent = pkg
		}
		if p, ok := drawn[pkg]; ok && !(strings.HasSuffix(entry, ".go") && p.text == parent+"/") {
			return nil, fmt.Errorf("line %d: %s is drawn twice (also at line %d)", n, pkg, p.line)
		}
		drawn[pkg] = &place{line: n, text: entry}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if state == "in" {
		return nil, errors.New("the listing's fence is not closed")
	}
	return nil, fmt.Errorf("no listing: want a fenced block after %q", heading)
}

// entryPackage returns the package an entry of the listing draws.
func entryPackage(indent int, entry, parent string) (string, error) {
	switch {
	case indent == 0 && strings.HasSuffix(entry, "/"):
		return strings.TrimSuffix(entry, "/"), nil
	case indent != 2:
		return "", errors.New("want no indentation, or two spaces for a sub-package")
	case parent == "":
		return "", errors.New("a sub-package with no package above it")
	case strings.HasSuffix(entry, ".go"):
		return parent, nil
	case strings.HasSuffix(entry, "/"):
		return path.Join(parent, entry), nil
	}
	return "", errors.New("want a directory (ending in /) or a .go file")
}

// listPackages returns the module's packages under dir, keyed by their
// path in the module, with their non-test imports of the module's
// packages. It runs go list once.
func listPackages(t *testing.T, dir string) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports,Module", "./...")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	pkgs := map[string][]string{}
	for dec := json.NewDecoder(bytes.NewReader(out)); dec.More(); {
		var p struct {
			ImportPath string
			Imports    []string
			Module     *struct{ Path string }
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("go list output: %v", err)
		}
		if p.Module == nil {
			t.Fatalf("go list: %s is in no module", p.ImportPath)
		}
		name, _ := inModule(p.Module.Path, p.ImportPath)
		pkgs[name] = []string{}
		for _, imp := range p.Imports {
			if rel, ok := inModule(p.Module.Path, imp); ok {
				pkgs[name] = append(pkgs[name], rel)
			}
		}
	}
	return pkgs
}

// layoutProblems returns, sorted, the differences between the listing and
// the packages (each with its imports of the module's packages).
func layoutProblems(drawn map[string]*place, pkgs map[string][]string) []string {
	var problems []string
	for _, name := range slices.Sorted(maps.Keys(pkgs)) {
		at, ok := drawn[name]
		if !ok {
			problems = append(problems, fmt.Sprintf("package %s is not drawn in %s: draw it below every package it imports and above every package that imports it", name, doc))
			continue
		}
		for _, imp := range pkgs[name] {
			if to, ok := drawn[imp]; ok && to.line < at.line {
				problems = append(problems, fmt.Sprintf("%s:%d: %s imports %s, drawn above it at %s:%d; a package may import only packages drawn below it", doc, at.line, name, imp, doc, to.line))
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(drawn)) {
		if _, ok := pkgs[name]; !ok {
			problems = append(problems, fmt.Sprintf("%s:%d: draws %s, which is not a package of the module", doc, drawn[name].line, name))
		}
	}
	return problems
}

// inModule returns the path of the package ip in the module mod, and
// whether ip is in mod.
func inModule(mod, ip string) (string, bool) {
	if ip == mod {
		return ".", true
	}
	return strings.CutPrefix(ip, mod+"/")
}
