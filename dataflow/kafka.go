package dataflow

// This file holds the streaming pipeline's Kafka client code (franz-go);
// stream.go holds its Beam wiring.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// kafkaTimeout bounds each administrative call to Kafka (listing offsets,
// committing) and each dead-letter produce: a broker that does not answer
// is an error, not a hang.
const kafkaTimeout = 10 * time.Second

// seeds splits a comma-separated broker list.
func seeds(brokers string) []string {
	var out []string
	for b := range strings.SplitSeq(brokers, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

// kafkaPartition is one partition to stream: the element the reading
// SDF's restriction (an offset range) belongs to.
type kafkaPartition struct {
	Table     int // the job's table the topic feeds
	Topic     string
	Partition int32
	Start     int64 // the first offset to read: the group's committed offset, else the earliest
}

// startPositions lists every partition of the topics with where to start
// reading it: the group's committed offset when there is one, else the
// partition's earliest offset.
func startPositions(ctx context.Context, brokers, group string, topics []string) ([]kafkaPartition, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds(brokers)...))
	if err != nil {
		return nil, fmt.Errorf("kafka %s: %w", brokers, err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(ctx, kafkaTimeout)
	defer cancel()
	starts, err := adm.ListStartOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("kafka %s: listing partitions: %w", brokers, err)
	}
	committed, err := adm.FetchOffsetsForTopics(ctx, group, topics...)
	if errors.Is(err, kerr.GroupIDNotFound) { // a new group: nothing committed
		committed, err = nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("kafka %s: reading the offsets of group %s: %w", brokers, group, err)
	}
	var out []kafkaPartition
	for table, topic := range topics {
		ps := starts[topic]
		if len(ps) == 0 {
			return nil, fmt.Errorf("kafka %s: topic %s does not exist", brokers, topic)
		}
		for p, lo := range ps {
			if lo.Err != nil {
				return nil, fmt.Errorf("kafka %s: topic %s partition %d: %w", brokers, topic, p, lo.Err)
			}
			start := lo.Offset
			if c, ok := committed.Lookup(topic, p); ok && c.Err == nil && c.At >= 0 {
				start = max(c.At, lo.Offset) // records before the log start are gone
			}
			out = append(out, kafkaPartition{Table: table, Topic: topic, Partition: p, Start: start})
		}
	}
	slices.SortFunc(out, func(a, b kafkaPartition) int {
		if a.Table != b.Table {
			return a.Table - b.Table
		}
		return int(a.Partition - b.Partition)
	})
	return out, nil
}

// partitionReader reads one partition from an offset. It is used by one
// goroutine at a time.
type partitionReader struct {
	cl   *kgo.Client
	key  readerKey
	next int64 // the offset the next record read will have (at least)
}

type readerKey struct {
	job, brokers, topic string
	partition           int32
}

func newPartitionReader(key readerKey, offset int64) (*partitionReader, error) {
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(seeds(key.brokers)...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{key.topic: {key.partition: kgo.NewOffset().At(offset)}}),
		kgo.FetchMaxWait(250*time.Millisecond),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// An offset out of range is an error, never a silent jump to
		// another offset: startPositions starts no earlier than the log.
		kgo.ConsumeResetOffset(kgo.NoResetOffset()),
	)
	if err != nil {
		return nil, fmt.Errorf("kafka %s: %w", key.brokers, err)
	}
	return &partitionReader{cl: cl, key: key, next: offset}, nil
}

// poll returns up to most of the records fetched since the last poll,
// waiting up to wait when none are buffered, and the partition's high
// watermark (-1 when no fetch said). No records and no error means none
// came in time.
func (r *partitionReader) poll(ctx context.Context, wait time.Duration, most int) ([]*kgo.Record, int64, error) {
	pctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	fetches := r.cl.PollRecords(pctx, most)
	if err := ctx.Err(); err != nil {
		return nil, -1, err
	}
	var errs []error
	fetches.EachError(func(topic string, p int32, err error) {
		if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			errs = append(errs, fmt.Errorf("kafka: reading topic %s partition %d: %w", topic, p, err))
		}
	})
	if len(errs) > 0 {
		return nil, -1, errors.Join(errs...)
	}
	hw := int64(-1)
	var recs []*kgo.Record
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		hw = max(hw, p.HighWatermark)
		recs = append(recs, p.Records...)
	})
	if n := len(recs); n > 0 {
		r.next = recs[n-1].Offset + 1
	}
	return recs, hw, nil
}

