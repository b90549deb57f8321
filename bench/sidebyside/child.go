package sidebyside

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
)

// The bench binary's subcommands, run by the harness re-executing itself
// (Config.Self). All heavy work runs in child processes so that the
// harness stays small: Linux counts the parent's peak RSS at the exec
// into each child's (the exec replaces a memory image that began as the
// parent's), so a harness that had read a 1M-row output would raise the
// peak RSS measured for every engine run after it.
const (
	// DuckDBCommand runs a DuckDB script: the DuckDB side of a run.
	DuckDBCommand = "duckdb"
	// compareCommand compares two outputs and prints the Diff as JSON.
	compareCommand = "compare"
	// statsCommand prints the DataStats of generated data as JSON.
	statsCommand = "stats"
)

// IsChild reports whether args (the command line without the program
// name) run one of the binary's child subcommands; ChildMain runs them.
func IsChild(args []string) bool {
	return len(args) > 0 && slices.Contains([]string{DuckDBCommand, compareCommand, statsCommand}, args[0])
}

// ChildMain runs the child subcommand args[0] with its flags and returns
// the process's exit code: 0 when it ran (outputs that differ included),
// 1 when it failed, 2 for a bad command line.
func ChildMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if !IsChild(args) {
		fmt.Fprintf(stderr, "sidebyside: %q is not a child subcommand\n", args)
		return 2
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	script := fs.String("sql", "", "duckdb: the DuckDB script to run; compare: the feature file")
	view := fs.String("view", "", "compare: the DEPLOY whose output columns the files have")
	fenestra := fs.String("fenestra", "", "compare: fenestra's output file")
	duck := fs.String("duckdb", "", "compare: DuckDB's output file")
	dir := fs.String("dir", "", "stats: the data directory")
	format := fs.String("format", "csv", "stats: the data files' format")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sidebyside %s: unexpected arguments %q\n", args[0], fs.Args())
		return 2
	}
	var result any
	var err error
	switch args[0] {
	case DuckDBCommand:
		var text []byte
		if text, err = os.ReadFile(*script); err == nil {
			err = execDuckDB(ctx, string(text))
		}
	case compareCommand:
		result, err = compareOutputs(*script, *view, *fenestra, *duck)
	case statsCommand:
		result, err = dataStats(ctx, sourcesFor(*dir, *format))
	}
	if err == nil && result != nil {
		err = json.NewEncoder(stdout).Encode(result)
	}
	if err != nil {
		fmt.Fprintf(stderr, "sidebyside %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// compareOutputs compares fenestra's output file with DuckDB's, both CSV
// files of the output columns of the DEPLOY view in the feature file
// featureFile.
func compareOutputs(featureFile, view, fenestra, duck string) (*Diff, error) {
	text, err := os.ReadFile(featureFile)
	if err != nil {
		return nil, err
	}
	schema, err := outputSchema(featureFile, string(text), view)
	if err != nil {
		return nil, err
	}
	return compareFiles(fenestra, duck, schema)
}
