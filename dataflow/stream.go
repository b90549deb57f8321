package dataflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"reflect"
	"sync"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/sdf"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/rtrackers/offsetrange"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/records"
	"github.com/fenestra-dev/fenestra/storage/bigtable"
)

func init() {
	beam.RegisterType(reflect.TypeOf((*kafkaPartition)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*recordBatch)(nil)).Elem())
	register.DoFn4x2[context.Context, *sdf.LockRTracker, kafkaPartition, func(recordBatch), sdf.ProcessContinuation, error](&kafkaReadFn{})
	register.Emitter1[recordBatch]()
	register.DoFn3x1[context.Context, recordBatch, func(int), error](&streamWriteFn{})
	register.Function1x0(discardInt)
}

// StreamJob streams tables' rows from Kafka topics into the online store.
type StreamJob struct {
	// Tables are the definitions of the tables written; each must have
	// been initialised in the store with the same definition (fenestra
	// storage init).
	Tables []*plan.Table
	// Topics[i] is the topic whose records are rows of Tables[i].
	Topics []string
	// Brokers is the comma-separated list of seed brokers.
	Brokers string
	// Group is the consumer group whose committed offsets are the
	// stream's progress: a partition is read from its committed offset
	// (else from its earliest), and an offset is committed only once the
	// rows before it are stored.
	Group      string
	Target     BigtableTarget
	BadRecords records.Policy
	// Linger is how long a read that found records keeps reading before
	// it hands them on to be written: fewer, larger writes and commits
	// (on this machine, at 5,000 records/s, 10 ms took the CPU per record
	// from about 70 µs to 28 µs and freshness p50 from 14 ms to 38 ms).
	// 0 is DefaultLinger; negative writes what each poll finds at once.
	Linger time.Duration
	// Views are the views whose tiled windows (DEPLOY
	// OPTIONS(long_windows=...)) the stream keeps tiles of: after storing
	// a batch's rows, the writer rebuilds the tiles of the buckets they
	// touched from the store, as materialize does (one ReadBuckets per
	// window and key of the batch), before it commits the batch's offset.
	// A window whose request table the stream does not write, with no
	// index on its PARTITION BY and ORDER BY columns, or whose index
	// cannot hold tiles, is skipped with a warning through slog.
	Views []*plan.Plan
}

// Stream adds to the pipeline of s an unbounded read of the job's topics
// whose rows are written to Bigtable as they arrive, with arrival sequence
// numbers derived from partition and offset (records.Seq): a record read
// again, after a restart or a retried bundle, overwrites its own row, so
// every record is stored exactly once. It lists the topics' partitions and
// the group's offsets now, when the pipeline is built.
//
// When ctx ends, a pipeline running in this process drains and ends: Run
// it with a context of its own, which ends only to abandon the drain.
//
// The read is a splittable DoFn over each partition's offsets; the write
// follows it in the same stage (fused), so a record is stored as soon as
// it is read and an offset committed only after its rows are, and the
// tiles of the buckets they touched rebuilt (see StreamJob.Views).
func Stream(ctx context.Context, s beam.Scope, job StreamJob) error {
	s = s.Scope("dataflow.Stream")
	if len(job.Topics) != len(job.Tables) {
		return fmt.Errorf("stream: %d topics for %d tables", len(job.Topics), len(job.Tables))
	}
	parts, err := startPositions(ctx, job.Brokers, job.Group, job.Topics)
	if err != nil {
		return err
	}
	names := make([]string, len(job.Tables))
	schemas := make([]types.Schema, len(job.Tables))
	for i, t := range job.Tables {
		names[i], schemas[i] = t.Name, t.Schema
	}
	specs, plans, err := tileSpecs("stream", job.Tables, job.Views, false)
	if err != nil {
		return err
	}
	token := newStreamToken(ctx)
	elems := beam.CreateList(s, parts)
	linger := job.Linger
	switch {
	case linger == 0:
		linger = DefaultLinger
	case linger < 0:
		linger = 0
	}
	batches := beam.ParDo(s, &kafkaReadFn{Job: token, Brokers: job.Brokers, Linger: linger}, elems)
	written := beam.ParDo(s, &streamWriteFn{Zone: types.ZoneName(), Job: token, Names: names, Schemas: schemas, Target: job.Target,
		Brokers: job.Brokers, Group: job.Group, Policy: job.BadRecords.String(), Plans: plans, Tiles: specs}, batches)
	// The writer never emits: a stage whose last DoFn has no output makes
	// prism spin, so its (empty) output goes on to a discard.
	beam.ParDo0(s, discardInt, beam.Reshuffle(s, written))
	return nil
}

