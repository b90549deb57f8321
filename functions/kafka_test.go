package functions

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/records"
	"github.com/fenestra-dev/fenestra/storage"
)

// kafkaRecord is a record of a test's Kafka event.
type kafkaRecord struct {
	topic             string
	partition, offset int64
	value             string // JSON text, base64-encoded in the event
	raw               bool   // value goes into the event as it is; "" leaves it out (a null value)
}

// rec is a record of topic transactions whose value is a tx row.
func rec(partition, offset int64, id int, card string, amount float64, ts int64) kafkaRecord {
	return kafkaRecord{topic: "transactions", partition: partition, offset: offset, value: txValue(id, card, amount, ts)}
}

// txValue is a record value of tx, as a producer writes it.
func txValue(id int, card string, amount float64, ts int64) string {
	return fmt.Sprintf(`{"tx_id": %d, "card": %q, "amount": %g, "ts": %d}`, id, card, amount, ts)
}

// kafkaEvent returns the JSON text of a Kafka event as Lambda sends it
// for an event source mapping, source aws:kafka (MSK) or SelfManagedKafka:
// records grouped by "topic-partition", values and keys in base64, header
// values as arrays of signed bytes.
func kafkaEvent(source string, recs ...kafkaRecord) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"eventSource": %q, `, source)
	if source == "aws:kafka" {
		b.WriteString(`"eventSourceArn": "arn:aws:kafka:us-east-1:123456789012:cluster/fenestra/a1b2c3d4-5678-90ab-cdef-11111EXAMPLE-1", `)
		b.WriteString(`"bootstrapServers": "b-1.fenestra.abc123.c2.kafka.us-east-1.amazonaws.com:9098,b-2.fenestra.abc123.c2.kafka.us-east-1.amazonaws.com:9098", `)
	} else {
		b.WriteString(`"bootstrapServers": "kafka-1.example.com:9092", `)
	}
	var keys []string
	groups := map[string][]string{}
	for _, r := range recs {
		key := fmt.Sprintf("%s-%d", r.topic, r.partition)
		if _, ok := groups[key]; !ok {
			keys = append(keys, key)
		}
		value := r.value
		if !r.raw {
			value = base64.StdEncoding.EncodeToString([]byte(r.value))
		}
		member := ""
		if value != "" {
			member = fmt.Sprintf(`"value": %q, `, value)
		}
		groups[key] = append(groups[key], fmt.Sprintf(`{"topic": %q, "partition": %d, "offset": %d, "timestamp": 1714528800123, "timestampType": "CREATE_TIME", `+
			`"key": "Y2FyZDE=", %s"headers": [{"producer": [102, 101, -61, -87]}]}`, r.topic, r.partition, r.offset, member))
	}
	b.WriteString(`"records": {`)
	for i, key := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q: [%s]", key, strings.Join(groups[key], ", "))
	}
	b.WriteString("}}")
	return b.String()
}

// seqStore is a Mem that records the sequence numbers of each write.
type seqStore struct {
	*storage.Mem
	mu     sync.Mutex
	writes [][]uint64
}

func (s *seqStore) Write(ctx context.Context, table string, rows *types.Block, seqs []uint64) error {
	s.mu.Lock()
	s.writes = append(s.writes, slices.Clone(seqs))
	s.mu.Unlock()
	return s.Mem.Write(ctx, table, rows, seqs)
}

func (s *seqStore) written() [][]uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.writes)
}

// kafkaEnv is a service over a seqStore and its Lambda taking topic
// transactions into table tx.
type kafkaEnv struct {
	svc    *Service
	srv    *Server
	store  *seqStore
	lambda *Lambda
	logs   *syncBuffer
}

func newKafkaEnv(t *testing.T, policy records.Policy) *kafkaEnv {
	t.Helper()
	mod := compile(t, txSQL)
	e := &kafkaEnv{store: &seqStore{Mem: storage.NewMem(epoch)}, logs: &syncBuffer{}}
	if err := e.store.Init(context.Background(), mod.Tables); err != nil {
		t.Fatal(err)
	}
	var err error
	e.svc, err = New(mod, e.store, Options{Logger: slog.New(slog.NewTextHandler(e.logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = NewServer(e.svc, ServerOptions{})
	e.lambda = newLambda(t, e.srv, LambdaOptions{Topics: map[string]string{"transactions": "tx"}, BadRecords: policy})
	return e
}

// handle invokes the Lambda with a payload and returns its answer as JSON.
func (e *kafkaEnv) handle(t *testing.T, payload string) (string, error) {
	t.Helper()
	out, err := e.lambda.Handle(context.Background(), json.RawMessage(payload))
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), nil
}

// stored returns the stored tx rows of a card, oldest first, read through
// the store.
func (e *kafkaEnv) stored(t *testing.T, card string) string {
	t.Helper()
	b, err := e.store.Read(context.Background(), storage.Range{Table: "tx", Keys: []string{"card"},
		Values: []types.Value{types.StringValue(card)}, From: math.MinInt64, To: math.MaxInt64})
	if err != nil {
		t.Fatal(err)
	}
	return string(appendRows(nil, b.Rows()))
}

// metric returns whether the service's /metrics holds a line.
func (e *kafkaEnv) metric(line string) bool {
	return strings.Contains(string(serve(e.srv, "GET", "/metrics", "").body), line+"\n")
}

func seqOf(t *testing.T, partition int32, offset int64) uint64 {
	t.Helper()
	s, err := records.Seq(partition, offset)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestLambdaKafka ingests Kafka events of an MSK and a self-managed event
// source mapping over two partitions, a record twice in one event and
// again in the next: each is stored once, numbered records.Seq(partition,
// offset), and compute requests see them.
func TestLambdaKafka(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newKafkaEnv(t, records.Policy{})
	first := kafkaEvent("aws:kafka",
		rec(0, 0, 1, "c1", 1, t0), rec(0, 1, 2, "c1", 2, t0+1000), rec(0, 2, 3, "c1", 4, t0+2000),
		rec(0, 1, 2, "c1", 2, t0+1000), // delivered twice
		rec(1, 0, 11, "c2", 10, t0), rec(1, 1, 12, "c2", 20, t0+1000))
	second := kafkaEvent("SelfManagedKafka",
		rec(1, 1, 12, "c2", 20, t0+1000), // delivered again
		rec(1, 2, 13, "c2", 40, t0+2000))
	for _, c := range []struct{ event, want string }{
		{first, `{"records":6,"rows":{"tx":6},"bad":0}`},
		{second, `{"records":2,"rows":{"tx":2},"bad":0}`},
	} {
		got, err := e.handle(t, c.event)
		if err != nil || got != c.want {
			t.Fatalf("answer %s, %v; want %s", got, err, c.want)
		}
	}
	want := [][]uint64{
		{seqOf(t, 0, 0), seqOf(t, 0, 1), seqOf(t, 0, 2), seqOf(t, 0, 1), seqOf(t, 1, 0), seqOf(t, 1, 1)},
		{seqOf(t, 1, 1), seqOf(t, 1, 2)},
	}
	if got := e.store.written(); !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("writes numbered %x, want %x", got, want)
	}
	for card, want := range map[string]string{
		"c1": `[1,"c1",1,1714528800000],[2,"c1",2,1714528801000],[3,"c1",4,1714528802000]`,
		"c2": `[11,"c2",10,1714528800000],[12,"c2",20,1714528801000],[13,"c2",40,1714528802000]`,
	} {
		if got := e.stored(t, card); got != want {
			t.Errorf("stored rows of %s: %s, want %s", card, got, want)
		}
	}
	res, err := e.svc.Compute(ctx, "features", txBlock(tx(100, "c1", 8, t0+3000), tx(200, "c2", 1, t0+3000)), false)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(appendRows(nil, res.Rows)); got != `[100,15,4,8],[200,71,4,40]` {
		t.Errorf("computed %s after the events", got)
	}
	// The streaming pipeline writing the same record lands on the same row.
	if err := e.svc.Write(ctx, "tx", txBlock(tx(1, "c1", 1.5, t0)), []uint64{seqOf(t, 0, 0)}); err != nil {
		t.Fatal(err)
	}
	if got := e.stored(t, "c1"); !strings.HasPrefix(got, `[1,"c1",1.5,1714528800000],[2,`) || strings.Count(got, "[") != 3 {
		t.Errorf("after rewriting partition 0 offset 0: %s", got)
	}
	for _, line := range []string{
		`fenestra_records_ingested_total{table="tx"} 8`,
		`fenestra_requests_total{code="200",route="lambda_kafka",view=""} 2`,
		`fenestra_records_bad_total{reason="column",topic="transactions"} 0`,
	} {
		if !e.metric(line) {
			t.Errorf("metrics lack %s", line)
		}
	}
	for _, c := range []struct {
		name string
		err  error
		want error
	}{
		{"unknown table", e.svc.Write(ctx, "nope", txBlock(), nil), ErrNotFound},
		{"seqs of another length", e.svc.Write(ctx, "tx", txBlock(tx(1, "c1", 1, t0)), nil), ErrBadRequest},
		{"rows of another schema", e.svc.Write(ctx, "tx", types.BlockOf(types.Schema{{Name: "x", Type: types.Int64}}, nil), nil), ErrBadRequest},
	} {
		if !errors.Is(c.err, c.want) {
			t.Errorf("Write, %s: %v, want %v", c.name, c.err, c.want)
		}
	}
}

// TestLambdaKafkaBadRecords sends an event with a bad record of each kind
// between good ones, under fail (the invocation fails naming the record
// and stores nothing) and skip (counted, logged, the rest stored).
func TestLambdaKafkaBadRecords(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		bad    kafkaRecord
		reason string
		msg    string // in the error, after "topic T partition 0 offset N: "
	}{
		{"not base64", kafkaRecord{topic: "transactions", offset: 2, value: "not base64!", raw: true}, "base64", "the value is not base64"},
		{"not JSON", kafkaRecord{topic: "transactions", offset: 2, value: `{"tx_id": 3,`}, "value", "malformed JSON"},
		{"no value", kafkaRecord{topic: "transactions", offset: 2, raw: true}, "value", "empty value"},
		{"not a row", kafkaRecord{topic: "transactions", offset: 2, value: `"c1"`}, "value", `want a JSON object of the columns of tx, found "c1"`},
		{"wrong type", kafkaRecord{topic: "transactions", offset: 2, value: `{"tx_id": "x", "card": "c1", "amount": 1, "ts": 1714528802000}`}, "column", `tx_id: cannot read "x" as int64`},
		{"missing column", kafkaRecord{topic: "transactions", offset: 2, value: `{"tx_id": 3, "card": "c1", "amount": 1}`}, "column", "ts: missing"},
		{"unknown column", kafkaRecord{topic: "transactions", offset: 2, value: `{"tx_id": 3, "card": "c1", "amount": 1, "ts": 0, "x": 1}`}, "column", "x: not a column of tx"},
		{"unknown table", kafkaRecord{topic: "payments", offset: 2, value: txValue(3, "c1", 4, t0+2000)}, "unknown_table", "unknown table: topic payments is mapped to no table"},
		{"offset out of range", kafkaRecord{topic: "transactions", offset: records.MaxOffset + 1, value: txValue(3, "c1", 4, t0+2000)}, "range", "out of range"},
	} {
		event := kafkaEvent("aws:kafka", rec(0, 0, 1, "c1", 1, t0), rec(0, 1, 2, "c1", 2, t0+1000), c.bad, rec(0, 3, 4, "c1", 8, t0+3000))
		where := fmt.Sprintf("bad record: topic %s partition 0 offset %d: %s", c.bad.topic, c.bad.offset, c.msg)
		t.Run(c.name+"/fail", func(t *testing.T) {
			t.Parallel()
			e := newKafkaEnv(t, records.Policy{Mode: records.Fail})
			got, err := e.handle(t, event)
			var ie *InvokeError
			if !errors.As(err, &ie) || ie.Status != 400 || !strings.Contains(ie.Message, where) {
				t.Fatalf("answer %s, %v; want a 400 *InvokeError with %q", got, err, where)
			}
			if w := e.store.written(); len(w) != 0 || e.stored(t, "c1") != "" {
				t.Errorf("a failed invocation stored %d writes: %s", len(w), e.stored(t, "c1"))
			}
			if !e.metric(`fenestra_requests_total{code="400",route="lambda_kafka",view=""} 1`) {
				t.Error("the failed invocation is not counted")
			}
		})
		t.Run(c.name+"/skip", func(t *testing.T) {
			t.Parallel()
			e := newKafkaEnv(t, records.Policy{Mode: records.Skip})
			got, err := e.handle(t, event)
			if want := `{"records":4,"rows":{"tx":3},"bad":1}`; err != nil || got != want {
				t.Fatalf("answer %s, %v; want %s", got, err, want)
			}
			if got, want := e.stored(t, "c1"), `[1,"c1",1,1714528800000],[2,"c1",2,1714528801000],[4,"c1",8,1714528803000]`; got != want {
				t.Errorf("stored %s, want %s", got, want)
			}
			if line := fmt.Sprintf(`fenestra_records_bad_total{reason=%q,topic=%q} 1`, c.reason, c.bad.topic); !e.metric(line) {
				t.Errorf("metrics lack %s", line)
			}
			if logs := e.logs.String(); !strings.Contains(logs, `msg="bad record skipped"`) || !strings.Contains(logs, "reason="+c.reason) {
				t.Errorf("no log line of the bad record: %s", logs)
			}
		})
	}
}

// TestLambdaKafkaConcurrent ingests events concurrently (decoders are
// pooled, not shared).
func TestLambdaKafkaConcurrent(t *testing.T) {
	t.Parallel()
	e := newKafkaEnv(t, records.Policy{})
	var wg sync.WaitGroup
	for p := range 8 {
		wg.Go(func() {
			var recs []kafkaRecord
			for o := range 50 {
				recs = append(recs, rec(int64(p), int64(o), o, fmt.Sprintf("c%d", p), 1, t0+int64(o)))
			}
			if _, err := e.lambda.Handle(context.Background(), json.RawMessage(kafkaEvent("aws:kafka", recs...))); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for p := range 8 {
		if got := strings.Count(e.stored(t, fmt.Sprintf("c%d", p)), "["); got != 50 {
			t.Errorf("partition %d: %d rows stored, want 50", p, got)
		}
	}
}

// TestLambdaKafkaEvents: malformed Kafka events are refused.
func TestLambdaKafkaEvents(t *testing.T) {
	t.Parallel()
	e := newKafkaEnv(t, records.Policy{Mode: records.Skip})
	for _, c := range []struct{ payload, want string }{
		{`{"eventSource": "aws:kafka", "records": [1]}`, "reading a Kafka event"},
		{`{"eventSource": "SelfManagedKafka", "records": {"t-0": [{"partition": "x"}]}}`, "reading a Kafka event"},
		{`{"eventSource": "aws:kafka", "records": {}}`, ""},
	} {
		got, err := e.handle(t, c.payload)
		switch {
		case c.want == "" && (err != nil || got != `{"records":0,"rows":{},"bad":0}`):
			t.Errorf("%s: %s, %v", c.payload, got, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %s, %v; want an error with %q", c.payload, got, err, c.want)
		}
	}
}

// TestNewLambdaRefuses Kafka options that cannot work.
func TestNewLambdaRefuses(t *testing.T) {
	t.Parallel()
	srv, _ := txServer(t, Options{}, ServerOptions{})
	for _, c := range []struct {
		name string
		opts LambdaOptions
		want string
	}{
		{"two topics to one table", LambdaOptions{Topics: map[string]string{"a": "tx", "b": "tx"}},
			"topics a and b are both mapped to table tx; a table takes records from one topic"},
		{"unknown table", LambdaOptions{Topics: map[string]string{"a": "nope"}}, "topic a is mapped to table nope, which the feature file does not create"},
		{"empty topic", LambdaOptions{Topics: map[string]string{"": "tx"}}, "an empty topic name"},
		{"dead letter", LambdaOptions{BadRecords: records.Policy{Mode: records.DeadLetter, Topic: "dlq"}}, "on-failure destination"},
		{"unknown policy", LambdaOptions{BadRecords: records.Policy{Mode: 9}}, "unknown bad-records policy"},
	} {
		if _, err := NewLambda(srv, c.opts); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
}

// BenchmarkLambdaKafka ingests an event of 500 records over 4 partitions
// into memory, the same event each time (so storage overwrites).
func BenchmarkLambdaKafka(b *testing.B) {
	mod := compile(b, txSQL)
	svc, _ := memService(b, mod, Options{})
	l := newLambda(b, NewServer(svc, ServerOptions{}), LambdaOptions{Topics: map[string]string{"transactions": "tx"}})
	var recs []kafkaRecord
	for o := range 500 {
		recs = append(recs, rec(int64(o%4), int64(o), o, fmt.Sprintf("c%d", o%50), 1.25, t0+int64(o)))
	}
	event := json.RawMessage(kafkaEvent("aws:kafka", recs...))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Handle(ctx, event); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
}
