package follow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/records"
)

var (
	// ErrClosed is Run's answer once the Follower is closed.
	ErrClosed = errors.New("follow: closed")
	// ErrRunAgain is the answer of a second call of Run.
	ErrRunAgain = errors.New("follow: Run called more than once")
)

// Config says what to follow.
type Config struct {
	// Brokers is the comma-separated list of seed brokers (host:port).
	Brokers string
	// Group is the stream's consumer group, whose committed offsets are
	// where following starts ("fenestra-stream" is the stream's default).
	// The Follower never joins it and never commits.
	Group string
	// Topics maps each table to the topic of its records. A table takes
	// one topic, and a topic feeds one table.
	Topics map[string]string
	// Schemas maps each table of Topics to the schema its records are
	// decoded with.
	Schemas map[string]types.Schema
	// Bad is what to do with a bad record, as the stream's --bad-records
	// (see the package comment; DeadLetter is handled as Skip).
	Bad records.Policy
	// Logger receives the Follower's logs; nil is silent.
	Logger *slog.Logger
}

// Apply takes decoded rows of one table with their sequence numbers
// (seqs[i] is row i's). It is called by Run's goroutine, one call at a
// time; it may keep rows and seqs, which the Follower does not touch
// again. An error stops following.
type Apply func(table string, rows *types.Block, seqs []uint64) error

// Partition is the progress of one partition.
type Partition struct {
	Table     string
	Topic     string
	Partition int32
	// Start is the offset following started from.
	Start int64
	// Next is the offset of the next record to apply: the records before
	// it were applied, or skipped as bad.
	Next int64
	// Target is the high watermark New read: the partition is caught up
	// once Next reaches it.
	Target int64
	// HighWatermark is the latest high watermark known (from New, then
	// from fetches): HighWatermark - Next is about the partition's lag.
	HighWatermark int64
}

// Stats is a snapshot of a Follower's progress.
type Stats struct {
	Applied int64 // rows applied
	Bad     int64 // bad records skipped
	// Partitions are the partitions followed, by topic and partition.
	Partitions []Partition
}

// Follower follows the topics of a Config. Its methods are safe for
// concurrent use; Run is called once.
type Follower struct {
	cl     *kgo.Client
	log    *slog.Logger
	policy records.Policy
	topics map[string]*topic // by topic name
	index  map[topicPartition]int

	ready   chan struct{}
	done    chan struct{} // closed when Run returns
	started atomic.Bool
	closing sync.Once

	mu      sync.Mutex
	parts   []Partition // sorted by topic, partition; Stats's
	waiting int         // partitions whose Next is below their Target
	applied int64
	bad     int64
	err     error
	closed  bool
	cancel  context.CancelCauseFunc // Run's, once it runs
}

// topic is a followed topic: the table it feeds and that table's decoder
// (used by Run's goroutine only).
type topic struct {
	table string
	dec   *records.Decoder
}

type topicPartition struct {
	topic     string
	partition int32
}

// New checks cfg, connects to Kafka and reads where each partition's
// following starts and the high watermarks that end catching up. It
// returns without consuming: load the tables, then call Run. ctx bounds
// the reading, which takes at most 10 s in any case. The partitions
// followed are those the topics have now.
func New(ctx context.Context, cfg Config) (*Follower, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	cl, err := newClient(cfg.Brokers)
	if err != nil {
		return nil, err
	}
	parts, err := positions(ctx, kadm.NewClient(cl), cfg)
	if err != nil {
		cl.Close()
		return nil, err
	}
	f := &Follower{cl: cl, log: cfg.Logger, policy: cfg.Bad, topics: map[string]*topic{}, index: map[topicPartition]int{},
		ready: make(chan struct{}), done: make(chan struct{}), parts: parts}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	for table, name := range cfg.Topics {
		f.topics[name] = &topic{table: table, dec: records.NewDecoder(table, cfg.Schemas[table])}
	}
	for i, p := range parts {
		f.index[topicPartition{p.Topic, p.Partition}] = i
		if p.Next < p.Target {
			f.waiting++
		}
	}
	if f.waiting == 0 {
		close(f.ready)
	}
	return f, nil
}

