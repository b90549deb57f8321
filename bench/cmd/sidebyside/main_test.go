package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/fenestra-dev/fenestra/bench/sidebyside"
)

// TestMain lets the test binary stand in for the bench binary: the harness
// re-executes itself (os.Executable) with child subcommands.
func TestMain(m *testing.M) {
	if sidebyside.IsChild(os.Args[1:]) {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestTiny runs the whole benchmark on 2,000 transactions, once, both
// views and formats, and checks that the engines' outputs are equal. Seed
// 2 makes data where arrival order breaks ties that tx_id order would break
// otherwise, so the DuckDB queries' tie-breaking is exercised. It builds
// fenestra unless SIDEBYSIDE_FENESTRA names a binary.
func TestTiny(t *testing.T) {
	args := []string{"--rows", "2000", "--seed", "2", "--runs", "1", "--dir", t.TempDir()}
	if bin := os.Getenv("SIDEBYSIDE_FENESTRA"); bin != "" {
		args = append(args, "--fenestra", bin) // skip building it
	}
	var out, errOut bytes.Buffer
	code := run(t.Context(), args, &out, &errOut)
	t.Log(out.String())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{
		"in 2 of them arrival order is not tx_id order",
		"three-windows csv equality: 2000 rows compared, 0 differing values",
		"three-windows parquet equality: 2000 rows compared, 0 differing values",
		"cards csv equality: 2000 rows compared, 0 differing values",
		"cards parquet equality: 2000 rows compared, 0 differing values",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in the output", want)
		}
	}
}
