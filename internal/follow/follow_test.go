package follow_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/fenestra-dev/fenestra/emulators"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/follow"
	"github.com/fenestra-dev/fenestra/internal/producer"
	"github.com/fenestra-dev/fenestra/internal/records"
)

// waitLimit bounds every wait of these tests.
const waitLimit = 30 * time.Second

var (
	txTable = &plan.Table{Name: "tx",
		Schema:  types.Schema{{Name: "card", Type: types.String}, {Name: "amount", Type: types.Double}, {Name: "ts", Type: types.Timestamp}},
		Indexes: []*plan.Index{{Keys: []string{"card"}, TS: "ts"}}}
	usersTable = &plan.Table{Name: "users",
		Schema:  types.Schema{{Name: "uid", Type: types.String}, {Name: "score", Type: types.Int32}, {Name: "updated", Type: types.Timestamp}},
		Indexes: []*plan.Index{{Keys: []string{"uid"}, TS: "updated"}}}
)

// TestFollowAppliesEveryRow: rows produced before the Follower starts
// are all applied, in blocks, each with the sequence number of its record
// and the values records decodes; Ready closes once the last is applied.
func TestFollowAppliesEveryRow(t *testing.T) {
	t.Parallel()
	brokers := startKafka(t, map[string]int{"tx": 3})
	recs := produceRows(t, brokers, txTable, "tx", rows(txTable, 0, 3000))
	f := newFollower(t, follow.Config{Brokers: brokers, Group: "fenestra-stream", Topics: map[string]string{"tx": "tx"},
		Schemas: map[string]types.Schema{"tx": txTable.Schema}})
	st := f.Stats()
	if len(st.Partitions) != 3 || targets(st) != 3000 || st.Applied != 0 {
		t.Fatalf("before Run: %+v, want 3 partitions of 3000 records in all, none applied", st)
	}
	select {
	case <-f.Ready():
		t.Fatal("ready before Run")
	default:
	}
	s := newSink()
	run(t, f, s.apply)
	waitReady(t, f)
	s.check(t, "tx", want(t, txTable, recs)) // all of them as Ready closes
	n := s.callCount("tx")
	t.Logf("%d rows in %d calls of Apply", len(recs), n)
	if n == 0 || n*10 > len(recs) {
		t.Errorf("%d calls of Apply for %d rows: want blocks of rows", n, len(recs))
	}
	st = f.Stats()
	if st.Applied != 3000 || st.Bad != 0 {
		t.Errorf("stats: %d applied, %d bad; want 3000, 0", st.Applied, st.Bad)
	}
	for _, p := range st.Partitions {
		if p.Table != "tx" || p.Topic != "tx" || p.Start != 0 || p.Next != p.Target || p.HighWatermark != p.Target {
			t.Errorf("partition %+v: want table and topic tx, from 0 to its target", p)
		}
	}
	if err := f.Err(); err != nil {
		t.Errorf("Err while running: %v", err)
	}
}

