package emulators

import (
	"bytes"
	"context"
	"strings"
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
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageSize), grpc.MaxCallSendMsgSize(MaxMessageSize)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
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
	big := bytes.Repeat([]byte("x"), 6<<20)
	m := bigtable.NewMutation()
	m.Set("f", "c", 0, big)
	tbl := client.Open("t")
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
