package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"

	"github.com/fenestra-dev/fenestra/conformance"
)

func runConformance(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("conformance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	mode := fs.String("mode", "both", "execution mode: batch, request or both")
	jsonOut := fs.String("json", "", "also write every result as JSON lines to `FILE`")
	known := fs.String("known", "", "known-failures `FILE`: failures listed there are marked (known) and do not fail the run")
	runRe := fs.String("run", "", "only cases whose id matches this `regexp`")
	cats := fs.Bool("categories", false, "print pass/fail counts per category and mode before the summary")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: fenestra conformance [flags] CASES.jsonl\n\nRuns every runnable case in the asked modes and checks that cases expecting\nsuccess: false are rejected at compile time. Prints one line per failing case\nand ends with \"N passed, M failed, K skipped\".\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	modes, ok := map[string][]conformance.Mode{
		"batch":   {conformance.Batch},
		"request": {conformance.Request},
		"both":    {conformance.Batch, conformance.Request},
	}[*mode]
	if !ok {
		fmt.Fprintf(stderr, "fenestra conformance: --mode must be batch, request or both, not %q\n", *mode)
		return 2
	}
	cases, err := conformance.Load(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "fenestra conformance: %v\n", err)
		return 1
	}
	if *runRe != "" {
		re, err := regexp.Compile(*runRe)
		if err != nil {
			fmt.Fprintf(stderr, "fenestra conformance: --run: %v\n", err)
			return 2
		}
		cases = filterCases(cases, re)
	}
	knownFails := conformance.Known{}
	if *known != "" {
		if knownFails, err = conformance.LoadKnown(*known); err != nil {
			fmt.Fprintf(stderr, "fenestra conformance: %v\n", err)
			return 1
		}
	}
	results := conformance.Run(ctx, cases, conformance.InProcess{}, modes)
	unknown := printFailures(stdout, results, knownFails)
	if *jsonOut != "" {
		if err := writeResults(*jsonOut, results); err != nil {
			fmt.Fprintf(stderr, "fenestra conformance: %v\n", err)
			return 1
		}
	}
	if *cats {
		printCategories(stdout, results)
	}
	fmt.Fprintln(stdout, conformance.Summarize(results))
	if unknown > 0 {
		return 1
	}
	return 0
}

func filterCases(cases []*conformance.Case, re *regexp.Regexp) []*conformance.Case {
	var out []*conformance.Case
	for _, c := range cases {
		if re.MatchString(c.ID) {
			out = append(out, c)
		}
	}
	return out
}

// printFailures prints one line per failing case and returns how many are
// not on the known list.
func printFailures(w io.Writer, results []conformance.Result, known conformance.Known) int {
	unknown := 0
	for _, r := range results {
		if r.Status != conformance.Fail {
			continue
		}
		mark := ""
		if known.Has(r.ID, r.Mode) {
			mark = " (known)"
		} else {
			unknown++
		}
		fmt.Fprintf(w, "FAIL %s %s%s: %s\n", r.ID, r.Mode, mark, r.Reason)
	}
	return unknown
}

func writeResults(path string, results []conformance.Result) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	for _, r := range results {
		if err := enc.Encode(r); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

func printCategories(w io.Writer, results []conformance.Result) {
	type key struct{ cat, mode string }
	counts := map[key]*conformance.Summary{}
	for _, r := range results {
		k := key{r.Category, string(r.Mode)}
		if counts[k] == nil {
			counts[k] = &conformance.Summary{}
		}
		switch r.Status {
		case conformance.Pass:
			counts[k].Passed++
		case conformance.Fail:
			counts[k].Failed++
		default:
			counts[k].Skipped++
		}
	}
	keys := make([]key, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].cat != keys[j].cat {
			return keys[i].cat < keys[j].cat
		}
		return keys[i].mode < keys[j].mode
	})
	fmt.Fprintf(w, "%-18s %-8s %7s %7s %7s %7s\n", "category", "mode", "passed", "failed", "skipped", "pass%")
	for _, k := range keys {
		s := counts[k]
		pct := 100.0
		if s.Passed+s.Failed > 0 {
			pct = 100 * float64(s.Passed) / float64(s.Passed+s.Failed)
		}
		fmt.Fprintf(w, "%-18s %-8s %7d %7d %7d %6.1f%%\n", k.cat, k.mode, s.Passed, s.Failed, s.Skipped, pct)
	}
}