// TestFollowStartOffsets: following starts at the group's committed
// offsets, never before a partition's log start, and at the log start
// for a group that committed nothing; no record before the start is
// applied. Offsets committed at the end make the Follower ready at once.
func TestFollowStartOffsets(t *testing.T) {
	t.Parallel()
	brokers := startKafka(t, map[string]int{"tx": 2})
	recs := produceRows(t, brokers, txTable, "tx", rows(txTable, 0, 400))
	ends := map[int32]int64{}
	for _, r := range recs {
		ends[r.Partition] = max(ends[r.Partition], r.Offset+1)
	}
	if ends[0] < 40 || ends[1] < 40 {
		t.Fatalf("records per partition: %v; the keys should spread them", ends)
	}
	adm := admin(t, brokers)
	deleteBefore(t, adm, "tx", 0, 20) // partition 0's log starts at 20
	tests := []struct {
		group   string
		commits map[int32]int64
		starts  map[int32]int64
	}{
		{"fresh", nil, map[int32]int64{0: 20, 1: 0}},
		{"middle", map[int32]int64{0: ends[0] / 2, 1: ends[1] / 3}, map[int32]int64{0: ends[0] / 2, 1: ends[1] / 3}},
		{"before-log-start", map[int32]int64{0: 5}, map[int32]int64{0: 20, 1: 0}},
		{"at-end", ends, ends},
	}
	for _, tc := range tests {
		t.Run(tc.group, func(t *testing.T) {
			t.Parallel()
			commit(t, adm, tc.group, "tx", tc.commits)
			f := newFollower(t, follow.Config{Brokers: brokers, Group: tc.group, Topics: map[string]string{"tx": "tx"},
				Schemas: map[string]types.Schema{"tx": txTable.Schema}})
			for _, p := range f.Stats().Partitions {
				if p.Start != tc.starts[p.Partition] || p.Next != p.Start || p.Target != ends[p.Partition] {
					t.Errorf("partition %d: start %d next %d target %d, want start %d, target %d",
						p.Partition, p.Start, p.Next, p.Target, tc.starts[p.Partition], ends[p.Partition])
				}
			}
			if maps.Equal(tc.starts, ends) {
				select {
				case <-f.Ready():
				default:
					t.Error("nothing to apply, yet not ready before Run")
				}
			}
			s := newSink()
			run(t, f, s.apply)
			waitReady(t, f)
			var from []*kgo.Record
			for _, r := range recs {
				if r.Offset >= tc.starts[r.Partition] {
					from = append(from, r)
				}
			}
			s.check(t, "tx", want(t, txTable, from))
		})
	}
}

// TestFollowAfterReady: records produced after the Follower caught up
// are applied too.
func TestFollowAfterReady(t *testing.T) {
	t.Parallel()
	brokers := startKafka(t, map[string]int{"tx": 2})
	blk := rows(txTable, 0, 300)
	recs := produceRows(t, brokers, txTable, "tx", blk.Gather(span(0, 100)))
	f := newFollower(t, follow.Config{Brokers: brokers, Group: "g", Topics: map[string]string{"tx": "tx"},
		Schemas: map[string]types.Schema{"tx": txTable.Schema}})
	s := newSink()
	run(t, f, s.apply)
	waitReady(t, f)
	for _, part := range [][]int{span(100, 250), span(250, 300)} {
		recs = append(recs, produceRows(t, brokers, txTable, "tx", blk.Gather(part))...)
	}
	waitFor(t, "300 rows applied", func() bool { return s.count("tx") >= 300 })
	s.check(t, "tx", want(t, txTable, recs))
	if st := f.Stats(); st.Applied != 300 {
		t.Errorf("%d rows applied, want 300", st.Applied)
	}
}

// TestFollowTablesAndPartitions: two tables from two topics of several
// partitions, each table's rows applied under its name.
func TestFollowTablesAndPartitions(t *testing.T) {
	t.Parallel()
	brokers := startKafka(t, map[string]int{"tx-topic": 3, "users-topic": 2})
	txRecs := produceRows(t, brokers, txTable, "tx-topic", rows(txTable, 0, 1000))
	userRecs := produceRows(t, brokers, usersTable, "users-topic", rows(usersTable, 1, 300))
	f := newFollower(t, follow.Config{Brokers: brokers, Group: "fenestra-stream",
		Topics:  map[string]string{"tx": "tx-topic", "users": "users-topic"},
		Schemas: map[string]types.Schema{"tx": txTable.Schema, "users": usersTable.Schema}})
	s := newSink()
	s.schemas = map[string]types.Schema{"tx": txTable.Schema, "users": usersTable.Schema}
	run(t, f, s.apply)
	waitReady(t, f)
	s.check(t, "tx", want(t, txTable, txRecs))
	s.check(t, "users", want(t, usersTable, userRecs))
	var got []string
	for _, p := range f.Stats().Partitions {
		got = append(got, fmt.Sprintf("%s/%s/%d", p.Table, p.Topic, p.Partition))
	}
	if w := "tx/tx-topic/0 tx/tx-topic/1 tx/tx-topic/2 users/users-topic/0 users/users-topic/1"; strings.Join(got, " ") != w {
		t.Errorf("partitions %v, want %s", got, w)
	}
}

