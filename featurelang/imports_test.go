package featurelang_test

import (
	"os/exec"
	"strings"
	"testing"
)

// forbiddenDeps may not be reached from featurelang, directly or not: the
// core must stay free of Beam, cloud clients, HTTP, RPC and Kafka, so every
// host can embed it.
var forbiddenDeps = []string{
	"github.com/apache/beam",
	"cloud.google.com/go",
	"google.golang.org/grpc",
	"github.com/gorilla/mux",
	"github.com/aws/",
	"github.com/twmb/franz-go",
	"github.com/prometheus/",
	"net/http",
	"database/sql",
}

// forbiddenImports may not be imported by featurelang's own packages: it
// does no I/O and never logs.
var forbiddenImports = []string{"os", "os/exec", "io/ioutil", "net", "net/http", "syscall", "log", "log/slog"}

// TestForbiddenImports enforces the dependency direction of
// ARCHITECTURE.md with the go tool's view of the import graph.
func TestForbiddenImports(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go tool is needed to list imports: %v", err)
	}
	deps, err := exec.Command(goTool, "list", "-deps", "github.com/fenestra-dev/fenestra/featurelang/...").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(deps)) {
		for _, bad := range forbiddenDeps {
			if strings.HasPrefix(dep, bad) {
				t.Errorf("featurelang depends on %s", dep)
			}
		}
	}
	own, err := exec.Command(goTool, "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "github.com/fenestra-dev/fenestra/featurelang/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(own)), "\n") {
		fields := strings.Fields(line)
		for _, imp := range fields[1:] {
			for _, bad := range forbiddenImports {
				if imp == bad {
					t.Errorf("%s imports %s", fields[0], imp)
				}
			}
		}
	}
}
