package follow

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/records"
)

// batch is one poll's records of one table, decoded.
type batch struct {
	table string
	rows  *types.Block
	seqs  []uint64
	bad   int64      // bad records skipped
	parts []progress // how far the poll took each of its partitions
}

// progress is how far a poll took a partition: past its last record taken
// (next, -1 for none), and the high watermark its fetch reported.
type progress struct {
	topic     string
	partition int32
	next, hw  int64
}

// applyPoll decodes a poll's records into one block per table, applies
// each block and advances the partitions. A bad record under Fail stops
// the decoding: the rows decoded before it are applied, none after it,
// and its error is returned.
func (f *Follower) applyPoll(fetches kgo.Fetches, apply Apply) error {
	batches, stop := f.decode(fetches)
	for _, b := range batches {
		if b.rows.Len > 0 {
			if err := apply(b.table, b.rows, b.seqs); err != nil {
				return fmt.Errorf("follow: applying %d rows of table %s: %w", b.rows.Len, b.table, err)
			}
		}
		f.advance(b)
	}
	return stop
}

// decode decodes a poll's records, one batch per table, each partition's
// records in offset order, until a bad record under Fail, whose error it
// returns.
func (f *Follower) decode(fetches kgo.Fetches) ([]*batch, error) {
	var (
		out []*batch
		by  = map[string]*batch{} // by topic
		err error
	)
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		t := f.topics[p.Topic]
		if err != nil || t == nil || len(p.Records) == 0 {
			return
		}
		b := by[p.Topic]
		if b == nil {
			b = &batch{table: t.table, rows: types.NewBlock(t.dec.Schema(), len(p.Records))}
			by[p.Topic] = b
			out = append(out, b)
		}
		err = f.decodePartition(b, t, p)
	})
	return out, err
}

// decodePartition decodes the records of one partition of a poll into b.
func (f *Follower) decodePartition(b *batch, t *topic, p kgo.FetchTopicPartition) error {
	pr := progress{topic: p.Topic, partition: p.Partition, next: -1, hw: p.HighWatermark}
	var err error
	for _, r := range p.Records {
		if err = f.take(b, t, r); err != nil {
			break
		}
		pr.next = r.Offset + 1
	}
	b.parts = append(b.parts, pr)
	return err
}

// take decodes r into b. A control record (a transaction marker) has no
// row. A bad record is counted and logged, or under Fail returned.
func (f *Follower) take(b *batch, t *topic, r *kgo.Record) error {
	if r.Attrs.IsControl() {
		return nil
	}
	var err error
	b.seqs, err = t.dec.Append(b.rows, b.seqs, records.Record{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Value: r.Value})
	if err == nil {
		return nil
	}
	if f.policy.Mode == records.Fail {
		return fmt.Errorf("follow: bad record: %w", err)
	}
	b.bad++
	f.log.Warn("follow: bad record skipped", "table", t.table, "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "error", err)
	return nil
}

// advance counts b's rows and bad records as applied and moves its
// partitions on; Ready closes when the last one reaches its target.
func (f *Follower) advance(b *batch) {
	f.mu.Lock()
	f.applied += int64(b.rows.Len)
	f.bad += b.bad
	caughtUp := false
	for _, pr := range b.parts {
		i, ok := f.index[topicPartition{pr.topic, pr.partition}]
		if !ok {
			continue
		}
		p := &f.parts[i]
		behind := p.Next < p.Target
		p.Next = max(p.Next, pr.next)
		p.HighWatermark = max(p.HighWatermark, pr.hw, p.Next)
		if behind && p.Next >= p.Target {
			f.waiting--
			caughtUp = f.waiting == 0
		}
	}
	applied := f.applied
	f.mu.Unlock()
	if caughtUp {
		close(f.ready)
		f.log.Info("follow: caught up", "applied", applied)
	}
}
