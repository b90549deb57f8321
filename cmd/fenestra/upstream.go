package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/fenestra-dev/fenestra/dataflow"
	"github.com/fenestra-dev/fenestra/emulators"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/producer"
)

// liveEvents is how fenestra up streams: the rate of new events, the
// share of them that are the printed request's key, of them that arrive
// late, and how long up waits before it asks again.
const (
	liveRate     = 4 // events a second
	liveKeyShare = 2 // one event in liveKeyShare is the request's key
	liveLateOne  = 8 // one event in liveLateOne is late, by up to 20 minutes
	liveWait     = 5 * time.Second
)

// liveStream is the streaming half of fenestra up: a Kafka emulator, the
// streaming pipeline from its topic into the emulator's tables, and a
// producer of new events.
type liveStream struct {
	brokers, topic string
	produced       chan int // the number of events produced so far, once a second
	stop           func()
}

// startLiveStream starts the Kafka emulator, a topic for the request
// table, the streaming pipeline into the Bigtable emulator at emu, and a
// producer of new rows of the request table: rows of history (values of
// real keys) made new, with times that go on from the request's time
// minus a minute, some late, and a new id.
func startLiveStream(ctx context.Context, view *plan.Plan, in *plan.Table, rows *types.Block, key types.Value, keyCol int, startTS, nextID int64, emu string, stdout io.Writer) (*liveStream, error) {
	brokers, stopKafka, err := emulators.StartKafka("127.0.0.1:0", 4)
	if err != nil {
		return nil, err
	}
	topic := in.Name
	if err := emulators.CreateTopic(ctx, brokers, topic, 4); err != nil {
		stopKafka()
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	job := dataflow.StreamJob{Tables: []*plan.Table{in}, Topics: []string{topic}, Brokers: brokers, Group: "fenestra-up",
		Target: dataflow.BigtableTarget{Project: "local", Instance: "local", EmulatorHost: emu}}
	p, s := beam.NewPipelineWithRoot()
	if err := dataflow.Stream(ctx, s, job); err != nil {
		cancel()
		stopKafka()
		return nil, err
	}
	ran := make(chan error, 1)
	go func() { ran <- dataflow.RunStream(ctx, p, 10*time.Second) }()
	prod, err := producer.New(brokers, topic, in)
	if err != nil {
		cancel()
		stopKafka()
		return nil, err
	}
	ls := &liveStream{brokers: brokers, topic: topic, produced: make(chan int, 1)}
	produced := make(chan struct{})
	go func() {
		defer close(produced)
		produceLive(ctx, prod, in, rows, key, keyCol, startTS, nextID, ls.produced)
	}()
	ls.stop = func() {
		cancel()
		<-produced
		prod.Close()
		<-ran
		stopKafka()
	}
	fmt.Fprintf(stdout, "streaming: Kafka emulator at %s, topic %s -> Beam streaming pipeline -> Bigtable; %d new transactions a second\n",
		brokers, topic, liveRate)
	return ls, nil
}

// produceLive produces liveRate events a second until ctx ends, reporting
// the count on produced.
func produceLive(ctx context.Context, p *producer.Producer, in *plan.Table, rows *types.Block, key types.Value, keyCol int, startTS, nextID int64, produced chan int) {
	rng := rand.New(rand.NewPCG(uint64(startTS), 7))
	var ofKey []int
	for i := range rows.Len {
		if rows.Cols[keyCol].Value(i) == key {
			ofKey = append(ofKey, i)
		}
	}
	tsCol, idCol := -1, -1
	for j, f := range in.Schema {
		switch {
		case f.Type == types.Timestamp && tsCol < 0:
			tsCol = j
		case f.Type == types.Int64 && j == 0:
			idCol = j
		}
	}
	start := time.Now()
	t := time.NewTicker(time.Second / liveRate)
	defer t.Stop()
	blk := types.NewBlock(in.Schema, 1)
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		i := rng.IntN(rows.Len)
		if n%liveKeyShare == 0 && len(ofKey) > 0 {
			i = ofKey[rng.IntN(len(ofKey))]
		}
		row := rows.Row(i, nil)
		ts := startTS + time.Since(start).Milliseconds()
		if n%liveLateOne == liveLateOne-1 {
			ts -= rng.Int64N(20 * 60_000)
		}
		if tsCol >= 0 {
			row[tsCol] = types.TimestampValue(ts)
		}
		if idCol >= 0 {
			row[idCol] = types.Int64Value(nextID + int64(n))
		}
		blk.Reset()
		blk.AppendRow(row)
		if err := p.Send(ctx, p.Records(blk, 0, 1)); err != nil {
			return
		}
		select {
		case <-produced:
		default:
		}
		produced <- n + 1
	}
}

// caughtUp waits until the stream has stored every event produced, and
// returns how many that is.
func (ls *liveStream) caughtUp(ctx context.Context) (int, error) {
	n := <-ls.produced
	deadline := time.Now().Add(30 * time.Second)
	for {
		lag, err := dataflow.StreamLag(ctx, ls.brokers, "fenestra-up", []string{ls.topic})
		if err != nil {
			return n, err
		}
		if lag == 0 {
			return n, nil
		}
		if time.Now().After(deadline) {
			return n, fmt.Errorf("streaming: %d events not stored after 30 s", lag)
		}
		select {
		case <-ctx.Done():
			return n, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// changedFeatures names the features whose values differ between two
// compute answers.
func changedFeatures(before, after string) []string {
	type answer struct {
		Columns []struct{ Name string }
		Rows    [][]json.RawMessage
	}
	var a, b answer
	if json.Unmarshal([]byte(before), &a) != nil || json.Unmarshal([]byte(after), &b) != nil ||
		len(a.Rows) != 1 || len(b.Rows) != 1 || len(a.Rows[0]) != len(b.Rows[0]) || len(a.Columns) != len(a.Rows[0]) {
		return nil
	}
	var out []string
	for i, c := range a.Columns {
		if strings.TrimSpace(string(a.Rows[0][i])) != strings.TrimSpace(string(b.Rows[0][i])) {
			out = append(out, c.Name)
		}
	}
	return out
}
