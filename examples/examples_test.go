package examples

import (
	"os"
	"strings"
	"testing"
)

// TestCardScriptMatchesExample keeps the README example and the hand-checked
// feature script (testdata/features/card_features.txt) on the same views.
func TestCardScriptMatchesExample(t *testing.T) {
	example, err := FS.ReadFile("cards/features.sql")
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile("../testdata/features/card_features.txt")
	if err != nil {
		t.Fatal(err)
	}
	deploy := func(s string) string {
		i := strings.Index(s, "DEPLOY card_features")
		j := strings.Index(s[i:], ";")
		var lines []string
		for _, l := range strings.Split(s[i:i+j], "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "--") {
				lines = append(lines, l)
			}
		}
		return strings.Join(lines, "\n")
	}
	if a, b := deploy(string(example)), deploy(string(script)); a != b {
		t.Errorf("the card_features view differs between examples/cards/features.sql and the script:\n%s\n---\n%s", a, b)
	}
}