// TestFollowBadRecords: under Skip (and DeadLetter, the Follower never
// produces) a bad record is counted and passed over; under Fail following
// stops at it with an error naming its topic, partition and offset, after
// the rows before it, and Err reports it.
func TestFollowBadRecords(t *testing.T) {
	t.Parallel()
	brokers := startKafka(t, map[string]int{"tx": 1})
	blk := rows(txTable, 0, 25)
	recs := produceRows(t, brokers, txTable, "tx", blk.Gather(span(0, 10)))
	produceRecords(t, brokers, txTable, []*kgo.Record{{Topic: "tx", Value: []byte("not json")}}) // offset 10
	recs = append(recs, produceRows(t, brokers, txTable, "tx", blk.Gather(span(10, 20)))...)
	produceRecords(t, brokers, txTable, []*kgo.Record{{Topic: "tx", Value: []byte(`{"card":"c1"}`)}}) // offset 21
	recs = append(recs, produceRows(t, brokers, txTable, "tx", blk.Gather(span(20, 25)))...)

	for _, policy := range []string{"skip", "dead-letter=dlq", "fail"} {
		t.Run(policy, func(t *testing.T) {
			t.Parallel()
			p, err := records.ParsePolicy(policy)
			if err != nil {
				t.Fatal(err)
			}
			f := newFollower(t, follow.Config{Brokers: brokers, Group: "g", Topics: map[string]string{"tx": "tx"},
				Schemas: map[string]types.Schema{"tx": txTable.Schema}, Bad: p})
			s := newSink()
			errc := run(t, f, s.apply)
			if p.Mode != records.Fail {
				waitReady(t, f)
				s.check(t, "tx", want(t, txTable, recs))
				if st := f.Stats(); st.Bad != 2 || st.Applied != 25 || st.Partitions[0].Next != 27 {
					t.Errorf("stats %+v: want 25 applied, 2 bad, next 27", st)
				}
				return
			}
			err = waitRun(t, errc)
			var re *records.Error
			if !errors.As(err, &re) || re.Topic != "tx" || re.Partition != 0 || re.Offset != 10 ||
				!strings.Contains(err.Error(), "topic tx partition 0 offset 10") {
				t.Fatalf("Run: %v; want the bad record at topic tx partition 0 offset 10", err)
			}
			if got := f.Err(); got != err {
				t.Errorf("Err: %v, want Run's %v", got, err)
			}
			s.check(t, "tx", want(t, txTable, recs[:10]))
			if st := f.Stats(); st.Bad != 0 || st.Applied != 10 || st.Partitions[0].Next != 10 {
				t.Errorf("stats %+v: want 10 applied, 0 skipped, next 10", st)
			}
			select {
			case <-f.Ready():
				t.Error("ready, though following stopped at offset 10 of 27")
			default:
			}
		})
	}
}

// TestFollowApplyError: an error of Apply stops following; Run returns
// it and Err reports it.
func TestFollowApplyError(t *testing.T) {
	t.Parallel()
	brokers := startKafka(t, map[string]int{"tx": 1})
	produceRows(t, brokers, txTable, "tx", rows(txTable, 0, 10))
	f := newFollower(t, follow.Config{Brokers: brokers, Group: "g", Topics: map[string]string{"tx": "tx"},
		Schemas: map[string]types.Schema{"tx": txTable.Schema}})
	full := errors.New("tier full")
	err := waitRun(t, run(t, f, func(string, *types.Block, []uint64) error { return full }))
	if !errors.Is(err, full) || !strings.Contains(err.Error(), "table tx") {
		t.Fatalf("Run: %v, want the error of Apply, naming the table", err)
	}
	if !errors.Is(f.Err(), full) {
		t.Errorf("Err: %v, want the error of Apply", f.Err())
	}
	if st := f.Stats(); st.Applied != 0 || st.Partitions[0].Next != 0 {
		t.Errorf("stats %+v: nothing was applied", st)
	}
}