// pollLinger polls like poll, and once it has records keeps polling until
// linger has passed since the first of them came, or it has most.
func (r *partitionReader) pollLinger(ctx context.Context, wait, linger time.Duration, most int) ([]*kgo.Record, int64, error) {
	recs, hw, err := r.poll(ctx, wait, most)
	if err != nil || len(recs) == 0 || linger <= 0 {
		return recs, hw, err
	}
	until := time.Now().Add(linger)
	for len(recs) < most {
		left := time.Until(until)
		if left <= 0 {
			break
		}
		more, mhw, err := r.poll(ctx, left, most-len(recs))
		if err != nil {
			return recs, hw, nil // the next call reports it; these records are good
		}
		recs, hw = append(recs, more...), max(hw, mhw)
	}
	return recs, hw, nil
}

func (r *partitionReader) close() { r.cl.Close() }

// readers keeps the partition readers of this process between the calls of
// the reading SDF, which reads each partition in short calls: a reader
// keeps fetching ahead while its partition waits for its next call. A
// reader is taken by one call at a time.
var readers = struct {
	sync.Mutex
	idle map[readerKey]*partitionReader
}{idle: map[readerKey]*partitionReader{}}

// takeReader returns the idle reader of key positioned at offset, or a new
// one (a reader elsewhere, as after a retried bundle, is replaced).
func takeReader(key readerKey, offset int64) (*partitionReader, error) {
	readers.Lock()
	r := readers.idle[key]
	delete(readers.idle, key)
	readers.Unlock()
	if r != nil && r.next == offset {
		return r, nil
	}
	if r != nil {
		r.close()
	}
	return newPartitionReader(key, offset)
}

// closeReaders closes the idle readers of a job.
func closeReaders(job string) {
	readers.Lock()
	var idle []*partitionReader
	for k, r := range readers.idle {
		if k.job == job {
			idle = append(idle, r)
			delete(readers.idle, k)
		}
	}
	readers.Unlock()
	for _, r := range idle {
		r.close()
	}
}

// putReader returns a reader for the next call on its partition.
func putReader(r *partitionReader) {
	readers.Lock()
	old := readers.idle[r.key]
	readers.idle[r.key] = r
	readers.Unlock()
	if old != nil {
		old.close()
	}
}

// kafkaSink commits a group's offsets and produces dead letters.
type kafkaSink struct {
	cl    *kgo.Client
	adm   *kadm.Client
	group string
}

func newKafkaSink(brokers, group string) (*kafkaSink, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds(brokers)...), kgo.ProducerLinger(0))
	if err != nil {
		return nil, fmt.Errorf("kafka %s: %w", brokers, err)
	}
	return &kafkaSink{cl: cl, adm: kadm.NewClient(cl), group: group}, nil
}

// commit records next as the group's offset of the partition: the records
// before it are stored.
func (k *kafkaSink) commit(ctx context.Context, topic string, partition int32, next int64) error {
	ctx, cancel := context.WithTimeout(ctx, kafkaTimeout)
	defer cancel()
	var os kadm.Offsets
	os.AddOffset(topic, partition, next, -1)
	resp, err := k.adm.CommitOffsets(ctx, k.group, os)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		return fmt.Errorf("kafka: committing offset %d of topic %s partition %d for group %s: %w", next, topic, partition, k.group, err)
	}
	return nil
}

// deadLetter produces records to topic and waits for their acknowledgement.
func (k *kafkaSink) deadLetter(ctx context.Context, recs []*kgo.Record) error {
	if len(recs) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, kafkaTimeout)
	defer cancel()
	if err := k.cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("kafka: producing %d dead letters to %s: %w", len(recs), recs[0].Topic, err)
	}
	return nil
}

func (k *kafkaSink) close() { k.cl.Close() }

// StreamLag returns how many records of the topics lie after the group's
// committed offsets (all of them where it committed none): 0 once a stream
// of that group has stored every record produced so far.
func StreamLag(ctx context.Context, brokers, group string, topics []string) (int64, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds(brokers)...))
	if err != nil {
		return 0, fmt.Errorf("kafka %s: %w", brokers, err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(ctx, kafkaTimeout)
	defer cancel()
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		return 0, fmt.Errorf("kafka %s: listing offsets: %w", brokers, err)
	}
	starts, err := startPositions(ctx, brokers, group, topics)
	if err != nil {
		return 0, err
	}
	var lag int64
	for _, p := range starts {
		end, ok := ends.Lookup(p.Topic, p.Partition)
		if !ok || end.Err != nil {
			return 0, fmt.Errorf("kafka %s: no end offset of topic %s partition %d", brokers, p.Topic, p.Partition)
		}
		lag += max(end.Offset-p.Start, 0)
	}
	return lag, nil
}
