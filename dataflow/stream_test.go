package dataflow_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/fenestra-dev/fenestra/dataflow"
	"github.com/fenestra-dev/fenestra/emulators"
	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/datafile"
	"github.com/fenestra-dev/fenestra/internal/records"
	"github.com/fenestra-dev/fenestra/storage"
	"github.com/fenestra-dev/fenestra/storage/bigtable"
)

// streamEnv is a Kafka emulator and a Bigtable emulator with the tables
// of materializeSQL.
type streamEnv struct {
	mod     *featurelang.Module
	brokers string
	target  dataflow.BigtableTarget
	store   *bigtable.Store
}

func newStreamEnv(t *testing.T, partitions map[string]int) *streamEnv {
	t.Helper()
	return newStreamEnvSQL(t, materializeSQL, partitions)
}

// newStreamEnvSQL is newStreamEnv with the tables of sql.
func newStreamEnvSQL(t *testing.T, sql string, partitions map[string]int) *streamEnv {
	t.Helper()
	ctx := context.Background()
	mod, err := featurelang.Compile("m.sql", sql, featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	brokers, stopKafka, err := emulators.StartKafka("127.0.0.1:0", 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stopKafka)
	for topic, n := range partitions {
		if err := emulators.CreateTopic(ctx, brokers, topic, n); err != nil {
			t.Fatal(err)
		}
	}
	store, addr := emulatorStore(t, mod.Tables)
	return &streamEnv{mod: mod, brokers: brokers, store: store,
		target: dataflow.BigtableTarget{Project: "p", Instance: "i", EmulatorHost: addr}}
}

// produce sends the rows of blk to topic as JSON objects keyed by the
// table's first index key, and returns the records as Kafka acknowledged
// them (with partitions and offsets).
func (e *streamEnv) produce(t *testing.T, topic string, tb *plan.Table, blk *types.Block) []*kgo.Record {
	t.Helper()
	var recs []*kgo.Record
	key := tb.Schema.Index(tb.Indexes[0].Keys[0])
	for i := range blk.Len {
		v := datafile.AppendRow(nil, datafile.JSONL, blk, i)
		recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(blk.Cols[key].Value(i).String()), Value: v[:len(v)-1]})
	}
	return e.produceRecords(t, recs)
}

func (e *streamEnv) produceRecords(t *testing.T, recs []*kgo.Record) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers), kgo.ProducerLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	return recs
}

// startStream runs job in the background until the returned stop is
// called; stop drains the stream and returns the pipeline's error, nil
// when it ran until stopped.
func startStream(t *testing.T, job dataflow.StreamJob) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p, s := beam.NewPipelineWithRoot()
	if err := dataflow.Stream(ctx, s, job); err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := dataflow.Run(context.Background(), p)
		done <- err
	}()
	return func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			return errors.New("the stream did not drain within 30 s of its stop")
		}
	}
}

// waitWritten waits until the stream counters reach written rows and bad
// records, or fails.
func waitWritten(t *testing.T, written, bad int64, done <-chan struct{}) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if dataflow.StreamProgress.Written.Load() >= written && dataflow.StreamProgress.Bad.Load() >= bad {
			return
		}
		select {
		case <-done:
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("after 60 s: %d rows written, %d bad records; want %d and %d", dataflow.StreamProgress.Written.Load(), dataflow.StreamProgress.Bad.Load(), written, bad)
}

func resetStreamProgress() {
	dataflow.StreamProgress.Tiles.Store(0)
	dataflow.StreamProgress.Read.Store(0)
	dataflow.StreamProgress.Written.Store(0)
	dataflow.StreamProgress.Bad.Store(0)
}

