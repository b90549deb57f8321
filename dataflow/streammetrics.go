package dataflow

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// StreamProgress counts the records of streams whose workers run in this
// process (prism, or LOOPBACK), for progress lines; StreamMetrics has the
// same and more for Prometheus.
var StreamProgress struct {
	Read, Bad, Written atomic.Int64
	// Tiles counts the tiles of long windows rebuilt and stored.
	Tiles atomic.Int64
	// Lag is the sum over partitions of the records not yet read, as of
	// each partition's last read.
	Lag atomic.Int64
}

// StreamMetrics is the registry of the metrics of streams whose workers run
// in this process:
//
//	fenestra_stream_records_read_total{topic}        records read
//	fenestra_stream_rows_written_total{table}        rows stored
//	fenestra_stream_tiles_written_total{table}       tiles rebuilt and stored
//	fenestra_stream_bad_records_total{topic}         records that were not rows
//	fenestra_stream_lag_records{topic,partition}     records after the last one read
//	fenestra_stream_freshness_seconds                from a record's timestamp to its
//	                                                 row's write being acknowledged
var StreamMetrics = prometheus.NewRegistry()

var (
	streamReadTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fenestra_stream_records_read_total", Help: "Kafka records read, by topic."}, []string{"topic"})
	streamWrittenTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fenestra_stream_rows_written_total", Help: "Rows stored, by table."}, []string{"table"})
	streamTilesTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fenestra_stream_tiles_written_total", Help: "Tiles of long windows rebuilt and stored, by table."}, []string{"table"})
	streamBadTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fenestra_stream_bad_records_total", Help: "Records that were not rows of their table, by topic."}, []string{"topic"})
	streamLag = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "fenestra_stream_lag_records", Help: "Records of a partition after the last one read."}, []string{"topic", "partition"})
	streamFreshness = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "fenestra_stream_freshness_seconds",
		Help:    "Time from a record's timestamp to the acknowledgement of its row's write.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
	})
	// partitionLag is each partition's last lag, for StreamProgress.Lag.
	partitionLag = map[string]map[int32]int64{}
	lagMu        sync.Mutex
)

func init() {
	StreamMetrics.MustRegister(streamReadTotal, streamWrittenTotal, streamTilesTotal, streamBadTotal, streamLag, streamFreshness,
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), collectors.NewGoCollector())
}

// streamRead counts n records read from a partition and its lag.
func streamRead(topic string, partition int32, n int, lag int64) {
	if n > 0 {
		streamReadTotal.WithLabelValues(topic).Add(float64(n))
		StreamProgress.Read.Add(int64(n))
	}
	streamLag.WithLabelValues(topic, strconv.Itoa(int(partition))).Set(float64(lag))
	lagMu.Lock()
	ps := partitionLag[topic]
	if ps == nil {
		ps = map[int32]int64{}
		partitionLag[topic] = ps
	}
	StreamProgress.Lag.Add(lag - ps[partition])
	ps[partition] = lag
	lagMu.Unlock()
}

// streamTiles counts n tiles stored for table.
func streamTiles(table string, n int) {
	if n > 0 {
		streamTilesTotal.WithLabelValues(table).Add(float64(n))
		StreamProgress.Tiles.Add(int64(n))
	}
}

// streamBad counts a bad record.
func streamBad(topic string) {
	streamBadTotal.WithLabelValues(topic).Inc()
	StreamProgress.Bad.Add(1)
}

// streamWritten counts rows stored at now whose records have the given
// timestamps (Unix milliseconds).
func streamWritten(table string, times []int64, now time.Time) {
	if len(times) == 0 {
		return
	}
	streamWrittenTotal.WithLabelValues(table).Add(float64(len(times)))
	StreamProgress.Written.Add(int64(len(times)))
	ms := now.UnixMilli()
	for _, t := range times {
		streamFreshness.Observe(float64(ms-t) / 1000)
	}
}