// TestFollowOffsetOutOfRange: records deleted between New and Run (by
// retention, say) stop following with an error, not a jump past them.
func TestFollowOffsetOutOfRange(t *testing.T) {
	t.Parallel()
	brokers := startKafka(t, map[string]int{"tx": 1})
	produceRows(t, brokers, txTable, "tx", rows(txTable, 0, 50))
	adm := admin(t, brokers)
	commit(t, adm, "g", "tx", map[int32]int64{0: 30})
	f := newFollower(t, follow.Config{Brokers: brokers, Group: "g", Topics: map[string]string{"tx": "tx"},
		Schemas: map[string]types.Schema{"tx": txTable.Schema}})
	deleteBefore(t, adm, "tx", 0, 40)
	s := newSink()
	err := waitRun(t, run(t, f, s.apply))
	if !errors.Is(err, kerr.OffsetOutOfRange) || !strings.Contains(err.Error(), "topic tx partition 0 at offset 30") {
		t.Fatalf("Run: %v, want OffsetOutOfRange at topic tx partition 0 offset 30", err)
	}
	if s.count("tx") != 0 || !errors.Is(f.Err(), kerr.OffsetOutOfRange) {
		t.Errorf("%d rows applied, Err %v; want none and the error", s.count("tx"), f.Err())
	}
}

// TestFollowTransactions: only committed records are applied, and a
// partition whose last records are an aborted transaction is caught up
// once its marker is read.
func TestFollowTransactions(t *testing.T) {
	t.Parallel()
	brokers := startKafka(t, map[string]int{"tx": 1})
	blk := rows(txTable, 0, 15)
	p, err := producer.New(brokers, "tx", txTable)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	committed := p.Records(blk, 0, 10)
	transact(t, brokers, committed, kgo.TryCommit)
	transact(t, brokers, p.Records(blk, 10, 15), kgo.TryAbort)
	f := newFollower(t, follow.Config{Brokers: brokers, Group: "g", Topics: map[string]string{"tx": "tx"},
		Schemas: map[string]types.Schema{"tx": txTable.Schema}})
	if target := f.Stats().Partitions[0].Target; target != 17 { // 15 records, 2 markers
		t.Fatalf("high watermark %d, want 17", target)
	}
	s := newSink()
	run(t, f, s.apply)
	waitReady(t, f)
	s.check(t, "tx", want(t, txTable, committed))
}

// TestNewErrors: New refuses a Config it cannot follow.
func TestNewErrors(t *testing.T) {
	t.Parallel()
	brokers := startKafka(t, map[string]int{"tx": 1})
	schemas := map[string]types.Schema{"tx": txTable.Schema, "users": usersTable.Schema}
	tests := []struct {
		name string
		cfg  follow.Config
		want string
	}{
		{"no brokers", follow.Config{Brokers: " ", Group: "g", Topics: map[string]string{"tx": "tx"}, Schemas: schemas}, "no Kafka brokers"},
		{"no group", follow.Config{Brokers: brokers, Topics: map[string]string{"tx": "tx"}, Schemas: schemas}, "no consumer group"},
		{"no tables", follow.Config{Brokers: brokers, Group: "g", Schemas: schemas}, "no tables"},
		{"no topic", follow.Config{Brokers: brokers, Group: "g", Topics: map[string]string{"tx": ""}, Schemas: schemas}, "table tx has no topic"},
		{"no schema", follow.Config{Brokers: brokers, Group: "g", Topics: map[string]string{"orders": "tx"}, Schemas: schemas}, "table orders has no schema"},
		{"shared topic", follow.Config{Brokers: brokers, Group: "g", Topics: map[string]string{"tx": "tx", "users": "tx"}, Schemas: schemas},
			"tables tx and users both take topic tx"},
		{"missing topic", follow.Config{Brokers: brokers, Group: "g", Topics: map[string]string{"tx": "nope"}, Schemas: schemas}, "topic nope"},
		{"no broker answers", follow.Config{Brokers: "127.0.0.1:1", Group: "g", Topics: map[string]string{"tx": "tx"}, Schemas: schemas}, "listing partitions"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			f, err := follow.New(ctx, tc.cfg)
			if err == nil {
				f.Close()
				t.Fatalf("New accepted %+v", tc.cfg)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: %v, want %q", err, tc.want)
			}
		})
	}
}

