package integration

import (
	"context"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/dataflow"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
	"github.com/fenestra-dev/fenestra/storage/bigtable"
)

// TestStreamSIGTERM sends SIGTERM to `fenestra stream`, a real child
// process, while transactions are produced: it exits 0, having stored
// exactly the records up to the offsets it committed (it wrote what it had
// read and saved its progress); restarted, it catches up and is stopped
// by SIGTERM again, and the store then holds every record exactly once
// (each card's rows equal those a materialize of the same events stored).
func TestStreamSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds fenestra and runs it as a child process")
	}
	c := newStreamChild(t, 20000, 17, "term")
	brokers, tx := c.brokers, c.tx
	bin, args, env, want, got, produced := c.bin, c.args, c.env, c.want, c.got, c.produced
	lag := func() int64 {
		n, err := dataflow.StreamLag(context.Background(), brokers, "term", []string{"tx"})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	run := func(until func() bool) string {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		var out syncBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Process.Kill()
		for deadline := time.Now().Add(2 * time.Minute); !strings.Contains(out.String(), "streaming ") || !until(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the stream did not get there in 2 minutes (%d records to go):\n%s", lag(), out.String())
			}
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil || !strings.Contains(out.String(), "stream: stopped after") {
			t.Fatalf("the stream's SIGTERM: exit %v\n%s", err, out.String())
		}
		return out.String()
	}

	// Stopped mid-stream: what it stored is what it committed.
	start := time.Now()
	out := run(func() bool { return time.Since(start) > time.Second })
	if err := <-produced; err != nil {
		t.Fatal(err)
	}
	rest := lag()
	stored := countRows(t, got, "card", tx.Cols[tx.Schema.Index("card")])
	t.Logf("stopped by SIGTERM mid-stream: %d records stored, %d committed, %d to go: %s", stored, int64(tx.Len)-rest, rest, lastLine(out))
	if stored != int64(tx.Len)-rest || rest == int64(tx.Len) {
		t.Errorf("%d rows stored, but the committed offsets say %d of %d records", stored, int64(tx.Len)-rest, tx.Len)
	}

	// Restarted: it catches up; every record is stored once.
	out = run(func() bool { return lag() == 0 })
	t.Logf("restarted, caught up, stopped by SIGTERM: %s", lastLine(out))
	if rows := sameKeys(t, want, got, "tx", "card", tx.Cols[tx.Schema.Index("card")]); rows != tx.Len {
		t.Errorf("read back %d rows, want %d", rows, tx.Len)
	}
}

// countRows counts the rows stored under every key of col in table tx.
func countRows(t *testing.T, s *bigtable.Store, key string, col types.Column) int64 {
	t.Helper()
	seen := map[types.Value]bool{}
	var n int64
	for i := range col.Len() {
		k := col.Value(i)
		if seen[k] {
			continue
		}
		seen[k] = true
		b, err := s.Read(context.Background(), storage.Range{Table: "tx", Keys: []string{key}, Values: []types.Value{k}, From: -1 << 62, To: 1 << 62})
		if err != nil {
			t.Fatal(err)
		}
		n += int64(b.Len)
	}
	return n
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
