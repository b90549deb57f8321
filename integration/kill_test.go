package integration

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/dataflow"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
	"github.com/fenestra-dev/fenestra/storage/bigtable"
)

// TestStreamKill9 kills `fenestra stream`, a real child process, with
// SIGKILL at random moments while transactions are produced, restarts it
// each time, and then requires the streamed store to hold every record
// exactly once: each card's rows read back equal those a materialize of
// the same events stored, and every card's features equal the batch
// evaluator's.
func TestStreamKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds fenestra and runs it as a child process")
	}
	c := newStreamChild(t, 40000, 9, "kill")
	d, view, blocks, emu, brokers, tx := c.d, c.view, c.blocks, c.emu, c.brokers, c.tx
	bin, args, env, want, got, produced := c.bin, c.args, c.env, c.want, c.got, c.produced
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for kill := range 6 {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		var out syncBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wait := time.Duration(100+rng.IntN(1000)) * time.Millisecond
		time.Sleep(wait)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		t.Logf("kill %d after %v: %v (%d records to go)", kill+1, wait, err, lag(t, brokers))
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("the stream ended before it was killed: %v\n%s", err, out.String())
		}
	}
	if err := <-produced; err != nil {
		t.Fatal(err)
	}

	// The last run catches up and stops on an interrupt.
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(out.String(), "streaming ") || lag(t, brokers) > 0 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("%d records to go after 2 minutes:\n%s", lag(t, brokers), out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the stream's interrupt: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "stream: stopped after") {
		t.Errorf("no summary line:\n%s", out.String())
	}

	rows := sameKeys(t, want, got, "tx", "card", tx.Cols[tx.Schema.Index("card")])
	if rows != tx.Len {
		t.Errorf("read back %d rows, want %d", rows, tx.Len)
	}
	requests := cardRequests(t, view, tx)
	if diff := differingRows(computeAll(t, d, emu, "str_", view, requests), batchAnswers(t, view, blocks, requests)); len(diff) > 0 {
		t.Errorf("%d of %d cards' features differ from the batch evaluator's, first %s", len(diff), requests.Len, cardOf(requests, diff[0]))
	}
}

func lag(t *testing.T, brokers string) int64 {
	t.Helper()
	n, err := dataflow.StreamLag(context.Background(), brokers, "kill", []string{"tx"})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// sameKeys reads every key of an index of table from both stores and
// requires the same rows; it returns how many rows it read.
func sameKeys(t *testing.T, want, got *bigtable.Store, table, key string, col types.Column) int {
	t.Helper()
	seen := map[types.Value]bool{}
	n := 0
	for i := range col.Len() {
		k := col.Value(i)
		if seen[k] {
			continue
		}
		seen[k] = true
		r := storage.Range{Table: table, Keys: []string{key}, Values: []types.Value{k}, From: -1 << 62, To: 1 << 62}
		w, err := want.Read(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		g, err := got.Read(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		if ws, gs := fmt.Sprint(w.Rows()), fmt.Sprint(g.Rows()); ws != gs {
			t.Fatalf("%s key %s: %d rows read back, want %d:\n%s\nwant\n%s", table, k, g.Len, w.Len, gs, ws)
		}
		n += g.Len
	}
	return n
}

// syncBuffer is a buffer a child process writes while a test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
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

// streamChild is a cards stream to run as `fenestra stream` child
// processes: the binary, the stores (want: a materialize of the events;
// got: the stream's, with prefix str_) and a producer already sending
// the transactions to topic tx, 200 every 20 ms (40,000 in about 4 s),
// in file order, so that each start of the stream finds a backlog.
type streamChild struct {
	*cardsStream
	tx        *types.Block
	bin       string
	args, env []string
	want, got *bigtable.Store
	produced  chan error // the producer's end
}

func newStreamChild(t *testing.T, rows int, seed uint64, group string) *streamChild {
	t.Helper()
	c := &streamChild{cardsStream: newCardsStream(t, rows, seed)}
	c.tx = c.blocks[c.view.RequestTable]
	c.bin = filepath.Join(t.TempDir(), "fenestra")
	if out, err := exec.Command("go", "build", "-o", c.bin, "../cmd/fenestra").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	c.want = c.d.load(t, c.emu, "mat_", "")
	c.got = c.d.load(t, c.emu, "str_", c.view.RequestTable)
	p := newTopic(t, c.brokers, "tx", c.d.mod.Tables[0])
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	c.produced = make(chan error, 1)
	wg.Go(func() {
		const chunk = 200
		for lo := 0; lo < c.tx.Len; lo += chunk {
			if err := p.Send(ctx, p.Records(c.tx, lo, min(lo+chunk, c.tx.Len))); err != nil {
				c.produced <- err
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		c.produced <- nil
	})
	c.args = []string{"stream", "--sql", c.d.sql, "--brokers", c.brokers, "--topic", "tx=tx", "--group", group, "--prefix", "str_", "--progress", "0"}
	c.env = append(os.Environ(), "BIGTABLE_EMULATOR_HOST="+c.emu)
	return c
}
