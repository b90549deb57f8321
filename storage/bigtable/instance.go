package bigtable

import (
	"fmt"
	"os"
	"strings"
)

// ParseInstance splits a --bigtable flag's PROJECT/INSTANCE. An empty
// value means the emulator: local/local when BIGTABLE_EMULATOR_HOST is
// set, an error otherwise.
func ParseInstance(flagValue string) (project, instance string, err error) {
	if flagValue == "" {
		if os.Getenv("BIGTABLE_EMULATOR_HOST") == "" {
			return "", "", fmt.Errorf("--bigtable PROJECT/INSTANCE is needed unless BIGTABLE_EMULATOR_HOST is set")
		}
		return "local", "local", nil
	}
	project, instance, ok := strings.Cut(flagValue, "/")
	if !ok || project == "" || instance == "" || strings.Contains(instance, "/") {
		return "", "", fmt.Errorf("--bigtable %q: want PROJECT/INSTANCE", flagValue)
	}
	return project, instance, nil
}
