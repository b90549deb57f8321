package dataflow

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestRandomAccess checks that a local file is read in place and a stream
// is copied to a temporary file that done removes.
func TestRandomAccess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.parquet")
	data := []byte("PAR1 some bytes PAR1")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, done, err := randomAccess(f)
	if err != nil || r != io.Reader(f) {
		t.Fatalf("a local file: %v, %v", r, err)
	}
	done()
	r, done, err = randomAccess(io.NopCloser(bytes.NewReader(data)))
	if err != nil {
		t.Fatal(err)
	}
	tmp, ok := r.(*os.File)
	if !ok {
		t.Fatalf("a stream: a %T, want a temporary file", r)
	}
	got, err := os.ReadFile(tmp.Name())
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("the copy holds %q (%v)", got, err)
	}
	done()
	if _, err := os.Stat(tmp.Name()); !os.IsNotExist(err) {
		t.Errorf("done left %s: %v", tmp.Name(), err)
	}
}
