package emulators

import (
	"context"
	"fmt"
	"net"
	"sync"

	btpb "cloud.google.com/go/bigtable/apiv2/bigtablepb"
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
// memory. Beyond bttest, the emulator sends the rows of a read in
// responses of up to BatchBytes, as the service does, and serializes
// writes against reads (see rowLock). opts are more options of its gRPC
// server; interceptors they chain run inside the emulator's own.
func StartBigtable(addr string, opts ...grpc.ServerOption) (hostport string, stop func(), err error) {
	laddr, err := loopback(addr)
	if err != nil {
		return "", nil, err
	}
	var rows rowLock
	srv, err := bttest.NewServer(laddr, append([]grpc.ServerOption{grpc.MaxRecvMsgSize(MaxMessageSize), grpc.MaxSendMsgSize(MaxMessageSize),
		grpc.ChainUnaryInterceptor(rows.unary), grpc.ChainStreamInterceptor(rows.stream)}, opts...)...)
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
	readRows: true,
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
	if info.FullMethod != readRows {
		return handler(srv, ss)
	}
	b := &batchedRows{ServerStream: ss}
	err := handler(srv, b)
	if ferr := b.flush(); err == nil {
		err = ferr
	}
	return err
}

const readRows = "/google.bigtable.v2.Bigtable/ReadRows"

// batchedRows sends the rows of a ReadRows stream together, in responses
// of up to BatchBytes (a larger row alone), as the Bigtable service does:
// bttest sends a response per row, which costs a gRPC message per row to
// both ends. A response that is not only rows (last scanned row key,
// request stats) is sent as it comes, after the rows before it.
type batchedRows struct {
	grpc.ServerStream
	pending *btpb.ReadRowsResponse
	size    int
}

// BatchBytes bounds the rows (keys, names and values) the emulator puts
// in one ReadRows response.
const BatchBytes = 1 << 20

func (b *batchedRows) SendMsg(m any) error {
	r, ok := m.(*btpb.ReadRowsResponse)
	if !ok || r.RequestStats != nil || len(r.LastScannedRowKey) > 0 || len(r.Chunks) == 0 {
		if err := b.flush(); err != nil {
			return err
		}
		return b.ServerStream.SendMsg(m)
	}
	n := 0
	for _, c := range r.Chunks {
		n += len(c.RowKey) + len(c.GetFamilyName().GetValue()) + len(c.GetQualifier().GetValue()) + len(c.Value)
	}
	if b.pending != nil && b.size+n > BatchBytes {
		if err := b.flush(); err != nil {
			return err
		}
	}
	if b.pending == nil {
		b.pending = &btpb.ReadRowsResponse{}
	}
	b.pending.Chunks = append(b.pending.Chunks, r.Chunks...)
	b.size += n
	return nil
}

// flush sends the rows pending, if any.
func (b *batchedRows) flush() error {
	if b.pending == nil {
		return nil
	}
	p := b.pending
	b.pending, b.size = nil, 0
	return b.ServerStream.SendMsg(p)
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