func discardInt(int) {}

// streams maps the token of each stream built in this process to the
// context it was built with. When that context ends, the stream drains:
// each partition's read stops (its restriction done), the rows read are
// written and their offsets committed, and the pipeline then ends by
// itself, so Run returns nil. Workers in other processes do not know the
// token and run until their runner stops them (a Dataflow drain, say).
var streams sync.Map // token -> context.Context

func newStreamToken(ctx context.Context) string {
	token := fmt.Sprintf("%016x", rand.Uint64())
	streams.Store(token, ctx)
	context.AfterFunc(ctx, func() { closeReaders(token) })
	return token
}

// streamEnded reports whether the stream of token was built in this
// process and its context has ended.
func streamEnded(token string) bool {
	ctx, ok := streams.Load(token)
	return ok && ctx.(context.Context).Err() != nil
}

// recordBatch is the records one call of the reading SDF read from one
// partition: the element between read and write.
type recordBatch struct {
	Table     int
	Topic     string
	Partition int32
	// Next is the offset after the batch's last record: the partition's
	// progress once the batch is stored.
	Next    int64
	Offsets []int64
	Times   []int64 // record timestamps, Unix milliseconds
	Keys    [][]byte
	Values  [][]byte
}

// Reading bounds: a call of the reading SDF returns after one poll, which
// waits at most pollWait for records and takes at most maxBatch of them,
// so each partition's element yields often to the others of its bundle.
const (
	pollWait = 20 * time.Millisecond
	maxBatch = 20000
	// DefaultLinger is a StreamJob's Linger when it sets none.
	DefaultLinger = 10 * time.Millisecond
)

// kafkaReadFn reads a Kafka partition: a splittable DoFn whose restriction
// is the partition's offsets from the start to infinity.
type kafkaReadFn struct {
	Job     string // the stream's token
	Brokers string
	Linger  time.Duration
}

func (f *kafkaReadFn) CreateInitialRestriction(p kafkaPartition) offsetrange.Restriction {
	return offsetrange.Restriction{Start: p.Start, End: math.MaxInt64}
}

func (f *kafkaReadFn) SplitRestriction(_ kafkaPartition, rest offsetrange.Restriction) []offsetrange.Restriction {
	return []offsetrange.Restriction{rest}
}

func (f *kafkaReadFn) RestrictionSize(_ kafkaPartition, rest offsetrange.Restriction) float64 {
	return 1
}

func (f *kafkaReadFn) CreateTracker(rest offsetrange.Restriction) *sdf.LockRTracker {
	return sdf.NewLockRTracker(&partitionTracker{offsetrange.NewTracker(rest)})
}

// partitionTracker tracks the offsets of a partition read: an unbounded
// offset range that splits only where the reading stopped (a checkpoint,
// fraction 0). A runner's dynamic split at a fraction of "the rest" would
// cut the range at an arbitrary far offset and have a second reader of
// the partition start there.
type partitionTracker struct {
	*offsetrange.Tracker
}

func (t *partitionTracker) TrySplit(fraction float64) (primary, residual any, err error) {
	if fraction > 0 {
		return t.GetRestriction(), nil, nil
	}
	return t.Tracker.TrySplit(0)
}

func (t *partitionTracker) IsBounded() bool { return false }

// TruncateRestriction ends the read when the pipeline drains.
func (f *kafkaReadFn) TruncateRestriction(_ *sdf.LockRTracker, _ kafkaPartition) offsetrange.Restriction {
	return offsetrange.Restriction{}
}