// TestStreamReadBack streams random rows of two tables (NULL keys, ties)
// from Kafka into the Bigtable emulator on prism, and reads every key of
// every index back: the rows must be those storage.Mem holds after
// writing the same rows with the sequence numbers of their records.
// Records produced while the stream runs are stored too, and a second run
// of the same group reads nothing again (its offsets were committed).
func TestStreamReadBack(t *testing.T) {
	resetStreamProgress()
	e := newStreamEnv(t, map[string]int{"tx": 3, "users": 2})
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(11, 11))
	data := map[string]*types.Block{
		"tx":    randomRows(rng, e.mod.Tables[0].Schema, 3000),
		"users": randomRows(rng, e.mod.Tables[1].Schema, 500),
	}
	want := storage.NewMem(nil)
	if err := want.Init(ctx, e.mod.Tables); err != nil {
		t.Fatal(err)
	}
	expect := func(tb *plan.Table, blk *types.Block, recs []*kgo.Record) {
		seqs := make([]uint64, len(recs))
		for i, r := range recs {
			var err error
			if seqs[i], err = records.Seq(r.Partition, r.Offset); err != nil {
				t.Fatal(err)
			}
		}
		if err := want.Write(ctx, tb.Name, blk, seqs); err != nil {
			t.Fatal(err)
		}
	}
	// Half the rows wait in Kafka before the stream starts, half come while it runs.
	for _, tb := range e.mod.Tables {
		blk := data[tb.Name]
		first := blk.Gather(seq(0, blk.Len/2))
		expect(tb, first, e.produce(t, tb.Name, tb, first))
	}
	job := dataflow.StreamJob{Tables: e.mod.Tables, Topics: []string{"tx", "users"}, Brokers: e.brokers, Group: "g1", Target: e.target}
	stop := startStream(t, job)
	for _, tb := range e.mod.Tables {
		blk := data[tb.Name]
		rest := blk.Gather(seq(blk.Len/2, blk.Len))
		expect(tb, rest, e.produce(t, tb.Name, tb, rest))
	}
	waitWritten(t, 3500, 0, nil)
	if err := stop(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	if n := compareStores(t, e.mod.Tables, data, want, e.store); n < 3500 {
		t.Errorf("compared %d rows", n)
	}
	if n := dataflow.StreamProgress.Written.Load(); n != 3500 {
		t.Errorf("%d rows written, want 3500", n)
	}

	// A restart of the group resumes after the committed offsets.
	resetStreamProgress()
	stop = startStream(t, job)
	extra := randomRows(rng, e.mod.Tables[0].Schema, 10)
	expect(e.mod.Tables[0], extra, e.produce(t, "tx", e.mod.Tables[0], extra))
	waitWritten(t, 10, 0, nil)
	time.Sleep(200 * time.Millisecond)
	if err := stop(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	if n := dataflow.StreamProgress.Read.Load(); n != 10 {
		t.Errorf("the restarted stream read %d records, want 10 (the new ones)", n)
	}
	data["tx"] = types.Concat(data["tx"], extra)
	compareStores(t, e.mod.Tables, data, want, e.store)
}

// TestStreamBadRecords streams good rows with bad records among them (not
// JSON, a value of the wrong type, a missing column, an unknown column)
// under each policy: skip stores the good rows and counts the bad ones,
// dead-letter also forwards each bad record with its reason and origin,
// and fail stops the pipeline naming the first bad record's topic,
// partition and offset.
func TestStreamBadRecords(t *testing.T) {
	bad := []string{
		`not json`,
		`{"uid":"u1","score":"high","updated":1700000000000}`,
		`{"uid":"u1","updated":1700000000000}`,
		`{"uid":"u1","score":1,"updated":1700000000000,"extra":2}`,
	}
	for _, policy := range []string{"skip", "dead-letter=dlq", "fail"} {
		t.Run(policy, func(t *testing.T) {
			resetStreamProgress()
			e := newStreamEnv(t, map[string]int{"users": 1, "dlq": 1})
			users := e.mod.Tables[1]
			good := randomRows(rand.New(rand.NewPCG(3, 3)), users.Schema, 20)
			good.Cols[0].Nulls, good.Cols[2].Nulls = nil, nil // keys and times are not NULL here
			for i := range good.Len {
				good.Cols[0].S[i] = fmt.Sprintf("u%d", i)
			}
			recs := e.produce(t, "users", users, good.Gather(seq(0, 10)))
			var badRecs []*kgo.Record
			for _, v := range bad {
				badRecs = append(badRecs, &kgo.Record{Topic: "users", Value: []byte(v)})
			}
			badRecs = e.produceRecords(t, badRecs)
			recs = append(recs, e.produce(t, "users", users, good.Gather(seq(10, 20)))...)
			p, err := records.ParsePolicy(policy)
			if err != nil {
				t.Fatal(err)
			}
			job := dataflow.StreamJob{Tables: []*plan.Table{users}, Topics: []string{"users"}, Brokers: e.brokers, Group: "g", Target: e.target, BadRecords: p}
			stop := startStream(t, job)
			if p.Mode == records.Fail {
				deadline := time.Now().Add(60 * time.Second)
				for dataflow.StreamProgress.Bad.Load() == 0 && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
				}
				err := stop()
				want := fmt.Sprintf("topic users partition 0 offset %d: malformed JSON", badRecs[0].Offset)
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("the stream ended with %v, want an error naming %q", err, want)
				}
				if lag, err := dataflow.StreamLag(context.Background(), e.brokers, "g", []string{"users"}); err != nil || lag < 14 {
					t.Errorf("lag %d (%v) after the failure, want at least 14: nothing from the bad record on committed", lag, err)
				}
				return
			}
			waitWritten(t, 20, 4, nil)
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			if n := dataflow.StreamProgress.Bad.Load(); n != 4 {
				t.Errorf("%d bad records counted, want 4", n)
			}
			want := storage.NewMem(nil)
			if err := want.Init(context.Background(), e.mod.Tables); err != nil {
				t.Fatal(err)
			}
			seqs := make([]uint64, len(recs))
			for i, r := range recs {
				seqs[i], _ = records.Seq(r.Partition, r.Offset)
			}
			if err := want.Write(context.Background(), "users", good, seqs); err != nil {
				t.Fatal(err)
			}
			if n := compareStores(t, []*plan.Table{users}, map[string]*types.Block{"users": good}, want, e.store); n != 20 {
				t.Errorf("compared %d rows, want 20", n)
			}
			if p.Mode == records.DeadLetter {
				dead := consumeAll(t, e.brokers, "dlq", 4)
				for i, r := range dead {
					h := map[string]string{}
					for _, kv := range r.Headers {
						h[kv.Key] = string(kv.Value)
					}
					if string(r.Value) != bad[i] || h[records.SourceHeader] != fmt.Sprintf("users/0/%d", badRecs[i].Offset) ||
						!strings.Contains(h[records.ErrorHeader], fmt.Sprintf("offset %d", badRecs[i].Offset)) {
						t.Errorf("dead letter %d: value %q headers %v, want %q from offset %d", i, r.Value, h, bad[i], badRecs[i].Offset)
					}
				}
			}
		})
	}
}

// consumeAll reads n records of topic from its start.
func consumeAll(t *testing.T, brokers, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("%d of %d records of %s: %v", len(out), n, topic, err)
		}
		out = append(out, fs.Records()...)
	}
	return out
}
