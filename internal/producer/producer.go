// Package producer sends a table's rows to a Kafka topic as the records
// fenestra stream reads: each row a JSON object of its columns, keyed by
// the table's first index key, so a key's rows share a partition and keep
// their order. It serves fenestra produce, fenestra up and the tests.
package producer

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/datafile"
)

// deliveryTimeout bounds the wait for a record's acknowledgement.
const deliveryTimeout = 30 * time.Second

// Producer produces rows of one table to one topic. It is safe for
// concurrent use.
type Producer struct {
	cl    *kgo.Client
	topic string
	keys  []int // the key columns
}

// New returns a producer of rows of table to topic on brokers (a
// comma-separated list). Records are keyed by the table's first index key
// (no key when the table has no index).
func New(brokers, topic string, table *plan.Table) (*Producer, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...),
		kgo.ProducerLinger(time.Millisecond), kgo.AllowAutoTopicCreation(),
		// Brokers that never answer fail a record after this long, rather
		// than holding it (and Send) forever.
		kgo.RecordDeliveryTimeout(deliveryTimeout))
	if err != nil {
		return nil, fmt.Errorf("kafka %s: %w", brokers, err)
	}
	p := &Producer{cl: cl, topic: topic}
	if len(table.Indexes) > 0 {
		for _, k := range table.Indexes[0].Keys {
			p.keys = append(p.keys, table.Schema.Index(k))
		}
	}
	return p, nil
}

// Records returns the records of rows lo..hi of b, in order, with their
// timestamps left for the client to set at produce time.
func (p *Producer) Records(b *types.Block, lo, hi int) []*kgo.Record {
	recs := make([]*kgo.Record, 0, hi-lo)
	for i := lo; i < hi; i++ {
		v := datafile.AppendRow(nil, datafile.JSONL, b, i)
		recs = append(recs, &kgo.Record{Topic: p.topic, Key: p.key(b, i), Value: v[:len(v)-1]})
	}
	return recs
}

// key is row i's record key: its key columns' values, as text, joined
// by NUL.
func (p *Producer) key(b *types.Block, i int) []byte {
	var k []byte
	for n, c := range p.keys {
		if n > 0 {
			k = append(k, 0)
		}
		k = append(k, b.Cols[c].Value(i).String()...)
	}
	return k
}

// Send produces recs and waits until Kafka has acknowledged them all; the
// records then hold their partitions and offsets. ctx bounds the wait.
func (p *Producer) Send(ctx context.Context, recs []*kgo.Record) error {
	if err := p.cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("producing to %s: %w", p.topic, err)
	}
	return nil
}

// SendRows produces the rows of b, rate rows a second (all at once when
// rate <= 0), and waits for their acknowledgement. It returns the number of
// rows acknowledged.
func (p *Producer) SendRows(ctx context.Context, b *types.Block, rate float64) (int, error) {
	if rate <= 0 {
		if err := p.Send(ctx, p.Records(b, 0, b.Len)); err != nil {
			return 0, err
		}
		return b.Len, nil
	}
	const tick = 10 * time.Millisecond
	start := time.Now()
	sent := 0
	for sent < b.Len {
		due := min(b.Len, int(rate*time.Since(start).Seconds())+1)
		if due > sent {
			if err := p.Send(ctx, p.Records(b, sent, due)); err != nil {
				return sent, err
			}
			sent = due
		}
		select {
		case <-ctx.Done():
			return sent, ctx.Err()
		case <-time.After(tick):
		}
	}
	return sent, nil
}

// Close closes the client.
func (p *Producer) Close() { p.cl.Close() }
