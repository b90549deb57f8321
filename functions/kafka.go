package functions

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/records"
)

// The eventSource of the Kafka events Lambda delivers: Amazon MSK and
// self-managed Kafka event source mappings.
const (
	eventSourceMSK   = "aws:kafka"
	eventSourceKafka = "SelfManagedKafka"
)

// LambdaOptions configure a Lambda.
type LambdaOptions struct {
	// Topics maps each Kafka topic the function takes records from to the
	// name of the table whose rows its record values are. A table takes
	// records from one topic only (records.Seq numbers a table's rows by
	// partition and offset, not by topic). Records of a topic not in Topics
	// are bad records (reason unknown_table).
	Topics map[string]string
	// BadRecords is what a Kafka invocation does with a bad record:
	// records.Fail (the zero Policy) or records.Skip. records.DeadLetter
	// is refused: a Lambda has no Kafka producer; the event source
	// mapping's on-failure destination keeps the batches that fail.
	BadRecords records.Policy
}

// The reasons of fenestra_records_bad_total.
const (
	reasonUnknownTable = iota // the topic is mapped to no table
	reasonRange               // a partition or offset records.Seq cannot number
	reasonBase64              // the value is not base64
	reasonValue               // the value is not a JSON row (records.Error without a column)
	reasonColumn              // a column is missing, unknown, repeated or mistyped
	numReasons
)

var kafkaReasons = [numReasons]string{"unknown_table", "range", "base64", "value", "column"}

// kafkaTrigger is a Lambda's Kafka configuration: its topics and policy.
// Safe for concurrent use.
type kafkaTrigger struct {
	topics  map[string]*kafkaTopic
	list    []*kafkaTopic // in the feature file's table order; kafkaTopic.i indexes it
	policy  records.Policy
	metrics *metrics
	log     *slog.Logger
}

// kafkaTopic is a topic and the table its records are rows of.
type kafkaTopic struct {
	i        int
	name     string
	table    *Table
	decoders sync.Pool // of *records.Decoder, which are not safe for concurrent use
	ingested prometheus.Counter
	bad      [numReasons]prometheus.Counter
}

// newKafkaTrigger checks opts against svc's tables.
func newKafkaTrigger(svc *Service, opts LambdaOptions) (*kafkaTrigger, error) {
	switch opts.BadRecords.Mode {
	case records.Fail, records.Skip:
	case records.DeadLetter:
		return nil, fmt.Errorf("functions: the bad-records policy %s needs a Kafka producer, which a Lambda does not have: "+
			"use fail and the event source mapping's on-failure destination (or skip)", opts.BadRecords)
	default:
		return nil, fmt.Errorf("functions: unknown bad-records policy %d", opts.BadRecords.Mode)
	}
	k := &kafkaTrigger{topics: map[string]*kafkaTopic{}, policy: opts.BadRecords, metrics: svc.metrics, log: svc.log}
	byTable := map[string]string{}
	for _, topic := range slices.Sorted(maps.Keys(opts.Topics)) {
		table := opts.Topics[topic]
		t := svc.byTable[table]
		switch {
		case topic == "":
			return nil, fmt.Errorf("functions: an empty topic name is mapped to table %s", table)
		case t == nil:
			return nil, fmt.Errorf("functions: topic %s is mapped to table %s, which the feature file does not create", topic, table)
		case byTable[table] != "":
			return nil, fmt.Errorf("functions: topics %s and %s are both mapped to table %s; a table takes records from one topic", byTable[table], topic, table)
		}
		byTable[table] = topic
		kt := &kafkaTopic{name: topic, table: t, ingested: svc.metrics.ingested.WithLabelValues(table)}
		kt.decoders.New = func() any { return records.NewDecoder(t.Def.Name, t.Def.Schema) }
		for r, reason := range kafkaReasons {
			kt.bad[r] = svc.metrics.bad.WithLabelValues(topic, reason)
		}
		k.topics[topic] = kt
	}
	for _, t := range svc.tables {
		if topic := byTable[t.Def.Name]; topic != "" {
			kt := k.topics[topic]
			kt.i = len(k.list)
			k.list = append(k.list, kt)
		}
	}
	return k, nil
}

// kafkaEvent serves a Kafka event (see Lambda).
func (l *Lambda) kafkaEvent(ctx context.Context, payload []byte) (out any, err error) {
	start, route := time.Now(), l.srv.svc.metrics.fallbacks[routeKafka]
	defer func() {
		if v := recover(); v != nil {
			out, err = nil, recovered(v)
		}
		err = l.finish(ctx, route, start, err)
	}()
	var ev events.KafkaEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, inputErr("", "reading a Kafka event: %v", err)
	}
	b := &kafkaBatch{k: l.kafka, rows: make([]*tableRows, len(l.kafka.list))}
	defer b.release()
	if err := b.decode(&ev); err != nil {
		return nil, err
	}
	if err := b.store(ctx, l.srv.svc); err != nil {
		return nil, err
	}
	return json.RawMessage(b.summary()), nil
}

// kafkaBatch is the rows of one Kafka invocation, gathered per table.
type kafkaBatch struct {
	k         *kafkaTrigger
	rows      []*tableRows // by kafkaTopic.i; nil for a table without records
	records   int
	bad       int
	src, val  []byte // scratch: a record's base64 value, and the value
	lastTopic string // the topic of the previous record, and its kafkaTopic
	last      *kafkaTopic
}

