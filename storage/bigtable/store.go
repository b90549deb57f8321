package bigtable

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"cloud.google.com/go/bigtable"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
)

// Defaults of Config.
const (
	DefaultPrefix  = "fenestra_"
	DefaultTimeout = 10 * time.Second
)

// The production endpoints, named in errors when no emulator is used.
const (
	dataAddr  = "bigtable.googleapis.com:443"
	adminAddr = "bigtableadmin.googleapis.com:443"
)

// maxMessageSize bounds gRPC messages both ways, as the Bigtable service
// does (256 MiB).
const maxMessageSize = 256 << 20

// The gRPC flow-control windows of a stream and of the connection. Fixed
// windows turn off gRPC's bandwidth estimation, which otherwise pings the
// server as reads' answers arrive: a write and a read more per call, for
// nothing on a path whose answers are small.
const (
	streamWindow = 4 << 20
	connWindow   = 16 << 20
)

// Config says where the store's tables live.
type Config struct {
	// Project and Instance name the Bigtable instance.
	Project, Instance string
	// Prefix starts the name of every Bigtable table (DefaultPrefix when
	// empty): fenestra table tx is Bigtable table fenestra_tx.
	Prefix string
	// EmulatorHost is the host:port of a Bigtable emulator. When empty,
	// BIGTABLE_EMULATOR_HOST is used as the gcloud tools do; when that is
	// empty too, the store talks to Google Cloud with the default
	// credentials.
	EmulatorHost string
	// Clock gives the time TTLs are enforced against (time.Now when nil).
	Clock storage.Clock
	// Timeout bounds each call to Bigtable: an unreachable server fails
	// with storage.ErrUnavailable after it (DefaultTimeout when zero).
	Timeout time.Duration
	// Logger receives what the store does to tables (silent when nil).
	Logger *slog.Logger
	// NoGC makes Init create column families without garbage-collection
	// policies, so TTLs apply only at read time. Bigtable collects by the
	// server's wall clock: use NoGC with a Clock that is not the wall
	// clock (tests, replays of old data).
	NoGC bool
	// CompactAt is the number of segments in a day row at which a read
	// queues the row for compaction (compact.go): DefaultCompactAt when
	// zero, never when negative.
	CompactAt int
}

// Store is a storage.Store on Bigtable. The layout of its tables is
// described in docs/storage-format.md. A Store is safe for concurrent use;
// Close releases its connections.
type Store struct {
	cfg       Config
	now       storage.Clock
	log       *slog.Logger
	addr      string // the data endpoint, for errors
	adminAddr string
	conn      *grpc.ClientConn // the emulator connection, owned
	client    *bigtable.Client
	admin     *bigtable.AdminClient

	lastStamp atomic.Uint64 // the last write stamp given (see stamp)
	compact   *compactor

	mu     sync.RWMutex
	tables map[string]*table // by fenestra table name, once initialised or described
}

var _ storage.Store = (*Store)(nil)

// Open returns a store on the Bigtable instance of cfg (or its emulator).
// It does not contact the server: the first call does, and fails with
// storage.ErrUnavailable within cfg.Timeout if the server cannot be
// reached.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Project == "" || cfg.Instance == "" {
		return nil, errors.New("bigtable: Config needs a Project and an Instance")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if cfg.EmulatorHost == "" {
		cfg.EmulatorHost = os.Getenv("BIGTABLE_EMULATOR_HOST")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	s := &Store{cfg: cfg, now: cfg.Clock, log: cfg.Logger, addr: dataAddr, adminAddr: adminAddr, tables: map[string]*table{}}
	s.compact = newCompactor(s, cfg.CompactAt)
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	var opts []option.ClientOption
	var ccfg bigtable.ClientConfig
	if host := cfg.EmulatorHost; host != "" {
		conn, err := grpc.NewClient("passthrough:///"+host,
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessageSize), grpc.MaxCallSendMsgSize(maxMessageSize)),
			grpc.WithInitialWindowSize(streamWindow), grpc.WithInitialConnWindowSize(connWindow))
		if err != nil {
			return nil, fmt.Errorf("bigtable: connecting to the emulator at %s: %w", host, err)
		}
		s.conn, s.addr, s.adminAddr = conn, host, host
		opts = append(opts, option.WithGRPCConn(conn))
		ccfg.MetricsProvider = bigtable.NoopMetricsProvider{}
	} else {
		opts = append(opts, option.WithGRPCDialOption(grpc.WithInitialWindowSize(streamWindow)),
			option.WithGRPCDialOption(grpc.WithInitialConnWindowSize(connWindow)))
	}
	// The clients keep background work on the context they are made with.
	bg := context.WithoutCancel(ctx)
	var err error
	if s.client, err = bigtable.NewClientWithConfig(bg, cfg.Project, cfg.Instance, ccfg, opts...); err != nil {
		s.Close()
		return nil, fmt.Errorf("bigtable: client for %s/%s at %s: %w", cfg.Project, cfg.Instance, s.addr, err)
	}
	if s.admin, err = bigtable.NewAdminClient(bg, cfg.Project, cfg.Instance, opts...); err != nil {
		s.Close()
		return nil, fmt.Errorf("bigtable: admin client for %s/%s at %s: %w", cfg.Project, cfg.Instance, s.adminAddr, err)
	}
	return s, nil
}

