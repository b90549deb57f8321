package functions

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
	"github.com/fenestra-dev/fenestra/storage/bigtable"
)

// benchKeys and benchHistory shape the benchmarks' history: keys with
// 100 rows each, one every 2.4 hours over the 10 days before the
// requests, so the 10-day window holds them all and the 1-hour and
// 5-minute windows the request and the newest row at most.
const (
	benchKeys    = 10
	benchHistory = 100
	benchStep    = 10 * 86_400_000 / benchHistory
)

// historyBlock returns the benchmark history: benchHistory rows for each
// of keys cards, oldest first.
func historyBlock(keys int) *types.Block {
	b := types.NewBlock(txBlock().Schema, keys*benchHistory)
	for i := range benchHistory {
		for k := range keys {
			b.AppendRow(tx(int64(i*keys+k), cardName(k), float64(i%97)+0.25, t0+int64(i-benchHistory)*benchStep))
		}
	}
	return b
}

func cardName(k int) string { return fmt.Sprintf("card%05d", k) }

// benchService returns a service of txSQL over a store holding the
// history, ingested at once or, with rowByRow, a row at a time.
func benchService(b *testing.B, store storage.Store, rowByRow ...bool) *Service {
	b.Helper()
	mod := compile(b, txSQL)
	ctx := context.Background()
	if err := store.Init(ctx, mod.Tables); err != nil {
		b.Fatal(err)
	}
	svc, err := New(mod, store, Options{})
	if err != nil {
		b.Fatal(err)
	}
	h := historyBlock(benchKeys)
	if len(rowByRow) == 0 || !rowByRow[0] {
		if err := svc.Ingest(ctx, "tx", h); err != nil {
			b.Fatal(err)
		}
		return svc
	}
	for i := range h.Len {
		if err := svc.Ingest(ctx, "tx", oneRow(h, i)); err != nil {
			b.Fatal(err)
		}
	}
	return svc
}

// BenchmarkCompute is the core on the view (sum over 10 days,
// count over 1 hour, max over 5 minutes) for one request row over 100
// history rows of its key, history in storage.Mem (the reference store,
// which filters its rows linearly: 1,000 rows here).
func BenchmarkCompute(b *testing.B) {
	benchCompute(b, benchService(b, storage.NewMem(epoch)))
}

// benchCompute computes a request row of one of the benchmark's keys per
// iteration, each answer checked.
func benchCompute(b *testing.B, svc *Service) {
	ctx := context.Background()
	reqs := make([]*types.Block, benchKeys)
	for k := range reqs {
		reqs[k] = txBlock(tx(1_000_000+int64(k), cardName(k), 12.5, t0))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		res, err := svc.Compute(ctx, "features", reqs[i%benchKeys], false)
		if err != nil || res.Rows[0][2].I != 1 {
			b.Fatal(err)
		}
	}
}

// indexedStore is a storage.Store over an eval.MemSource, which indexes
// rows by key: the benchmarks measure the host with it, without the
// reference store's linear filtering. It keeps rows in write order and
// serves only Init, Write and Scan.
type indexedStore struct{ *eval.MemSource }

func (s indexedStore) Init(ctx context.Context, tables []*plan.Table) error {
	for _, t := range tables {
		s.Create(t.Name, t.Schema)
	}
	return nil
}

func (s indexedStore) Write(ctx context.Context, table string, rows *types.Block, seqs []uint64) error {
	return s.Insert(table, rows.Rows()...)
}

func (s indexedStore) Describe(ctx context.Context, table string) (*plan.Table, error) {
	return nil, storage.ErrNoTable
}

func (s indexedStore) Read(ctx context.Context, r storage.Range) (*types.Block, error) {
	return nil, storage.ErrNoIndex
}

// BenchmarkComputeIndexed is BenchmarkCompute over an indexed in-memory
// store: what the host and the evaluator cost, the store's cost aside.
func BenchmarkComputeIndexed(b *testing.B) {
	benchCompute(b, benchService(b, indexedStore{eval.NewMemSource()}))
}

