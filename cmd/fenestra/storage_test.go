package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/emulators"
	"github.com/fenestra-dev/fenestra/storage/bigtable"
)

// TestStorageInit runs fenestra storage init against an emulator named by
// BIGTABLE_EMULATOR_HOST, as a developer would after fenestra emulator
// bigtable. (Not parallel: it sets the environment.)
func TestStorageInit(t *testing.T) {
	addr, stop, err := emulators.StartBigtable("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	t.Setenv("BIGTABLE_EMULATOR_HOST", addr)
	other := filepath.Join(t.TempDir(), "other.sql")
	if err := os.WriteFile(other, []byte("CREATE TABLE tx (id int64, card string, amount float, ts timestamp, INDEX(KEY=card, TS=ts));\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr []string
	}{
		{name: "init", args: []string{"storage", "init", "--sql", "testdata/ok.sql"}, code: 0,
			stdout: []string{"table tx: Bigtable table fenestra_tx (1 index) in local/local at " + addr, "1 tables ready"},
			stderr: []string{"created table", "bigtable=fenestra_tx"}},
		{name: "again", args: []string{"storage", "init", "--sql", "testdata/ok.sql"}, code: 0, stdout: []string{"table tx: Bigtable table fenestra_tx"}},
		{name: "prefix", args: []string{"storage", "init", "--sql", "testdata/ok.sql", "--prefix", "dev_"}, code: 0, stdout: []string{"Bigtable table dev_tx"}},
		{name: "instance", args: []string{"storage", "init", "--sql", "testdata/ok.sql", "--bigtable", "proj/inst"}, code: 0, stdout: []string{"in proj/inst at " + addr}},
		{name: "different definition", args: []string{"storage", "init", "--sql", other}, code: 1,
			stderr: []string{"storage: schema mismatch: table tx exists with columns (id int64, card string, amount double, ts timestamp)"}},
		{name: "bad file", args: []string{"storage", "init", "--sql", "testdata/bad.sql"}, code: 1, stderr: []string{`unknown column "amout"`}},
		{name: "no sql", args: []string{"storage", "init"}, code: 2, stderr: []string{"usage: fenestra storage init"}},
		{name: "no subcommand", args: []string{"storage"}, code: 2, stderr: []string{"usage: fenestra storage init"}},
		{name: "bad instance", args: []string{"storage", "init", "--sql", "testdata/ok.sql", "--bigtable", "proj"}, code: 2, stderr: []string{"want PROJECT/INSTANCE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCmd(tt.args...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q:\n%s", s, out)
				}
			}
			for _, s := range tt.stderr {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr lacks %q:\n%s", s, errOut)
				}
			}
		})
	}
	// The table is there for a store that reads it.
	s, err := bigtable.Open(context.Background(), bigtable.Config{Project: "local", Instance: "local"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	def, err := s.Describe(context.Background(), "tx")
	if err != nil || def.Schema.String() != "id int64, card string, amount double, ts timestamp" {
		t.Errorf("Describe: %v, %v", def, err)
	}
	t.Run("no emulator", func(t *testing.T) {
		t.Setenv("BIGTABLE_EMULATOR_HOST", "")
		code, _, errOut := runCmd("storage", "init", "--sql", "testdata/ok.sql")
		if code != 2 || !strings.Contains(errOut, "--bigtable PROJECT/INSTANCE is needed unless BIGTABLE_EMULATOR_HOST is set") {
			t.Errorf("exit code %d, stderr %s", code, errOut)
		}
	})
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestEmulatorCommand runs fenestra emulator bigtable until interrupted,
// and initialises a table on it through the address it prints.
func TestEmulatorCommand(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan int)
	go func() { done <- run(ctx, []string{"emulator", "bigtable", "--addr", "127.0.0.1:0"}, &out, &errOut) }()
	export := regexp.MustCompile(`(?m)^export BIGTABLE_EMULATOR_HOST=(127\.0\.0\.1:\d+)$`)
	var addr string
	for deadline := time.Now().Add(5 * time.Second); addr == ""; time.Sleep(10 * time.Millisecond) {
		if m := export.FindStringSubmatch(out.String()); m != nil {
			addr = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("no export line in %q (stderr %q)", out.String(), errOut.String())
		}
	}
	if !strings.Contains(out.String(), "Bigtable emulator listening on "+addr) {
		t.Errorf("stdout: %s", out.String())
	}
	if err := storageInit(ctx, "testdata/ok.sql", bigtable.Config{Project: "p", Instance: "i", EmulatorHost: addr}, &out, &errOut); err != nil {
		t.Fatalf("storage init on the emulator: %v", err)
	}
	cancel()
	select {
	case c := <-done:
		if c != 0 {
			t.Errorf("exit code %d; stderr %s", c, errOut.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the emulator did not stop when interrupted")
	}
	if code, _, errOut := runCmd("emulator", "nope"); code != 2 || !strings.Contains(errOut, "Emulators: bigtable, kafka.") {
		t.Errorf("unknown emulator: %d %s", code, errOut)
	}
}
