package emulators

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// kafkaTimeout bounds each step of a Kafka test: a franz-go client whose
// broker does not answer retries until its context ends.
const kafkaTimeout = 20 * time.Second

// TestStartKafka produces 1,000 records of 50 keys to a topic of 4
// partitions and reads them back by partition: every record once, the
// records of a key in one partition, in the order they were produced.
func TestStartKafka(t *testing.T) {
	t.Parallel()
	addr := kafkaT(t, "127.0.0.1:0", 1)
	if !strings.HasPrefix(addr, "127.0.0.1:") || strings.HasSuffix(addr, ":0") {
		t.Errorf("listening on %s, want a loopback address with a port", addr)
	}
	const topic, partitions, records, keys = "events", 4, 1000, 50
	ctx := ctxT(t)
	if err := CreateTopic(ctx, addr, topic, partitions); err != nil {
		t.Fatal(err)
	}
	var rs []*kgo.Record
	for i := range records {
		rs = append(rs, &kgo.Record{Topic: topic, Key: fmt.Appendf(nil, "key%02d", i%keys), Value: strconv.AppendInt(nil, int64(i), 10)})
	}
	if err := clientT(t, addr).ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatalf("producing: %v", err)
	}

	start := map[int32]kgo.Offset{}
	for p := range int32(partitions) {
		start[p] = kgo.NewOffset().AtStart()
	}
	consumer := clientT(t, addr, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: start}))
	seen := make([]bool, records)
	last := map[string]int{}          // key: the last record read
	partition := map[string]int32{}   // key: its partition
	perPartition := map[int32]int64{} // partition: records read
	for n := 0; n < records; {
		fetches := consumer.PollFetches(ctx)
		if err := fetches.Err0(); err != nil {
			t.Fatalf("consuming after %d records: %v", n, err)
		}
		for _, r := range fetches.Records() {
			n++
			i, err := strconv.Atoi(string(r.Value))
			if err != nil || i < 0 || i >= records || seen[i] {
				t.Fatalf("record %q at partition %d offset %d: unknown or read twice", r.Value, r.Partition, r.Offset)
			}
			seen[i] = true
			key := string(r.Key)
			if want := fmt.Sprintf("key%02d", i%keys); key != want {
				t.Errorf("record %d has key %s, want %s", i, key, want)
			}
			if p, ok := partition[key]; ok && p != r.Partition {
				t.Errorf("%s in partitions %d and %d", key, p, r.Partition)
			}
			if j, ok := last[key]; ok && j > i {
				t.Errorf("%s: record %d read after %d", key, i, j)
			}
			partition[key], last[key] = r.Partition, i
			perPartition[r.Partition]++
		}
	}
	// Nothing more: each partition ends where its records read end.
	ends, err := kadm.NewClient(clientT(t, addr)).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil || o.Offset != perPartition[o.Partition] {
			t.Errorf("partition %d ends at %d (%v), %d records read", o.Partition, o.Offset, o.Err, perPartition[o.Partition])
		}
	})
	if len(perPartition) != partitions || len(ends[topic]) != partitions {
		t.Errorf("records in %d partitions, %d partitions listed, want %d", len(perPartition), len(ends[topic]), partitions)
	}
}

// TestKafkaCreateTopic: creating a topic again with as many partitions is no
// error, with another count is.
func TestKafkaCreateTopic(t *testing.T) {
	t.Parallel()
	addr := kafkaT(t, "", 1)
	ctx := ctxT(t)
	for _, c := range []struct {
		brokers    string
		partitions int
		err        string
	}{
		{addr, 4, ""},
		{" " + addr + ", ", 4, ""},
		{addr, 3, "exists with 4 partitions, not 3"},
		{" , ", 4, "no brokers"},
	} {
		err := CreateTopic(ctx, c.brokers, "t", c.partitions)
		if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("CreateTopic(%q, %d): %v, want %q", c.brokers, c.partitions, err, c.err)
		}
	}
}

// TestKafkaAutoCreate: a topic a producer names is created with the
// emulator's default partition count.
func TestKafkaAutoCreate(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ partitions, want int }{{3, 3}, {0, 1}, {-2, 1}} {
		t.Run(strconv.Itoa(c.partitions), func(t *testing.T) {
			t.Parallel()
			addr := kafkaT(t, "", c.partitions)
			ctx := ctxT(t)
			cl := clientT(t, addr, kgo.AllowAutoTopicCreation())
			if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "auto", Value: []byte("v")}).FirstErr(); err != nil {
				t.Fatalf("producing: %v", err)
			}
			topics, err := kadm.NewClient(cl).ListTopics(ctx, "auto")
			if err != nil || topics["auto"].Err != nil || len(topics["auto"].Partitions) != c.want {
				t.Errorf("topic auto: %v %+v, want %d partitions", err, topics["auto"], c.want)
			}
		})
	}
}