// BenchmarkHTTPComputeIndexed is BenchmarkHTTPCompute over the indexed
// in-memory store.
func BenchmarkHTTPComputeIndexed(b *testing.B) {
	benchHTTP(b, benchService(b, indexedStore{eval.NewMemSource()}))
}

// BenchmarkHTTPCompute is BenchmarkCompute through the HTTP adapter, over
// a loopback connection to an httptest server (keep-alive): decoding,
// routing, metrics and encoding included.
func BenchmarkHTTPCompute(b *testing.B) {
	benchHTTP(b, benchService(b, storage.NewMem(epoch)))
}

func benchHTTP(b *testing.B, svc *Service) {
	ts := httptest.NewServer(NewServer(svc, ServerOptions{}))
	defer ts.Close()
	bodies := make([][]byte, benchKeys)
	for k := range bodies {
		bodies[k] = []byte(`{"rows": [` + txRow(1_000_000+k, cardName(k), 12.5, t0) + `]}`)
	}
	client := ts.Client()
	url := ts.URL + "/v1/views/features:compute"
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		resp, err := client.Post(url, "application/json", bytes.NewReader(bodies[i%benchKeys]))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatal(resp.Status)
		}
	}
}

// BenchmarkHandlerCompute is the HTTP handler without the network: a
// request served through ServeHTTP into a recorder.
func BenchmarkHandlerCompute(b *testing.B) {
	svc := benchService(b, storage.NewMem(epoch))
	srv := NewServer(svc, ServerOptions{})
	bodies := make([]string, benchKeys)
	for k := range bodies {
		bodies[k] = `{"rows": [` + txRow(1_000_000+k, cardName(k), 12.5, t0) + `]}`
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if resp := serve(srv, "POST", "/v1/views/features:compute", bodies[i%benchKeys]); resp.status != 200 {
			b.Fatal(resp.status)
		}
	}
}

// BenchmarkComputeBigtable is BenchmarkCompute with the history in the
// Bigtable emulator, over gRPC on loopback.
func BenchmarkComputeBigtable(b *testing.B) {
	mod := compile(b, txSQL)
	benchCompute(b, benchService(b, bigtableStore(b, startEmulator(b), mod)))
}

// BenchmarkDecodeCompute decodes a one-row compute body.
func BenchmarkDecodeCompute(b *testing.B) {
	svc, _ := memService(b, compile(b, txSQL), Options{})
	v := svc.View("features")
	body := []byte(`{"rows": [{"tx_id": 1, "card": "card00001", "amount": 12.5, "ts": 1714528800000}]}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := decodeCompute(body, v, computeMembers); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkComputeBigtableOnline is BenchmarkComputeBigtable with the
// history written a row at a time, as online ingestion (and store: true)
// writes it: a storage segment per row, where a bulk write leaves one per
// key and day. "compacted" lets the store compact the day rows the first
// requests read (the default); "segment-per-row" turns compaction off.
func BenchmarkComputeBigtableOnline(b *testing.B) {
	for _, bc := range []struct {
		name      string
		compactAt int
	}{{"compacted", 0}, {"segment-per-row", -1}} {
		b.Run(bc.name, func(b *testing.B) {
			store := openStore(b, bigtable.Config{Project: "p", Instance: "i", EmulatorHost: startEmulator(b),
				Clock: epoch, NoGC: true, CompactAt: bc.compactAt})
			svc := benchService(b, store, true)
			ctx := context.Background()
			for k := range benchKeys { // the first reads queue the day rows
				if _, err := svc.Compute(ctx, "features", txBlock(tx(1_000_000+int64(k), cardName(k), 12.5, t0)), false); err != nil {
					b.Fatal(err)
				}
			}
			for st := store.CompactStats(); st.Queued > st.Compacted+st.Conflicts+st.Skipped+st.Failed; st = store.CompactStats() {
				time.Sleep(time.Millisecond)
			}
			if st := store.CompactStats(); (bc.compactAt == 0) != (st.Compacted == benchKeys*10) {
				b.Fatalf("compaction: %+v", st)
			}
			benchCompute(b, svc)
		})
	}
}
