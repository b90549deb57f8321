package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
)

// compileFiles compiles each file, printing errors; ok is false if any
// failed.
func compileFiles(paths []string, stderr io.Writer) (mods []*featurelang.Module, ok bool) {
	ok = true
	for _, path := range paths {
		text, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintf(stderr, "fenestra: %v\n", err)
			ok = false
			continue
		}
		m, err := featurelang.Compile(path, string(text), featurelang.Options{})
		if err != nil {
			fmt.Fprintln(stderr, err)
			ok = false
			continue
		}
		mods = append(mods, m)
	}
	return mods, ok
}

func fileFlags(name, what string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: fenestra %s FILE.sql...\n\n%s\n", name, what)
		fs.PrintDefaults()
	}
	return fs
}

func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := fileFlags("check", "Checks feature files and prints each view's output schema and version\n(the content hash of its plan), or the errors with file:line:col.", stderr)
	if err := fs.Parse(args); err != nil || fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	mods, ok := compileFiles(fs.Args(), stderr)
	for _, m := range mods {
		for _, t := range m.Tables {
			fmt.Fprintf(stdout, "table %s (%s)\n", t.Name, t.Schema)
			for _, ix := range t.Indexes {
				fmt.Fprintf(stdout, "  %s%s\n", featurelang.IndexText(ix), inferredBy(m, t.Name, ix))
			}
		}
		for _, v := range m.Views {
			fmt.Fprintf(stdout, "view %s %s\n", viewName(v), plan.Version(v))
			for _, f := range v.Output {
				fmt.Fprintf(stdout, "  %s %s\n", f.Name, f.Type)
			}
		}
	}
	if !ok {
		return 1
	}
	return 0
}

// inferredBy says which DEPLOY inferred index ix of table, if one did.
func inferredBy(m *featurelang.Module, table string, ix *plan.Index) string {
	for _, in := range m.Indexes {
		if in.Table == table && in.Index == ix {
			return fmt.Sprintf("  (inferred: %s of view %s)", in.Why, in.View)
		}
	}
	return ""
}

func viewName(p *plan.Plan) string {
	if p.Name == "" {
		return "(query)"
	}
	return p.Name
}

func runExplain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := fileFlags("explain", "Prints the plan of each view of feature files.", stderr)
	asJSON := fs.Bool("json", false, "print the serialized plan (what hosts load) instead of the tree")
	if err := fs.Parse(args); err != nil || fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	mods, ok := compileFiles(fs.Args(), stderr)
	for _, m := range mods {
		for _, v := range m.Views {
			if *asJSON {
				b, _ := json.MarshalIndent(v, "", "  ")
				fmt.Fprintln(stdout, string(b))
				continue
			}
			fmt.Fprintf(stdout, "view %s %s\n", viewName(v), plan.Version(v))
			fmt.Fprint(stdout, indent(plan.Explain(v), "  ")+"\n")
			if reads := readsText(v); reads != "" {
				fmt.Fprint(stdout, "  reads in request mode:\n"+indent(reads, "    ")+"\n")
			}
		}
	}
	if !ok {
		return 1
	}
	return 0
}

// readsText lists the reads request mode makes for view v and the index
// of its table that serves each (eval.Read).
func readsText(v *plan.Plan) string {
	ev, err := eval.New(v)
	if err != nil {
		return ""
	}
	var lines []string
	for _, rd := range ev.Reads() {
		what := rd.Table + " (all rows)"
		if len(rd.Keys) > 0 {
			what = fmt.Sprintf("%s KEY=(%s)", rd.Table, strings.Join(rd.Keys, ", "))
			if rd.TS != "" {
				what += " TS=" + rd.TS
			}
		}
		served := "no index serves it: the whole table is scanned"
		if t := v.Table(rd.Table); t != nil && len(rd.Keys) == 0 && len(t.Indexes) > 0 {
			served = "any index"
		} else if t != nil {
			if i := t.FindIndex(rd.Keys, rd.TS); i >= 0 {
				served = "index " + featurelang.IndexText(t.Indexes[i])
			}
		}
		lines = append(lines, fmt.Sprintf("%s for %s: %s", what, rd.Why, served))
	}
	return strings.Join(lines, "\n")
}
