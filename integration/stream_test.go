package integration

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/fenestra-dev/fenestra/dataflow"
	"github.com/fenestra-dev/fenestra/emulators"
	"github.com/fenestra-dev/fenestra/examples"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/functions"
	"github.com/fenestra-dev/fenestra/internal/producer"
	"github.com/fenestra-dev/fenestra/storage/bigtable"
)

// TestStreamEqualsMaterialize is the streaming half of the online ==
// offline proof on the cards example: its 100,000 transactions (late rows
// and equal times among them), produced to Kafka keyed by card and
// streamed into Bigtable on prism, leave a store that answers a request
// for every card, timed after the last event, bit for bit as a store
// loaded by materialize from the same files does, and as the batch
// evaluator does over the events with the requests appended. The check
// catches a record dropped or duplicated on the way.
func TestStreamEqualsMaterialize(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Beam pipelines over 100,000 events")
	}
	env := newCardsStream(t, 100000, 5)
	d, view, blocks, emu, brokers := env.d, env.view, env.blocks, env.emu, env.brokers
	tx := blocks[view.RequestTable]
	requests := cardRequests(t, view, tx)
	want := batchAnswers(t, view, blocks, requests)

	d.load(t, emu, "mat_", "")
	d.load(t, emu, "str_", view.RequestTable)
	p := newTopic(t, brokers, "tx", d.mod.Tables[0])
	recs := p.Records(tx, 0, tx.Len)
	send(t, p, recs)
	d.streamUntilCaughtUp(t, brokers, "tx", emu, "str_")

	got := computeAll(t, d, emu, "str_", view, requests)
	if diff := differingRows(got, want); len(diff) > 0 {
		t.Fatalf("streamed store: %d of %d answers differ from the batch evaluator's, first %s:\n got %v\nwant %v",
			len(diff), len(want), cardOf(requests, diff[0]), got[diff[0]], want[diff[0]])
	}
	if diff := differingRows(computeAll(t, d, emu, "mat_", view, requests), want); len(diff) > 0 {
		t.Fatalf("materialized store: %d answers differ from the batch evaluator's", len(diff))
	}
	t.Logf("%d cards: the streamed store, the materialized store and the batch evaluator agree bit for bit (%d events streamed)", len(want), tx.Len)

	// A record lost and a record delivered twice (a producer retry
	// without idempotence), both recent enough for every window, are
	// caught.
	card := tx.Cols[tx.Schema.Index("card")]
	lost, doubled := len(recs)-100, len(recs)-10
	for card.S[doubled] == card.S[lost] {
		doubled++
	}
	var bad []*kgo.Record
	for i, r := range recs {
		if i != lost {
			bad = append(bad, &kgo.Record{Topic: "tx_bad", Key: r.Key, Value: r.Value})
		}
		if i == doubled {
			bad = append(bad, &kgo.Record{Topic: "tx_bad", Key: r.Key, Value: r.Value})
		}
	}
	d.load(t, emu, "bad_", view.RequestTable)
	pb := newTopic(t, brokers, "tx_bad", d.mod.Tables[0])
	send(t, pb, bad)
	d.streamUntilCaughtUp(t, brokers, "tx_bad", emu, "bad_")
	diff := differingRows(computeAll(t, d, emu, "bad_", view, requests), want)
	var cards []string
	for _, i := range diff {
		cards = append(cards, cardOf(requests, i))
	}
	if wantCards := []string{card.S[lost], card.S[doubled]}; !sameSet(cards, wantCards) {
		t.Errorf("a lost and a doubled record: answers differ for cards %v, want exactly %v", cards, wantCards)
	}
}

// cardsStream is the cards example's data, written as files, and the
// Bigtable and Kafka emulators a streaming test runs against.
type cardsStream struct {
	d            *dataset
	view         *plan.Plan
	blocks       map[string]*types.Block
	emu, brokers string
}

