package follow

// This file holds the Follower's Kafka client code (franz-go).

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	// kafkaTimeout bounds New's reading of offsets: brokers that do not
	// answer are an error, not a hang.
	kafkaTimeout = 10 * time.Second
	// maxPoll is the most records one poll takes, which bounds the rows
	// of one Apply.
	maxPoll = 10000
	// fetchMaxWait is how long a broker holds a fetch that finds no
	// records (it answers as soon as some come).
	fetchMaxWait = 500 * time.Millisecond
)

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

// newClient returns the Follower's client: it reads what the stream
// reads, committed records only, and an offset out of range is an error,
// never a silent jump to another offset. It keeps control records
// (transaction markers), which have offsets too: a partition whose last
// records are a marker, or an aborted transaction and its marker, is
// applied up to its high watermark once the marker is read. It consumes
// nothing until Run adds the partitions, at their exact start offsets
// (AddConsumePartitions, as the option ConsumePartitions would at once);
// it joins no group and commits nothing.
func newClient(brokers string) (*kgo.Client, error) {
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(seeds(brokers)...),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NoResetOffset()),
		kgo.KeepControlRecords(),
		kgo.FetchMaxWait(fetchMaxWait),
	)
	if err != nil {
		return nil, fmt.Errorf("follow: kafka %s: %w", brokers, err)
	}
	return cl, nil
}

// positions lists every partition of cfg's topics, sorted by topic and
// partition, with where following starts (Start and Next) and the high
// watermark that ends catching up (Target). A partition starts at the
// group's committed offset when there is one, never before the log start,
// else at its earliest offset: where the stream starts (dataflow's
// startPositions).
func positions(ctx context.Context, adm *kadm.Client, cfg Config) ([]Partition, error) {
	ctx, cancel := context.WithTimeout(ctx, kafkaTimeout)
	defer cancel()
	topics := slices.Sorted(maps.Values(cfg.Topics))
	starts, err := adm.ListStartOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("follow: kafka %s: listing partitions: %w", cfg.Brokers, err)
	}
	for _, name := range topics {
		if _, missing := starts[name][-1]; missing || len(starts[name]) == 0 {
			return nil, fmt.Errorf("follow: kafka %s: topic %s does not exist", cfg.Brokers, name)
		}
	}
	committed, err := adm.FetchOffsetsForTopics(ctx, cfg.Group, topics...)
	if errors.Is(err, kerr.GroupIDNotFound) { // a new group: nothing committed
		committed, err = nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("follow: kafka %s: reading the offsets of group %s: %w", cfg.Brokers, cfg.Group, err)
	}
	// Read after the commits, the high watermarks are at or past them.
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("follow: kafka %s: listing high watermarks: %w", cfg.Brokers, err)
	}
	table := map[string]string{}
	for t, name := range cfg.Topics {
		table[name] = t
	}
	var out []Partition
	for _, name := range topics {
		ps := starts[name]
		for _, p := range slices.Sorted(maps.Keys(ps)) {
			lo := ps[p]
			hi, ok := ends.Lookup(name, p)
			switch {
			case lo.Err != nil:
				return nil, fmt.Errorf("follow: kafka %s: topic %s partition %d: %w", cfg.Brokers, name, p, lo.Err)
			case hi.Err != nil:
				return nil, fmt.Errorf("follow: kafka %s: topic %s partition %d: listing its high watermark: %w", cfg.Brokers, name, p, hi.Err)
			case !ok:
				return nil, fmt.Errorf("follow: kafka %s: topic %s partition %d: no high watermark listed", cfg.Brokers, name, p)
			}
			start := lo.Offset
			if c, ok := committed.Lookup(name, p); ok && c.Err == nil && c.At >= 0 {
				start = max(c.At, lo.Offset) // records before the log start are gone
			}
			out = append(out, Partition{Table: table[name], Topic: name, Partition: p,
				Start: start, Next: start, Target: hi.Offset, HighWatermark: hi.Offset})
		}
	}
	return out, nil
}

// fetchErr returns the errors of a poll's fetches. kgo retries the errors
// it can; those it returns stop following: a partition kgo stops fetching
// (an offset out of range, lost records, a denied read) would otherwise
// fall silently behind.
func (f *Follower) fetchErr(fetches kgo.Fetches) error {
	var errs []error
	fetches.EachError(func(topic string, p int32, err error) {
		next := f.next(topic, p)
		if errors.Is(err, kerr.OffsetOutOfRange) {
			err = fmt.Errorf("%w: the records from offset %d on are gone (retention?)", err, next)
		}
		errs = append(errs, fmt.Errorf("follow: reading topic %s partition %d at offset %d: %w", topic, p, next, err))
	})
	return errors.Join(errs...)
}

// next returns the Next of a partition (-1 for one not followed).
func (f *Follower) next(topic string, p int32) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if i, ok := f.index[topicPartition{topic, p}]; ok {
		return f.parts[i].Next
	}
	return -1
}
