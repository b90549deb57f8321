package emulators

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"cloud.google.com/go/bigtable"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// TestStartBigtable starts the emulator on a free loopback port and
// writes and reads back a row larger than gRPC's default 4 MiB message
// limit through the real client.
func TestStartBigtable(t *testing.T) {
	t.Parallel()
	addr, stop, err := StartBigtable(":0")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if !strings.HasPrefix(addr, "127.0.0.1:") || strings.HasSuffix(addr, ":0") {
		t.Errorf("listening on %s, want a loopback address with a port", addr)
	}
	ctx := context.Background()
	tbl := tableT(t, addr)
	big := bytes.Repeat([]byte("x"), 6<<20)
	m := bigtable.NewMutation()
	m.Set("f", "c", 0, big)
	if err := tbl.Apply(ctx, "row", m); err != nil {
		t.Fatalf("writing 6 MiB: %v", err)
	}
	row, err := tbl.ReadRow(ctx, "row")
	if err != nil || len(row["f"]) != 1 || !bytes.Equal(row["f"][0].Value, big) {
		t.Fatalf("reading 6 MiB back: %v", err)
	}
	stop()
	stop() // idempotent
}

func TestStartBigtableBadAddress(t *testing.T) {
	t.Parallel()
	if _, _, err := StartBigtable("no-port"); err == nil || !strings.Contains(err.Error(), "no-port") {
		t.Errorf("got %v, want an error naming the address", err)
	}
}

// TestBigtableColumnsWhileWriting: reads of a row that writes keep adding
// columns to see every column written before they started, each once, in
// order (bttest alone shares a row's column list with the copies reads
// make, and a write sorts it in place).
func TestBigtableColumnsWhileWriting(t *testing.T) {
	t.Parallel()
	addr, stop, err := StartBigtable("")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	ctx := context.Background()
	tbl := tableT(t, addr)
	const columns = 300
	var written atomic.Int64
	done := make(chan error, 1)
	go func() {
		for i := range columns {
			m := bigtable.NewMutation()
			// Descending names: each new column sorts first, moving the others.
			m.Set("f", fmt.Sprintf("c%04d", columns-i), 0, []byte{1})
			if err := tbl.Apply(ctx, "r", m); err != nil {
				done <- err
				return
			}
			written.Add(1)
		}
		done <- nil
	}()
	for reads := 0; ; reads++ {
		before := written.Load()
		row, err := tbl.ReadRow(ctx, "r")
		if err != nil {
			t.Fatal(err)
		}
		items := row["f"]
		if int64(len(items)) < before {
			t.Fatalf("read %d: %d columns, but %d were written before it started", reads, len(items), before)
		}
		for j := 1; j < len(items); j++ {
			if items[j-1].Column >= items[j].Column {
				t.Fatalf("read %d: columns %s then %s", reads, items[j-1].Column, items[j].Column)
			}
		}
		if before == columns {
			break
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// tableT connects to the emulator at addr, with the largest messages it
// takes, and creates table t with family f.
func tableT(t *testing.T, addr string, opts ...grpc.DialOption) *bigtable.Table {
	t.Helper()
	opts = append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageSize), grpc.MaxCallSendMsgSize(MaxMessageSize)))
	conn, err := grpc.NewClient("passthrough:///"+addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ctx := context.Background()
	admin, err := bigtable.NewAdminClient(ctx, "p", "i", option.WithGRPCConn(conn))
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.CreateTableFromConf(ctx, &bigtable.TableConf{TableID: "t", ColumnFamilies: map[string]bigtable.Family{"f": {}}}); err != nil {
		t.Fatal(err)
	}
	client, err := bigtable.NewClientWithConfig(ctx, "p", "i", bigtable.ClientConfig{MetricsProvider: bigtable.NoopMetricsProvider{}}, option.WithGRPCConn(conn))
	if err != nil {
		t.Fatal(err)
	}
	return client.Open("t")
}

// TestReadRowsBatched: a read gets its rows in responses of up to
// BatchBytes, every row intact and in order, where bttest alone sends a
// response per row.
func TestReadRowsBatched(t *testing.T) {
	t.Parallel()
	addr, stop, err := StartBigtable("")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	var responses atomic.Int64
	count := func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		s, err := streamer(ctx, desc, cc, method, opts...)
		if method == readRows {
			s = countedStream{s, &responses}
		}
		return s, err
	}
	tbl := tableT(t, addr, grpc.WithStreamInterceptor(count))
	ctx := context.Background()
	want := map[string][]byte{}
	var keys []string
	put := func(key string, value []byte) {
		m := bigtable.NewMutation()
		m.Set("f", "c", 0, value)
		if err := tbl.Apply(ctx, key, m); err != nil {
			t.Fatal(err)
		}
		want[key] = value
		keys = append(keys, key)
	}
	for i := range 300 {
		put(fmt.Sprintf("a%03d", i), bytes.Repeat([]byte{byte(i)}, 100))
	}
	// Two rows of 700 KB: the first fits the first response, the second
	// does not.
	put("b1", bytes.Repeat([]byte("1"), 700<<10))
	put("b2", bytes.Repeat([]byte("2"), 700<<10))
	for _, c := range []struct {
		name      string
		rows      bigtable.RowSet
		keys      []string
		responses int64
	}{
		{"300 small rows", bigtable.PrefixRange("a"), keys[:300], 1},
		{"all rows", bigtable.InfiniteRange(""), keys, 2},
		{"one row", bigtable.SingleRow("a007"), keys[7:8], 1},
	} {
		responses.Store(0)
		var got []string
		err := tbl.ReadRows(ctx, c.rows, func(r bigtable.Row) bool {
			if v := r["f"]; len(v) != 1 || !bytes.Equal(v[0].Value, want[r.Key()]) {
				t.Errorf("%s: row %s read back wrong", c.name, r.Key())
			}
			got = append(got, r.Key())
			return true
		})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !slices.Equal(got, c.keys) || responses.Load() != c.responses {
			t.Errorf("%s: %d rows in %d responses, want %d in %d", c.name, len(got), responses.Load(), len(c.keys), c.responses)
		}
	}
}

// countedStream counts the messages a client stream receives.
type countedStream struct {
	grpc.ClientStream
	n *atomic.Int64
}

func (s countedStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if err == nil {
		s.n.Add(1)
	}
	return err
}