// TestFollowStop: Run returns promptly with ctx's error when ctx is
// cancelled, and ErrClosed when Close stops it (or came first); a second
// Run returns ErrRunAgain.
func TestFollowStop(t *testing.T) {
	t.Parallel()
	brokers := startKafka(t, map[string]int{"tx": 1})
	produceRows(t, brokers, txTable, "tx", rows(txTable, 0, 10))
	cfg := follow.Config{Brokers: brokers, Group: "g", Topics: map[string]string{"tx": "tx"},
		Schemas: map[string]types.Schema{"tx": txTable.Schema}}
	nop := func(string, *types.Block, []uint64) error { return nil }

	t.Run("cancel", func(t *testing.T) {
		t.Parallel()
		f := newFollower(t, cfg)
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- f.Run(ctx, nop) }()
		waitReady(t, f)
		cancel()
		if err := waitPrompt(t, errc); !errors.Is(err, context.Canceled) {
			t.Errorf("Run: %v, want context.Canceled", err)
		}
		if err := f.Err(); !errors.Is(err, context.Canceled) {
			t.Errorf("Err: %v, want context.Canceled", err)
		}
		if err := f.Run(context.Background(), nop); !errors.Is(err, follow.ErrRunAgain) {
			t.Errorf("second Run: %v, want ErrRunAgain", err)
		}
	})
	t.Run("close", func(t *testing.T) {
		t.Parallel()
		f := newFollower(t, cfg)
		errc := make(chan error, 1)
		go func() { errc <- f.Run(context.Background(), nop) }()
		waitReady(t, f)
		f.Close()
		if err := waitPrompt(t, errc); !errors.Is(err, follow.ErrClosed) {
			t.Errorf("Run: %v, want ErrClosed", err)
		}
		f.Close() // again: nothing
	})
	t.Run("close first", func(t *testing.T) {
		t.Parallel()
		f := newFollower(t, cfg)
		f.Close()
		if err := f.Run(context.Background(), nop); !errors.Is(err, follow.ErrClosed) {
			t.Errorf("Run after Close: %v, want ErrClosed", err)
		}
	})
}

// TestCloseReleasesClient: once closed, a Follower leaves no goroutine
// of its Kafka client behind. Not parallel: it counts goroutines.
func TestCloseReleasesClient(t *testing.T) {
	brokers := startKafka(t, map[string]int{"tx": 2})
	produceRows(t, brokers, txTable, "tx", rows(txTable, 0, 50))
	before := clientGoroutines()
	f, err := follow.New(context.Background(), follow.Config{Brokers: brokers, Group: "g",
		Topics: map[string]string{"tx": "tx"}, Schemas: map[string]types.Schema{"tx": txTable.Schema}})
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- f.Run(context.Background(), func(string, *types.Block, []uint64) error { return nil }) }()
	waitReady(t, f)
	if n := clientGoroutines(); n <= before {
		t.Fatalf("%d client goroutines while following, %d before: the count sees nothing", n, before)
	}
	f.Close()
	waitPrompt(t, errc)
	waitFor(t, "the client's goroutines to end", func() bool { return clientGoroutines() <= before })
}

// clientGoroutines counts the goroutines running franz-go's client.
func clientGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "franz-go/pkg/kgo.") && !strings.Contains(g, "franz-go/pkg/kfake.") {
			count++
		}
	}
	return count
}

