package storage

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// Errors. Implementations wrap them, so errors.Is identifies the kind.
var (
	// ErrNoTable: the table was never initialised in this store.
	ErrNoTable = errors.New("storage: table not initialised")
	// ErrSchema: stored rows or a write do not match the table's schema.
	ErrSchema = errors.New("storage: schema mismatch")
	// ErrNoIndex: no index of the table serves the read.
	ErrNoIndex = errors.New("storage: no index serves the read")
	// ErrUnavailable: the store could not be reached in time.
	ErrUnavailable = errors.New("storage: unavailable")
	// ErrPermission: the store refused the credentials in use (not
	// authenticated, or not allowed to do what was asked).
	ErrPermission = errors.New("storage: permission denied")
	// ErrNoTiles: the index cannot hold tiles (see TileStore).
	ErrNoTiles = errors.New("storage: index cannot hold tiles")
	// ErrNotFound: no deployment of that database and name is stored
	// (see DeploymentStore).
	ErrNotFound = errors.New("storage: not found")
)

// NoTableError is ErrNoTable for one table: Table is the table's name,
// Where (may be empty) where the store looked for it, for the log.
type NoTableError struct {
	Table, Where string
}

// Error returns "storage: table not initialised: Table (Where)".
func (e *NoTableError) Error() string {
	if e.Where == "" {
		return ErrNoTable.Error() + ": " + e.Table
	}
	return ErrNoTable.Error() + ": " + e.Table + " (" + e.Where + ")"
}

// Unwrap returns ErrNoTable.
func (e *NoTableError) Unwrap() error { return ErrNoTable }

// Prober is a Store that can check, without any cache, that it is
// reachable and holds tables: a readiness probe. Probe makes one call
// per table (at least one call when tables is empty) and returns nil, or
// the errors of the tables that cannot be read (ErrUnavailable,
// ErrPermission, ErrNoTable, ErrSchema...), joined.
type Prober interface {
	Probe(ctx context.Context, tables []string) error
}

// Store keeps the rows of tables for request-time reads. Implementations
// are safe for concurrent use.
type Store interface {
	// Scan implements eval.Source: the rows of one key (or all rows), in
	// a time range, through the table's index on those keys.
	eval.Source
	// Init creates the tables (idempotent for an identical definition; a
	// different definition of an existing table is ErrSchema).
	Init(ctx context.Context, tables []*plan.Table) error
	// Describe returns a table's definition, or ErrNoTable.
	Describe(ctx context.Context, table string) (*plan.Table, error)
	// Write stores rows of a table (in its column order) with their
	// arrival sequence numbers, under every index of the table. Writing a
	// row again with the same sequence number overwrites it: a failed or
	// repeated write is safe to retry.
	Write(ctx context.Context, table string, rows *types.Block, seqs []uint64) error
	// Read returns the rows of one key of an index in a time range.
	Read(ctx context.Context, r Range) (*types.Block, error)
}

// Dumper is a Store that hands over every stored row of a table with its
// sequence number, in blocks, whatever the TTLs (an in-memory tier loads a
// table through it: storage/hot). A row written more than once may come
// more than once (the Bigtable store keeps a copy per Bigtable row: a row
// rewritten under another key or day): stamps order the copies of one
// sequence number, the greatest being the latest. f may keep none of its
// arguments.
type Dumper interface {
	Dump(ctx context.Context, table string, f func(rows *types.Block, seqs, stamps []uint64) error) error
}

// Range selects rows of one key of an index.
type Range struct {
	Table string
	// Keys are the index's KEY columns (any order) and Values the key.
	Keys   []string
	Values []types.Value
	// TS names the index's TS column; empty picks any index on Keys.
	TS string
	// From and To bound the TS values, inclusive.
	From, To int64
	// Limit, when positive, keeps the newest Limit rows of the range.
	Limit int
	// NewestFirst orders the result newest first; else oldest first.
	// Rows of equal time keep arrival order (reversed when NewestFirst).
	NewestFirst bool
	// AsOf, when not 0, is the time (epoch milliseconds) TTLs are enforced
	// at for this read, instead of the store's clock (eval.Query.AsOf).
	AsOf int64
}

// At returns the time TTLs are enforced at for a read as of asOf (epoch
// milliseconds; 0: now, from clock).
func At(clock Clock, asOf int64) time.Time {
	if asOf != 0 {
		return time.UnixMilli(asOf)
	}
	return clock()
}

// Clock returns the current time, for TTLs.
type Clock func() time.Time

// FindIndex returns the index of t whose KEY columns are keys (in any
// order) and, when ts is not empty, whose TS column is ts.
func FindIndex(t *plan.Table, keys []string, ts string) (int, *plan.Index, error) {
	if i := t.FindIndex(keys, ts); i >= 0 {
		return i, t.Indexes[i], nil
	}
	return -1, nil, fmt.Errorf("%w: table %s has no index on KEY=(%s)%s", ErrNoIndex, t.Name, strings.Join(keys, ", "), tsText(ts))
}

func tsText(ts string) string {
	if ts == "" {
		return ""
	}
	return " TS=" + ts
}

// TTLBounds returns the TTL limits of index ix at time now: the oldest
// event time kept (math.MinInt64 when there is no age limit) and the
// number of newest rows kept per key (0 when unlimited). absorlat keeps a
// row when either limit keeps it, absandlat only when both do; Expired
// applies that.
func TTLBounds(ix *plan.Index, now time.Time) (oldest int64, latest int) {
	oldest = math.MinInt64
	if ix.TTLAbs > 0 {
		oldest = now.UnixMilli() - ix.TTLAbs
	}
	return oldest, int(ix.TTLLat)
}

// Expired reports whether a row of index ix with event time ts, which is
// the rank-th newest row of its key (0 for the newest), has expired at now.
func Expired(ix *plan.Index, now time.Time, ts int64, rank int) bool {
	oldest, latest := TTLBounds(ix, now)
	tooOld := ix.TTLAbs > 0 && ts < oldest
	tooMany := latest > 0 && rank >= latest
	switch ix.TTLType {
	case "absorlat": // kept when either keeps it
		return tooOld && tooMany
	case "absandlat", "absolute", "latest", "": // kept when both (or the one set) keep it
		return tooOld || tooMany
	}
	return tooOld || tooMany
}
