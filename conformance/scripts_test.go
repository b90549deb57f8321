package conformance

import (
	"flag"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the expected sections of the feature scripts")

// TestFeatureScripts runs the project's feature scripts (testdata/features)
// on the in-process evaluator: batch output as expected, request mode
// identical to batch mode.
func TestFeatureScripts(t *testing.T) {
	RunScripts(t, InProcess{}, "../testdata/features/*.txt", *update)
}