// Close stops compaction and releases the store's connections.
func (s *Store) Close() error {
	s.compact.close()
	var errs []error
	if s.client != nil {
		errs = append(errs, s.client.Close())
	}
	if s.admin != nil {
		errs = append(errs, s.admin.Close())
	}
	if s.conn != nil {
		errs = append(errs, s.conn.Close())
	}
	return errors.Join(errs...)
}

// Addr returns the address of the Bigtable data endpoint in use.
func (s *Store) Addr() string { return s.addr }

// TableName returns the Bigtable table that holds fenestra table name.
func (s *Store) TableName(name string) string { return s.cfg.Prefix + name }

// table is what the store knows of an initialised table.
type table struct {
	def      *plan.Table
	codec    *Codec
	bt       *bigtable.Table
	btName   string
	families []string // per index ordinal: "i0", "i1", ...
	tsCols   []int    // per index: the TS column, or -1
	keyCols  [][]int  // per index: the KEY columns
}

// newTable checks that def can be stored and prepares its codec and key
// columns.
func (s *Store) newTable(def *plan.Table) (*table, error) {
	codec, err := NewCodec(def.Schema)
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", def.Name, err)
	}
	if s.TableName(def.Name) == s.CatalogTable() {
		return nil, fmt.Errorf("bigtable: table %s: its Bigtable table %s is the deployments table", def.Name, s.CatalogTable())
	}
	if len(def.Indexes) == 0 {
		return nil, fmt.Errorf("%w: table %s has no index", storage.ErrNoIndex, def.Name)
	}
	if len(def.Indexes) > maxIndexes {
		return nil, fmt.Errorf("bigtable: table %s has %d indexes; at most %d are supported", def.Name, len(def.Indexes), maxIndexes)
	}
	t := &table{def: def, codec: codec, btName: s.TableName(def.Name)}
	t.bt = s.client.Open(t.btName)
	for i, ix := range def.Indexes {
		t.families = append(t.families, "i"+strconv.Itoa(i))
		ts := -1
		if ix.TS != "" {
			if ts = def.Schema.Index(ix.TS); ts < 0 || !def.Schema[ts].Type.IsInteger() && def.Schema[ts].Type != types.Timestamp {
				return nil, fmt.Errorf("bigtable: table %s: index TS %q is not an integer or timestamp column", def.Name, ix.TS)
			}
		}
		t.tsCols = append(t.tsCols, ts)
		var keys []int
		for _, k := range ix.Keys {
			c := def.Schema.Index(k)
			if c < 0 {
				return nil, fmt.Errorf("bigtable: table %s: index key %q is not a column", def.Name, k)
			}
			keys = append(keys, c)
		}
		t.keyCols = append(t.keyCols, keys)
	}
	return t, nil
}

// table returns the state of an initialised table, reading its
// definition from the metadata row the first time.
func (s *Store) table(ctx context.Context, name string) (*table, error) {
	s.mu.RLock()
	t := s.tables[name]
	s.mu.RUnlock()
	if t != nil {
		return t, nil
	}
	def, err := s.readMeta(ctx, name)
	if err != nil {
		return nil, err
	}
	if t, err = s.newTable(def); err != nil {
		return nil, err
	}
	return s.remember(t), nil
}

func (s *Store) remember(t *table) *table {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.tables[t.def.Name]; old != nil {
		return old
	}
	s.tables[t.def.Name] = t
	return t
}

// call bounds one call to Bigtable by the configured timeout.
func (s *Store) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.cfg.Timeout)
}

// fail describes a failed call (what was being done) and classifies it:
// the caller's own cancellation is returned as such; a server that cannot
// be reached in time wraps storage.ErrUnavailable and names the address;
// refused credentials wrap storage.ErrPermission.
func (s *Store) fail(ctx context.Context, addr string, err error, what string, args ...any) error {
	doing := fmt.Sprintf(what, args...)
	if ctx.Err() != nil {
		return fmt.Errorf("bigtable: %s: %w", doing, ctx.Err())
	}
	if unavailable(err) {
		return fmt.Errorf("%w: bigtable at %s: %s: %v", storage.ErrUnavailable, addr, doing, err)
	}
	if denied(err) { // see errors.go
		return fmt.Errorf("%w: bigtable at %s: %s: %v; %s", storage.ErrPermission, addr, doing, err, credentialHint)
	}
	return fmt.Errorf("bigtable at %s: %s: %w", addr, doing, err)
}

// unavailable reports errors that mean the server was not reached, or not
// in time.
func unavailable(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded:
		return true
	}
	return errors.Is(err, context.DeadlineExceeded)
}

// Describe implements storage.Store: the definition stored by Init, or
// storage.ErrNoTable.
func (s *Store) Describe(ctx context.Context, name string) (*plan.Table, error) {
	t, err := s.table(ctx, name)
	if err != nil {
		return nil, err
	}
	return t.def, nil
}