// ProcessElement reads the records the partition has now (waiting briefly
// when it has none), claims their offsets and emits them as one batch,
// then asks to resume.
func (f *kafkaReadFn) ProcessElement(ctx context.Context, rt *sdf.LockRTracker, p kafkaPartition, emit func(recordBatch)) (sdf.ProcessContinuation, error) {
	if streamEnded(f.Job) {
		rt.TryClaim(int64(math.MaxInt64)) // the rest of the partition is for the next run
		return sdf.StopProcessing(), nil
	}
	start := rt.GetRestriction().(offsetrange.Restriction).Start
	r, err := takeReader(readerKey{job: f.Job, brokers: f.Brokers, topic: p.Topic, partition: p.Partition}, start)
	if err != nil {
		return sdf.StopProcessing(), fail(err)
	}
	defer putReader(r)
	recs, hw, err := r.pollLinger(ctx, pollWait, f.Linger, maxBatch)
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return sdf.StopProcessing(), ctx.Err()
	case errors.Is(err, kerr.OffsetOutOfRange):
		return sdf.StopProcessing(), fail(fmt.Errorf("%w: the records from offset %d on are gone from topic %s partition %d (retention?); "+
			"to skip them, commit a later offset for the group", err, start, p.Topic, p.Partition))
	default:
		slog.WarnContext(ctx, "stream: reading, will retry", "topic", p.Topic, "partition", p.Partition, "offset", start, "error", err)
		return sdf.ResumeProcessingIn(time.Second), nil
	}
	b := recordBatch{Table: p.Table, Topic: p.Topic, Partition: p.Partition, Next: start}
	for _, rec := range recs {
		if !rt.TryClaim(rec.Offset) {
			if err := rt.GetError(); err != nil {
				return sdf.StopProcessing(), fail(fmt.Errorf("kafka: topic %s partition %d offset %d: %w", p.Topic, p.Partition, rec.Offset, err))
			}
			return sdf.StopProcessing(), nil
		}
		b.Offsets = append(b.Offsets, rec.Offset)
		b.Times = append(b.Times, rec.Timestamp.UnixMilli())
		b.Keys = append(b.Keys, rec.Key)
		b.Values = append(b.Values, rec.Value)
		b.Next = rec.Offset + 1
	}
	lag := int64(0)
	if hw >= 0 {
		lag = max(hw-b.Next, 0)
	}
	streamRead(p.Topic, p.Partition, len(recs), lag)
	if len(recs) > 0 {
		emit(b)
	}
	return sdf.ResumeProcessingIn(0), nil
}

// streamWriteFn decodes batches of records with their tables' schemas,
// stores their rows, rebuilds the tiles they touched, and then commits
// their partition's offset.
type streamWriteFn struct {
	// Zone is the time zone of the process that built the pipeline
	// (types.ZoneName), set on the worker in Setup.
	Zone    string
	Job     string // the stream's token
	Names   []string
	Schemas []types.Schema
	Target  BigtableTarget
	Brokers string
	Group   string
	Policy  string // records.Policy, as text
	// Plans (plan JSON) and Tiles are the tiled windows to keep tiles of.
	Plans [][]byte
	Tiles []tileSpec

	store    *bigtable.Store
	kafka    *kafkaSink
	policy   records.Policy
	decoders []*records.Decoder
	tiles    *tileBuilder
}

func (f *streamWriteFn) Setup(ctx context.Context) error {
	if err := types.SetZone(f.Zone); err != nil {
		return fail(err)
	}
	var err error
	if f.policy, err = records.ParsePolicy(f.Policy); err != nil {
		return fail(err)
	}
	if f.tiles, err = newTileBuilder(f.Plans, f.Tiles); err != nil {
		return fail(err)
	}
	f.decoders = make([]*records.Decoder, len(f.Names))
	for i, name := range f.Names {
		f.decoders[i] = records.NewDecoder(name, f.Schemas[i])
	}
	if f.kafka, err = newKafkaSink(f.Brokers, f.Group); err != nil {
		return fail(err)
	}
	f.store, err = bigtable.Open(ctx, bigtable.Config{Project: f.Target.Project, Instance: f.Target.Instance,
		Prefix: f.Target.Prefix, EmulatorHost: f.Target.EmulatorHost, Timeout: f.Target.Timeout})
	return fail(err)
}

func (f *streamWriteFn) Teardown() error {
	if f.kafka != nil {
		f.kafka.close()
	}
	if f.store == nil {
		return nil
	}
	return f.store.Close()
}

