package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/follow"
	"github.com/fenestra-dev/fenestra/internal/records"
	"github.com/fenestra-dev/fenestra/storage"
	"github.com/fenestra-dev/fenestra/storage/bigtable"
	"github.com/fenestra-dev/fenestra/storage/hot"
)

// holdConfig is what serve --follow asks: tables to hold in memory, each
// kept current from the Kafka topic fenestra stream writes it from.
type holdConfig struct {
	topics  topicFlags // TABLE=TOPIC
	brokers string
	group   string // the stream's consumer group
	bad     records.Policy
}

// heldStore is serve's store with --follow: the followed tables' reads
// come from memory (hot.Store), every other read and every write go to
// Bigtable as well. It is ready once the tables are loaded and the
// follower has caught up with the topics' ends as they were at start.
type heldStore struct {
	*hot.Store
	back     *bigtable.Store
	follower *follow.Follower
	tables   string       // the followed tables, for messages
	loaded   atomic.Bool  // every followed table loaded
	failed   atomic.Value // error: why loading failed
}

// hold loads the followed tables into memory and follows their topics in
// the background, until ctx is done. It returns at once: until the
// tables are loaded, their reads go to Bigtable, and until the follower
// has caught up, the store is not ready (Probe).
func hold(ctx context.Context, back *bigtable.Store, cfg holdConfig, log *slog.Logger, stdout io.Writer) (*heldStore, error) {
	schemas, topics := map[string]types.Schema{}, map[string]string{}
	var names []string
	for _, tt := range cfg.topics {
		def, err := back.Describe(ctx, tt[0])
		if err != nil {
			return nil, fmt.Errorf("--follow %s=%s: %w", tt[0], tt[1], err)
		}
		if _, ok := topics[def.Name]; ok {
			return nil, fmt.Errorf("--follow: table %s takes records from %s and %s; a table takes one topic", def.Name, topics[def.Name], tt[1])
		}
		schemas[def.Name], topics[def.Name] = def.Schema, tt[1]
		names = append(names, def.Name)
	}
	// The follower reads where to start before the tables are loaded:
	// every record before those offsets is in Bigtable by then (the
	// stream commits an offset after writing the rows before it).
	f, err := follow.New(ctx, follow.Config{Brokers: cfg.brokers, Group: cfg.group, Topics: topics, Schemas: schemas, Bad: cfg.bad, Logger: log})
	if err != nil {
		return nil, err
	}
	h := &heldStore{Store: hot.New(back, hot.Options{}), back: back, follower: f, tables: strings.Join(names, ", ")}
	// Run logs why it stopped, and Err reports it to Probe.
	go f.Run(ctx, h.Store.Apply)
	go func() {
		start := time.Now()
		for _, name := range names {
			if err := h.Store.Load(ctx, name); err != nil {
				if ctx.Err() == nil {
					h.failed.Store(fmt.Errorf("loading %s into memory: %w", name, err))
					log.Error("loading a followed table into memory failed; its reads go to Bigtable", "table", name, "error", err)
				}
				return
			}
		}
		h.loaded.Store(true)
		fmt.Fprintf(stdout, "holding %s in memory: loaded in %v; following %s from group %s's offsets\n",
			h.tables, time.Since(start).Round(time.Millisecond), strings.Join(topicNames(topics, names), ", "), cfg.group)
		select {
		case <-f.Ready():
			fmt.Fprintf(stdout, "caught up with the topics of %s (%d rows held)\n", h.tables, h.Store.Rows())
		case <-ctx.Done():
		}
	}()
	return h, nil
}

// topicNames lists the topics of tables, in order.
func topicNames(topics map[string]string, tables []string) []string {
	out := make([]string, len(tables))
	for i, t := range tables {
		out[i] = topics[t]
	}
	return out
}

// Probe implements storage.Prober: Bigtable's probe, and not ready while
// the followed tables load, while the follower catches up, or once either
// failed.
func (h *heldStore) Probe(ctx context.Context, tables []string) error {
	if err, _ := h.failed.Load().(error); err != nil {
		return fmt.Errorf("%w: %v", storage.ErrUnavailable, err)
	}
	if err := h.follower.Err(); err != nil {
		return fmt.Errorf("%w: following the topics of %s stopped: %v", storage.ErrUnavailable, h.tables, err)
	}
	if !h.loaded.Load() {
		return fmt.Errorf("%w: loading %s into memory", storage.ErrUnavailable, h.tables)
	}
	select {
	case <-h.follower.Ready():
	default:
		return fmt.Errorf("%w: catching up with the topics of %s", storage.ErrUnavailable, h.tables)
	}
	return h.back.Probe(ctx, tables)
}

// heldMetrics is a held store's prometheus.Collector: the follower's
// progress and the rows held, read when /metrics is scraped.
type heldMetrics struct{ h *heldStore }

// Describe implements prometheus.Collector.
func (heldMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- heldRowsDesc
	ch <- followAppliedDesc
	ch <- followBadDesc
	ch <- followLagDesc
}

// Collect implements prometheus.Collector.
func (m heldMetrics) Collect(ch chan<- prometheus.Metric) {
	h := m.h
	st := h.follower.Stats()
	ch <- prometheus.MustNewConstMetric(heldRowsDesc, prometheus.GaugeValue, float64(h.Store.Rows()))
	ch <- prometheus.MustNewConstMetric(followAppliedDesc, prometheus.CounterValue, float64(st.Applied))
	ch <- prometheus.MustNewConstMetric(followBadDesc, prometheus.CounterValue, float64(st.Bad))
	for _, p := range st.Partitions {
		lag := max(0, p.HighWatermark-p.Next)
		ch <- prometheus.MustNewConstMetric(followLagDesc, prometheus.GaugeValue, float64(lag), p.Topic, strconv.Itoa(int(p.Partition)))
	}
}

// The metrics of a held store.
var (
	heldRowsDesc      = prometheus.NewDesc("fenestra_held_rows", "Rows held in memory (serve --follow), once per index holding them.", nil, nil)
	followAppliedDesc = prometheus.NewDesc("fenestra_follow_rows_applied_total", "Rows of the followed topics' records applied to memory.", nil, nil)
	followBadDesc     = prometheus.NewDesc("fenestra_follow_records_bad_total", "Records of the followed topics skipped as bad (--bad-rows skip).", nil, nil)
	followLagDesc     = prometheus.NewDesc("fenestra_follow_lag_records", "Records of a followed partition not applied yet: its latest known high watermark minus the next offset to apply.", []string{"topic", "partition"}, nil)
)

// PutDeployment implements storage.DeploymentStore: stored deployments
// are Bigtable's, whatever the tables held.
func (h *heldStore) PutDeployment(ctx context.Context, d storage.Deployment) error {
	return h.back.PutDeployment(ctx, d)
}

// Deployment implements storage.DeploymentStore.
func (h *heldStore) Deployment(ctx context.Context, db, name string) (*storage.Deployment, error) {
	return h.back.Deployment(ctx, db, name)
}

// Deployments implements storage.DeploymentStore.
func (h *heldStore) Deployments(ctx context.Context) ([]storage.Deployment, error) {
	return h.back.Deployments(ctx)
}

// DropDeployment implements storage.DeploymentStore.
func (h *heldStore) DropDeployment(ctx context.Context, db, name string) error {
	return h.back.DropDeployment(ctx, db, name)
}

// Close stops following.
func (h *heldStore) Close() { h.follower.Close() }

var (
	_ storage.Prober          = (*heldStore)(nil)
	_ storage.DeploymentStore = (*heldStore)(nil)
	_ prometheus.Collector    = heldMetrics{}
)