// tableRows is the rows of one table in a kafkaBatch.
type tableRows struct {
	topic *kafkaTopic
	dec   *records.Decoder
	block *types.Block
	seqs  []uint64
}

// decode decodes every record of ev, partitions in the order of their
// names, records in the order of the event. A bad record ends it under
// records.Fail, with an *InputError naming the record; under records.Skip
// it is counted and logged.
func (b *kafkaBatch) decode(ev *events.KafkaEvent) error {
	for _, key := range slices.Sorted(maps.Keys(ev.Records)) {
		list := ev.Records[key]
		for i := range list {
			b.records++
			reason, bad := b.add(&list[i])
			if bad == nil {
				continue
			}
			if b.k.policy.Mode != records.Skip {
				return inputErr("", "bad record: %v; nothing of the batch was stored", bad)
			}
			b.skip(reason, bad)
		}
	}
	return nil
}

// add decodes one record as a row of its topic's table, or returns the
// reason it is bad and its *records.Error.
func (b *kafkaBatch) add(kr *events.KafkaRecord) (int, *records.Error) {
	// Kafka partitions are int32; one beyond is out of range either way.
	r := records.Record{Topic: kr.Topic, Partition: int32(max(min(kr.Partition, math.MaxInt32), math.MinInt32)), Offset: kr.Offset}
	t := b.topic(kr.Topic)
	if t == nil {
		return reasonUnknownTable, records.Bad(r, "", "unknown table: topic %s is mapped to no table", kr.Topic)
	}
	if kr.Partition < 0 || kr.Partition > records.MaxPartition || kr.Offset < 0 || kr.Offset > records.MaxOffset {
		return reasonRange, records.Bad(r, "", "out of range: sequence numbers take partitions up to %d and offsets up to %d",
			records.MaxPartition, int64(records.MaxOffset))
	}
	b.src = append(b.src[:0], kr.Value...)
	val, err := base64.StdEncoding.AppendDecode(b.val[:0], b.src)
	b.val = val
	if err != nil {
		return reasonBase64, records.Bad(r, "", "the value is not base64: %v", err)
	}
	r.Value = val
	rows := b.rowsOf(t)
	if rows.seqs, err = rows.dec.Append(rows.block, rows.seqs, r); err != nil {
		var re *records.Error
		if !errors.As(err, &re) {
			re = records.Bad(r, "", "%v", err)
		}
		if re.Column != "" {
			return reasonColumn, re
		}
		return reasonValue, re
	}
	return 0, nil
}

// topic returns the kafkaTopic of a topic, or nil; records come grouped
// by topic, so it looks up the map once per group.
func (b *kafkaBatch) topic(name string) *kafkaTopic {
	if b.last == nil || name != b.lastTopic {
		b.lastTopic, b.last = name, b.k.topics[name]
	}
	return b.last
}

// rowsOf returns the rows of t's table, starting them at its first record.
func (b *kafkaBatch) rowsOf(t *kafkaTopic) *tableRows {
	rows := b.rows[t.i]
	if rows == nil {
		dec := t.decoders.Get().(*records.Decoder)
		rows = &tableRows{topic: t, dec: dec, block: types.NewBlock(dec.Schema(), 0)}
		b.rows[t.i] = rows
	}
	return rows
}

// skip counts and logs a bad record.
func (b *kafkaBatch) skip(reason int, bad *records.Error) {
	b.bad++
	if t := b.k.topics[bad.Topic]; t != nil {
		t.bad[reason].Inc()
	} else {
		b.k.metrics.bad.WithLabelValues(bad.Topic, kafkaReasons[reason]).Inc()
	}
	b.k.log.Warn("bad record skipped", "topic", bad.Topic, "partition", bad.Partition, "offset", bad.Offset,
		"reason", kafkaReasons[reason], "err", bad.Error())
}

// store writes the rows of each table, with their sequence numbers.
func (b *kafkaBatch) store(ctx context.Context, svc *Service) error {
	for _, rows := range b.rows {
		if rows == nil || rows.block.Len == 0 {
			continue
		}
		if err := svc.ingest(ctx, rows.topic.table, rows.block, rows.seqs); err != nil {
			return err
		}
		rows.topic.ingested.Add(float64(rows.block.Len))
	}
	return nil
}

// summary returns the answer: {"records":n,"rows":{"table":n,...},"bad":n}.
func (b *kafkaBatch) summary() []byte {
	out := append([]byte(`{"records":`), strconv.Itoa(b.records)...)
	out = append(out, `,"rows":{`...)
	n := 0
	for _, rows := range b.rows {
		if rows == nil || rows.block.Len == 0 {
			continue
		}
		if n++; n > 1 {
			out = append(out, ',')
		}
		out = appendJSONString(out, rows.topic.table.Def.Name)
		out = append(append(out, ':'), strconv.Itoa(rows.block.Len)...)
	}
	out = append(append(out, `},"bad":`...), strconv.Itoa(b.bad)...)
	return append(out, '}')
}

// release returns the batch's decoders to their pools.
func (b *kafkaBatch) release() {
	for _, rows := range b.rows {
		if rows != nil {
			rows.topic.decoders.Put(rows.dec)
		}
	}
}