// ProcessElement records its error as the pipeline's failure (see Run).
func (f *streamWriteFn) ProcessElement(ctx context.Context, b recordBatch, _ func(int)) error {
	return fail(f.process(ctx, b))
}

func (f *streamWriteFn) process(ctx context.Context, b recordBatch) error {
	if b.Table < 0 || b.Table >= len(f.Names) {
		return fmt.Errorf("stream: batch of table %d of %d", b.Table, len(f.Names))
	}
	dec := f.decoders[b.Table]
	blk := types.NewBlock(dec.Schema(), len(b.Values))
	seqs := make([]uint64, 0, len(b.Values))
	times := make([]int64, 0, len(b.Values))
	var dead []*kgo.Record
	for i, v := range b.Values {
		rec := records.Record{Topic: b.Topic, Partition: b.Partition, Offset: b.Offsets[i], Value: v}
		var err error
		n := len(seqs)
		if seqs, err = dec.Append(blk, seqs, rec); err != nil {
			streamBad(b.Topic)
			switch f.policy.Mode {
			case records.Fail:
				return fmt.Errorf("bad record: %w (--bad-records=skip or dead-letter=TOPIC to go on)", err)
			case records.DeadLetter:
				dead = append(dead, deadLetter(f.policy.Topic, b, i, err))
			}
			continue
		}
		if len(seqs) > n {
			times = append(times, b.Times[i])
		}
	}
	if err := f.kafka.deadLetter(ctx, dead); err != nil {
		return err
	}
	if blk.Len > 0 {
		if err := writeRetrying(ctx, f.store, f.Names[b.Table], blk, seqs); err != nil {
			return err
		}
	}
	streamWritten(f.Names[b.Table], times, time.Now())
	if err := f.rebuildTiles(ctx, b, blk); err != nil {
		return err
	}
	return f.kafka.commit(ctx, b.Topic, b.Partition, b.Next)
}

// rebuildTiles rebuilds the tiles of the buckets the batch's rows, just
// stored, touched. A failure (after retries) fails the stream, as a
// failed row write does, before the offset is committed: the restarted
// stream reads the batch again and rebuilds them.
func (f *streamWriteFn) rebuildTiles(ctx context.Context, b recordBatch, blk *types.Block) error {
	if blk.Len == 0 {
		return nil
	}
	f.tiles.touch(b.Table, blk)
	n, err := f.tiles.rebuild(ctx, f.store, f.Names)
	streamTiles(f.Names[b.Table], n)
	if err != nil {
		slog.ErrorContext(ctx, "stream: tiles not rebuilt; stopping before committing the offset (the stale tiles are never read: requests read raw rows in their place)",
			"topic", b.Topic, "partition", b.Partition, "offset", b.Next, "error", err)
		return fmt.Errorf("rebuilding the tiles of the rows of %s partition %d before offset %d: %w", b.Topic, b.Partition, b.Next, err)
	}
	return nil
}

// deadLetter is the dead letter of record i of b: its key and value, the
// reason and its origin in headers.
func deadLetter(topic string, b recordBatch, i int, err error) *kgo.Record {
	return &kgo.Record{Topic: topic, Key: b.Keys[i], Value: b.Values[i], Headers: []kgo.RecordHeader{
		{Key: records.ErrorHeader, Value: []byte(err.Error())},
		{Key: records.SourceHeader, Value: fmt.Appendf(nil, "%s/%d/%d", b.Topic, b.Partition, b.Offsets[i])},
	}}
}

// RunStream runs p, whose streams were built with ctx, until ctx ends and
// the streams have drained (nil), or the pipeline fails. A drain that
// takes longer than drain is abandoned: the runner is cancelled, and the
// records read but not yet committed are read again by the next run.
func RunStream(ctx context.Context, p *beam.Pipeline, drain time.Duration) error {
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(drain, cancel)
		context.AfterFunc(runCtx, func() { t.Stop() })
	})
	defer stop()
	_, err := Run(runCtx, p)
	if err != nil && runCtx.Err() != nil {
		return fmt.Errorf("the stream did not drain within %v; stopped: %w", drain, err)
	}
	if err == nil && ctx.Err() == nil {
		return errors.New("the stream ended by itself")
	}
	return err
}