// TestKafkaGroupOffsets: offsets committed for a group with no members,
// as a consumer that assigns itself partitions commits them, are fetched
// back, the latest commit of each partition.
func TestKafkaGroupOffsets(t *testing.T) {
	t.Parallel()
	addr := kafkaT(t, "", 1)
	ctx := ctxT(t)
	if err := CreateTopic(ctx, addr, "t", 4); err != nil {
		t.Fatal(err)
	}
	adm := kadm.NewClient(clientT(t, addr))
	commit := func(offsets map[int32]int64) {
		t.Helper()
		var os kadm.Offsets
		for p, at := range offsets {
			os.Add(kadm.Offset{Topic: "t", Partition: p, At: at, LeaderEpoch: -1, Metadata: "m" + strconv.FormatInt(at, 10)})
		}
		rs, err := adm.CommitOffsets(ctx, "g", os)
		if err == nil {
			err = rs.Error()
		}
		if err != nil {
			t.Fatalf("committing %v: %v", offsets, err)
		}
	}
	commit(map[int32]int64{0: 10, 1: 20, 2: 30, 3: 0})
	commit(map[int32]int64{1: 21, 2: 35})
	got, err := adm.FetchOffsets(ctx, "g")
	if err != nil || got.Error() != nil {
		t.Fatalf("fetching: %v %v", err, got.Error())
	}
	want := map[int32]int64{0: 10, 1: 21, 2: 35, 3: 0}
	if n := len(got["t"]); n != len(want) || len(got) != 1 {
		t.Errorf("fetched %v, want topic t's %d partitions", got, len(want))
	}
	for p, at := range want {
		o, ok := got.Lookup("t", p)
		if !ok || o.At != at || o.Metadata != "m"+strconv.FormatInt(at, 10) {
			t.Errorf("partition %d: fetched %+v (%v), want offset %d", p, o.Offset, ok, at)
		}
	}
	// Kafka answers no offsets for a group without commits; kfake, that
	// the group does not exist.
	if other, err := adm.FetchOffsets(ctx, "other"); err != nil && !errors.Is(err, kerr.GroupIDNotFound) || len(other) != 0 {
		t.Errorf("a group without commits: %v %v", other, err)
	}
}

// TestKafkaStop: stop closes the port, and a client of the stopped
// emulator fails when its context ends.
func TestKafkaStop(t *testing.T) {
	t.Parallel()
	addr, stop, err := StartKafka("127.0.0.1:0", 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := CreateTopic(ctxT(t), addr, "t", 1); err != nil {
		t.Fatal(err)
	}
	stop()
	stop() // idempotent
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Fatalf("%s still accepts connections after stop", addr)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	if err := CreateTopic(ctx, addr, "u", 1); err == nil {
		t.Error("created a topic on a stopped emulator")
	}
}

// TestStartKafkaHost: the emulator listens on the host it is given, not
// only on 127.0.0.1, and refuses an address without a port.
func TestStartKafkaHost(t *testing.T) {
	t.Parallel()
	if _, _, err := StartKafka("no-port", 1); err == nil || !strings.Contains(err.Error(), "no-port") {
		t.Errorf("got %v, want an error naming the address", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no loopback address 127.0.0.2 here: %v", err)
	}
	ln.Close()
	addr := kafkaT(t, "127.0.0.2:0", 1)
	if !strings.HasPrefix(addr, "127.0.0.2:") {
		t.Fatalf("listening on %s, want 127.0.0.2", addr)
	}
	if err := CreateTopic(ctxT(t), addr, "t", 2); err != nil {
		t.Fatal(err)
	}
}

// kafkaT starts a Kafka emulator on addr, stopped when the test ends, and
// returns its address.
func kafkaT(t *testing.T, addr string, partitions int) string {
	t.Helper()
	hostport, stop, err := StartKafka(addr, partitions)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return hostport
}

// clientT returns a franz-go client of the broker at addr, closed when
// the test ends.
func clientT(t *testing.T, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// ctxT returns a context that ends after kafkaTimeout or with the test.
func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), kafkaTimeout)
	t.Cleanup(cancel)
	return ctx
}