// startKafka starts a Kafka emulator with the topics (name -> partitions)
// for the test.
func startKafka(t *testing.T, topics map[string]int) string {
	t.Helper()
	brokers, stop, err := emulators.StartKafka("127.0.0.1:0", 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	for topic, n := range topics {
		if err := emulators.CreateTopic(ctxT(t), brokers, topic, n); err != nil {
			t.Fatal(err)
		}
	}
	return brokers
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	t.Cleanup(cancel)
	return ctx
}

// rows returns n rows of tb's schema (NULLs and repeated keys among
// them), different for each seed.
func rows(tb *plan.Table, seed, n int) *types.Block {
	b := types.NewBlock(tb.Schema, n)
	row := make([]types.Value, len(tb.Schema))
	for i := range n {
		for c, col := range tb.Schema {
			k := i*7 + c*13 + seed*101
			switch {
			case k%17 == 0 && c > 0:
				row[c] = types.NullOf(col.Type)
			case col.Type == types.String:
				row[c] = types.StringValue(fmt.Sprintf("%s%d", col.Name[:1], k%23))
			case col.Type == types.Double:
				row[c] = types.DoubleValue(float64(k%1000) / 8)
			case col.Type == types.Int32:
				row[c] = types.IntValue(types.Int32, int64(k%500-250))
			case col.Type == types.Timestamp:
				row[c] = types.TimestampValue(1_700_000_000_000 + int64(i)*1000)
			}
		}
		b.AppendRow(row)
	}
	return b
}

func span(lo, hi int) []int {
	out := make([]int, 0, hi-lo)
	for i := lo; i < hi; i++ {
		out = append(out, i)
	}
	return out
}

// produceRows produces the rows of b to topic as internal/producer does
// for fenestra stream, and returns the records as Kafka acknowledged them.
func produceRows(t *testing.T, brokers string, tb *plan.Table, topic string, b *types.Block) []*kgo.Record {
	t.Helper()
	p, err := producer.New(brokers, topic, tb)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	recs := p.Records(b, 0, b.Len)
	if err := p.Send(ctxT(t), recs); err != nil {
		t.Fatal(err)
	}
	return recs
}

// produceRecords produces records as they are (bad ones, say).
func produceRecords(t *testing.T, brokers string, tb *plan.Table, recs []*kgo.Record) {
	t.Helper()
	p, err := producer.New(brokers, recs[0].Topic, tb)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Send(ctxT(t), recs); err != nil {
		t.Fatal(err)
	}
}

// transact produces recs in one transaction, committed or aborted.
func transact(t *testing.T, brokers string, recs []*kgo.Record, end kgo.TransactionEndTry) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers), kgo.TransactionalID(fmt.Sprintf("txn-%v", end)))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(ctxT(t), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := cl.EndTransaction(ctxT(t), end); err != nil {
		t.Fatal(err)
	}
}

func admin(t *testing.T, brokers string) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

// commit commits offsets (partition -> offset) of topic for group, as
// the stream does.
func commit(t *testing.T, adm *kadm.Client, group, topic string, offsets map[int32]int64) {
	t.Helper()
	if len(offsets) == 0 {
		return
	}
	var os kadm.Offsets
	for p, o := range offsets {
		os.AddOffset(topic, p, o, -1)
	}
	resp, err := adm.CommitOffsets(ctxT(t), group, os)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatal(err)
	}
}

// deleteBefore deletes the records of a partition before offset: its log
// then starts there.
func deleteBefore(t *testing.T, adm *kadm.Client, topic string, partition int32, offset int64) {
	t.Helper()
	var os kadm.Offsets
	os.AddOffset(topic, partition, offset, -1)
	resp, err := adm.DeleteRecords(ctxT(t), os)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatal(err)
	}
}

// want returns the rows records decodes from recs, as text, by sequence
// number: what the stream stores of them.
func want(t *testing.T, tb *plan.Table, recs []*kgo.Record) map[uint64]string {
	t.Helper()
	dec := records.NewDecoder(tb.Name, tb.Schema)
	out := map[uint64]string{}
	for _, r := range recs {
		b := types.NewBlock(tb.Schema, 1)
		seqs, err := dec.Append(b, nil, records.Record{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Value: r.Value})
		if err != nil {
			t.Fatal(err)
		}
		seq, err := records.Seq(r.Partition, r.Offset)
		if err != nil || seqs[0] != seq {
			t.Fatalf("decoder numbered %x, records.Seq %x (%v)", seqs[0], seq, err)
		}
		out[seq] = rowText(b, 0)
	}
	return out
}

func rowText(b *types.Block, i int) string { return fmt.Sprint(b.Row(i, nil)) }