// check reports what is wrong with cfg.
func (cfg *Config) check() error {
	switch {
	case len(seeds(cfg.Brokers)) == 0:
		return errors.New("follow: no Kafka brokers")
	case cfg.Group == "":
		return errors.New("follow: no consumer group (the stream's, whose committed offsets are where following starts)")
	case len(cfg.Topics) == 0:
		return errors.New("follow: no tables to follow")
	}
	fed := map[string]string{} // topic -> table
	for _, table := range slices.Sorted(maps.Keys(cfg.Topics)) {
		name := cfg.Topics[table]
		if name == "" {
			return fmt.Errorf("follow: table %s has no topic", table)
		}
		if other, ok := fed[name]; ok {
			return fmt.Errorf("follow: tables %s and %s both take topic %s; a topic feeds one table", other, table, name)
		}
		fed[name] = table
		if len(cfg.Schemas[table]) == 0 {
			return fmt.Errorf("follow: table %s has no schema", table)
		}
	}
	return nil
}

// Run follows every partition from its start offset until ctx is done or
// an error stops it. Each poll's records are decoded into one block per
// table, applied with one call of apply per table, each partition's
// records in offset order. Run returns ctx's error when ctx ends,
// ErrClosed when Close stops it, else the error that stopped following
// (a bad record under Fail, an error of apply or of reading Kafka), which
// Err reports from then on. A second call returns ErrRunAgain.
func (f *Follower) Run(ctx context.Context, apply Apply) error {
	if !f.started.CompareAndSwap(false, true) {
		return ErrRunAgain
	}
	defer close(f.done)
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	f.mu.Lock()
	closed := f.closed
	f.cancel = cancel
	f.mu.Unlock()
	if closed {
		return f.stop(ErrClosed)
	}
	err := f.follow(runCtx, apply)
	if runCtx.Err() != nil && errors.Is(err, runCtx.Err()) { // stopped, not failed
		if err = ctx.Err(); err == nil {
			err = context.Cause(runCtx) // ErrClosed
		}
	}
	return f.stop(err)
}

// stop records why following stopped and returns it.
func (f *Follower) stop(err error) error {
	f.mu.Lock()
	f.err = err
	f.mu.Unlock()
	if errors.Is(err, context.Canceled) || errors.Is(err, ErrClosed) {
		f.log.Info("follow: stopped", "error", err)
	} else {
		f.log.Error("follow: stopped", "error", err)
	}
	return err
}

// follow polls and applies until an error (ctx's included).
func (f *Follower) follow(ctx context.Context, apply Apply) error {
	f.cl.AddConsumePartitions(f.starts())
	for {
		fetches := f.cl.PollRecords(ctx, maxPoll)
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := f.fetchErr(fetches); err != nil {
			return err
		}
		if err := f.applyPoll(fetches, apply); err != nil {
			return err
		}
	}
}

// starts returns the start offset of every partition.
func (f *Follower) starts() map[string]map[int32]kgo.Offset {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]map[int32]kgo.Offset{}
	for _, p := range f.parts {
		if out[p.Topic] == nil {
			out[p.Topic] = map[int32]kgo.Offset{}
		}
		out[p.Topic][p.Partition] = kgo.NewOffset().At(p.Start)
	}
	return out
}

// Ready returns a channel closed once every partition was applied up to
// the high watermark New read (at once when there was nothing to apply).
// It stays open if following stops before.
func (f *Follower) Ready() <-chan struct{} { return f.ready }

// Err returns why following stopped: nil before Run and while it runs.
func (f *Follower) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// Stats returns a snapshot of the progress.
func (f *Follower) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return Stats{Applied: f.applied, Bad: f.bad, Partitions: slices.Clone(f.parts)}
}

// Close stops Run, waiting for it to return (and so for a call of Apply
// in progress), and closes the Kafka client. Calls after the first do
// nothing.
func (f *Follower) Close() {
	f.closing.Do(func() {
		f.mu.Lock()
		f.closed = true
		cancel := f.cancel
		f.mu.Unlock()
		if cancel != nil {
			cancel(ErrClosed)
			<-f.done
		}
		f.cl.Close()
	})
}
