package emulators

import (
	"context"
	"fmt"
	"net"
	"sync"

	"cloud.google.com/go/bigtable/bttest"
	"google.golang.org/grpc"
)

// MaxMessageSize is the largest gRPC message the Bigtable emulator sends
// or accepts: 256 MiB, as the Bigtable service does, so bulk writes and
// large scans are not cut at gRPC's default of 4 MiB.
const MaxMessageSize = 256 << 20

// StartBigtable starts an in-process Bigtable emulator listening on addr,
// a host:port; an empty host listens on 127.0.0.1, and port 0 (or an empty
// addr) picks a free port. It returns the address it listens on, for
// BIGTABLE_EMULATOR_HOST, and stop, which shuts it down (safe to call more
// than once). Every instance and table exists only in this emulator's
// memory.
func StartBigtable(addr string) (hostport string, stop func(), err error) {
	laddr, err := loopback(addr)
	if err != nil {
		return "", nil, err
	}
	var rows rowLock
	srv, err := bttest.NewServer(laddr, grpc.MaxRecvMsgSize(MaxMessageSize), grpc.MaxSendMsgSize(MaxMessageSize),
		grpc.ChainUnaryInterceptor(rows.unary), grpc.ChainStreamInterceptor(rows.stream))
	if err != nil {
		return "", nil, fmt.Errorf("emulators: starting the Bigtable emulator on %s: %w", laddr, err)
	}
	return srv.Addr, sync.OnceFunc(srv.Close), nil
}

// rowLock works around a data race of bttest: a row's copy, made for a
// read, shares the row's sorted list of column names, which a write adding
// a column appends to and sorts in place, so a read racing a write to the
// same row can miss cells. (storage/bigtable adds a column to a row with
// each write of a key's day.) Calls that only read take the lock shared;
// every other call, writes and table administration, takes it alone.
type rowLock struct{ mu sync.RWMutex }

// reads are the methods that change no row.
var reads = map[string]bool{
	"/google.bigtable.v2.Bigtable/ReadRows":                   true,
	"/google.bigtable.v2.Bigtable/SampleRowKeys":              true,
	"/google.bigtable.v2.Bigtable/PingAndWarm":                true,
	"/google.bigtable.admin.v2.BigtableTableAdmin/GetTable":   true,
	"/google.bigtable.admin.v2.BigtableTableAdmin/ListTables": true,
}

func (l *rowLock) lock(method string) func() {
	if reads[method] {
		l.mu.RLock()
		return l.mu.RUnlock
	}
	l.mu.Lock()
	return l.mu.Unlock
}

func (l *rowLock) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	defer l.lock(info.FullMethod)()
	return handler(ctx, req)
}

func (l *rowLock) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	defer l.lock(info.FullMethod)()
	return handler(srv, ss)
}

// loopback fills in a missing host (127.0.0.1) and port (0).
func loopback(addr string) (string, error) {
	if addr == "" {
		return "127.0.0.1:0", nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("emulators: bad address %q: %w", addr, err)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	if port == "" {
		port = "0"
	}
	return net.JoinHostPort(host, port), nil
}