// newFollower returns a Follower of cfg, closed when the test ends.
func newFollower(t *testing.T, cfg follow.Config) *follow.Follower {
	t.Helper()
	f, err := follow.New(ctxT(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f
}

// run runs f until the test ends, and returns Run's outcome.
func run(t *testing.T, f *follow.Follower, apply follow.Apply) <-chan error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	errc := make(chan error, 1)
	go func() { errc <- f.Run(ctx, apply) }()
	return errc
}

// waitRun waits for Run to stop by itself and returns its error.
func waitRun(t *testing.T, errc <-chan error) error {
	t.Helper()
	select {
	case err := <-errc:
		return err
	case <-time.After(waitLimit):
		t.Fatalf("Run still running after %v", waitLimit)
		return nil
	}
}

// waitPrompt waits for a stopped Run to return, briefly.
func waitPrompt(t *testing.T, errc <-chan error) error {
	t.Helper()
	select {
	case err := <-errc:
		return err
	case <-time.After(2 * time.Second):
		t.Fatal("Run still running 2 s after it was stopped")
		return nil
	}
}

// waitReady waits for f to be ready, failing if following stops first.
func waitReady(t *testing.T, f *follow.Follower) {
	t.Helper()
	deadline := time.After(waitLimit)
	for {
		select {
		case <-f.Ready():
			return
		case <-deadline:
			t.Fatalf("not ready after %v: %+v", waitLimit, f.Stats())
		case <-time.After(10 * time.Millisecond):
			if err := f.Err(); err != nil {
				t.Fatalf("following stopped before it was ready: %v", err)
			}
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", waitLimit, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sink is an Apply that keeps the rows it is given, checking that each
// partition's rows come in offset order, once.
type sink struct {
	mu      sync.Mutex
	schemas map[string]types.Schema // of the tables, when set
	rows    map[string]map[uint64]string
	calls   map[string]int
	last    map[string]map[uint64]uint64 // table -> partition -> last seq
	errs    []string
}

func newSink() *sink {
	return &sink{rows: map[string]map[uint64]string{}, calls: map[string]int{}, last: map[string]map[uint64]uint64{}}
}

func (s *sink) apply(table string, rows *types.Block, seqs []uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[table]++
	if rows.Len != len(seqs) || rows.Len == 0 {
		s.errs = append(s.errs, fmt.Sprintf("%s: %d rows, %d seqs", table, rows.Len, len(seqs)))
	}
	if want, ok := s.schemas[table]; ok && rows.Schema.String() != want.String() {
		s.errs = append(s.errs, fmt.Sprintf("%s: rows of schema %s", table, rows.Schema))
	}
	if s.rows[table] == nil {
		s.rows[table], s.last[table] = map[uint64]string{}, map[uint64]uint64{}
	}
	for i, seq := range seqs {
		part := seq >> 40
		if last, ok := s.last[table][part]; ok && seq <= last {
			s.errs = append(s.errs, fmt.Sprintf("%s: seq %x after %x", table, seq, last))
		}
		s.last[table][part] = seq
		s.rows[table][seq] = rowText(rows, i)
	}
	return nil
}

func (s *sink) count(table string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.rows[table])
}

func (s *sink) callCount(table string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[table]
}

// check compares the rows of table with want.
func (s *sink) check(t *testing.T, table string, want map[uint64]string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.errs {
		t.Error(e)
	}
	got := s.rows[table]
	for _, seq := range slices.Sorted(maps.Keys(want)) {
		if g, ok := got[seq]; !ok {
			t.Errorf("%s: row %x (%s) not applied", table, seq, want[seq])
		} else if g != want[seq] {
			t.Errorf("%s: row %x is %s, want %s", table, seq, g, want[seq])
		}
	}
	for seq, g := range got {
		if _, ok := want[seq]; !ok {
			t.Errorf("%s: row %x (%s) applied, not wanted", table, seq, g)
		}
	}
}

// targets sums the partitions' targets: the records to apply from 0.
func targets(st follow.Stats) int64 {
	var n int64
	for _, p := range st.Partitions {
		n += p.Target
	}
	return n
}