// newCardsStream generates rows transactions of the cards example (data
// ending today: the functions enforce TTLs with the wall clock) and starts
// the emulators.
func newCardsStream(t *testing.T, rows int, seed uint64) *cardsStream {
	t.Helper()
	e, err := examples.Lookup("cards")
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := e.Generate(examples.Config{Rows: rows, Seed: seed, Start: examples.DefaultStart(time.Now(), e.Days)})
	if err != nil {
		t.Fatal(err)
	}
	d := writeDataset(t, e.SQL, blocks)
	emu, stop, err := emulators.StartBigtable("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	brokers, stopKafka, err := emulators.StartKafka("127.0.0.1:0", 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stopKafka)
	return &cardsStream{d: d, view: d.view(t, e.View), blocks: blocks, emu: emu, brokers: brokers}
}

// load creates the tables under prefix and loads every table but except
// with the Beam materialize pipeline.
func (d *dataset) load(t *testing.T, emu, prefix, except string) *bigtable.Store {
	t.Helper()
	ctx := context.Background()
	s, err := bigtable.Open(ctx, bigtable.Config{Project: "local", Instance: "local", EmulatorHost: emu, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Init(ctx, d.mod.Tables); err != nil {
		t.Fatal(err)
	}
	var tables []*plan.Table
	var inputs []dataflow.Input
	for _, tb := range d.mod.Tables {
		if tb.Name == except {
			continue
		}
		tables = append(tables, tb)
		for _, in := range d.inputs {
			if in.Table == tb.Name {
				inputs = append(inputs, in)
			}
		}
	}
	p, sc := beam.NewPipelineWithRoot()
	target := dataflow.BigtableTarget{Project: "local", Instance: "local", EmulatorHost: emu, Prefix: prefix}
	if _, err := dataflow.Materialize(sc, dataflow.MaterializeJob{Tables: tables, Inputs: inputs, Target: target}); err != nil {
		t.Fatal(err)
	}
	if _, err := dataflow.Run(ctx, p); err != nil {
		t.Fatalf("materialize: %v", err)
	}
	return s
}

// newTopic creates a topic of 4 partitions and returns a producer of rows
// of table to it.
func newTopic(t *testing.T, brokers, topic string, table *plan.Table) *producer.Producer {
	t.Helper()
	if err := emulators.CreateTopic(context.Background(), brokers, topic, 4); err != nil {
		t.Fatal(err)
	}
	p, err := producer.New(brokers, topic, table)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func send(t *testing.T, p *producer.Producer, recs []*kgo.Record) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.Send(ctx, recs); err != nil {
		t.Fatal(err)
	}
}

// streamUntilCaughtUp streams topic into the request table under prefix
// until the stream's group has committed every record, then stops it.
func (d *dataset) streamUntilCaughtUp(t *testing.T, brokers, topic, emu, prefix string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	job := dataflow.StreamJob{Tables: d.mod.Tables[:1], Topics: []string{topic}, Brokers: brokers, Group: "g-" + topic,
		Target: dataflow.BigtableTarget{Project: "local", Instance: "local", EmulatorHost: emu, Prefix: prefix}}
	p, s := beam.NewPipelineWithRoot()
	if err := dataflow.Stream(ctx, s, job); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- dataflow.RunStream(ctx, p, 30*time.Second) }()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		lag, err := dataflow.StreamLag(ctx, brokers, job.Group, job.Topics)
		if err != nil {
			t.Fatal(err)
		}
		if lag == 0 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the stream ended with %d records to go: %v", lag, err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stream has %d records to go after 2 minutes", lag)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("the stream's drain: %v", err)
	}
}

// cardRequests returns a request row per card of tx: a transaction a
// second after the last event.
func cardRequests(t *testing.T, view *plan.Plan, tx *types.Block) *types.Block {
	t.Helper()
	schema := tx.Schema
	ts := tx.Cols[schema.Index("ts")]
	last := slices.Max(ts.I)
	card := tx.Cols[schema.Index("card")]
	cards := slices.Compact(slices.Sorted(slices.Values(slices.Clone(card.S))))
	req := types.NewBlock(schema, len(cards))
	for i, c := range cards {
		req.AppendRow([]types.Value{types.IntValue(types.Int64, int64(1e9+i)), types.StringValue(c), types.StringValue("m0003"),
			types.StringValue("US"), types.DoubleValue(123.45), types.TimestampValue(last + 1000)})
	}
	return req
}

// batchAnswers evaluates view in batch mode over the tables with the
// requests appended to the request table, and returns the requests' rows.
func batchAnswers(t *testing.T, view *plan.Plan, tables map[string]*types.Block, requests *types.Block) [][]types.Value {
	t.Helper()
	ev, err := eval.New(view)
	if err != nil {
		t.Fatal(err)
	}
	in := map[string]*types.Block{}
	for name, b := range tables {
		in[name] = b
	}
	in[view.RequestTable] = types.Concat(tables[view.RequestTable], requests)
	out, err := ev.Batch(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return out.Gather(seqRange(out.Len-requests.Len, out.Len)).Rows()
}

// computeAll answers every request through the functions core over the
// store under prefix.
func computeAll(t *testing.T, d *dataset, emu, prefix string, view *plan.Plan, requests *types.Block) [][]types.Value {
	t.Helper()
	s, err := bigtable.Open(context.Background(), bigtable.Config{Project: "local", Instance: "local", EmulatorHost: emu, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	svc, err := functions.New(d.mod, s, functions.Options{Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	res, err := svc.Compute(context.Background(), view.Name, requests, false)
	if err != nil {
		t.Fatal(err)
	}
	return res.Rows
}

// differingRows returns the positions where got and want differ, floats
// compared by their bits.
func differingRows(got, want [][]types.Value) []int {
	var out []int
	for i := range want {
		if i >= len(got) || !sameRow(got[i], want[i]) {
			out = append(out, i)
		}
	}
	return out
}

func sameRow(a, b []types.Value) bool {
	if len(a) != len(b) {
		return false
	}
	for i, x := range a {
		y := b[i]
		if x.Type != y.Type || x.Null != y.Null || x.I != y.I || x.S != y.S ||
			math.Float64bits(x.F) != math.Float64bits(y.F) || fmt.Sprint(x.X) != fmt.Sprint(y.X) {
			return false
		}
	}
	return true
}

func cardOf(requests *types.Block, i int) string {
	return requests.Cols[requests.Schema.Index("card")].S[i]
}

func sameSet(a, b []string) bool {
	a, b = slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b))
	return slices.Equal(a, b)
}

func seqRange(lo, hi int) []int {
	out := make([]int, 0, hi-lo)
	for i := lo; i < hi; i++ {
		out = append(out, i)
	}
	return out
}
