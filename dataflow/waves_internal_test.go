package dataflow

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestTmpErr checks that a full disk under the waves' directory is an
// ErrTmpFull naming it, and other errors pass unchanged.
func TestTmpErr(t *testing.T) {
	t.Parallel()
	full := fmt.Errorf("bucket 3: %w", &os.PathError{Op: "write", Path: "/tmp/x/.part-3.tmp-1", Err: syscall.ENOSPC})
	err := tmpErr(full, "/tmp/x")
	if !errors.Is(err, ErrTmpFull) || !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "/tmp/x,") {
		t.Errorf("tmpErr(ENOSPC) = %v", err)
	}
	other := errors.New("tx.csv:3: bad")
	if err := tmpErr(other, "/tmp/x"); err != other {
		t.Errorf("tmpErr(other) = %v", err)
	}
	if err := tmpErr(nil, "/tmp/x"); err != nil {
		t.Errorf("tmpErr(nil) = %v", err)
	}
}

// TestActivityWait checks that wait returns when the work is done, or
// after its time.
func TestActivityWait(t *testing.T) {
	t.Parallel()
	var a activity
	a.wait(time.Hour) // idle: at once
	a.add()
	go func() { time.Sleep(10 * time.Millisecond); a.done() }()
	a.wait(time.Hour)
	a.add()
	start := time.Now()
	a.wait(20 * time.Millisecond)
	if time.Since(start) < 20*time.Millisecond {
		t.Error("wait returned while work ran")
	}
	a.done()
}
