package emulators

import (
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
	srv, err := bttest.NewServer(laddr, grpc.MaxRecvMsgSize(MaxMessageSize), grpc.MaxSendMsgSize(MaxMessageSize))
	if err != nil {
		return "", nil, fmt.Errorf("emulators: starting the Bigtable emulator on %s: %w", laddr, err)
	}
	return srv.Addr, sync.OnceFunc(srv.Close), nil
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
