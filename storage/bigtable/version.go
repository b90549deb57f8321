package bigtable

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"cloud.google.com/go/bigtable"
)

// Version cells (see docs/storage-format.md, "Cells: the version"): every
// mutation of a day row that writes segments also sets, in the same
// single-row mutation, the row's version cell,
//
//	qualifier: empty (versionQualifier)
//	timestamp: the last millisecond of the row's day, in microseconds (versionTime)
//	value:     stamp [8]byte | writer [8]byte (appendVersion)
//
// whose value no other mutation of any row ever sets: a bucket's token
// hashes its day rows' versions (bucketToken), so one cell per day row
// checks a tile, whatever the number of segments.
//
// The empty qualifier sorts before every segment qualifier (24 bytes) and
// "t": a day row's first cell is its version, which ReadTiles takes alone
// (one cell per row, tiles included). Read's column range starts past it,
// at segmentsStart, so a Bigtable row comes only with a segment, and
// scans pass over it as over any cell that is not a segment.
const (
	versionQualifier = ""
	versionLen       = 16
	// segmentsStart is the least qualifier above versionQualifier.
	segmentsStart = "\x00"
)

// noVersion stands for the version of a day row written before version
// cells existed (by older builds): stamp 0, which no write gives.
var noVersion = make([]byte, versionLen)

// versionWriter and lastVersion make version values unique: writer is
// drawn at random when the process starts, and stamps are the wall clock
// in microseconds, made strictly increasing within the process (for every
// Store of it, unlike the stores' own write stamps).
var (
	versionWriter = rand.Uint64()
	lastVersion   atomic.Uint64
)

// appendVersion appends the value of a new version cell: a version stamp,
// strictly increasing within the process, then the process's writer
// number, 8 bytes big-endian each. No two calls in a process return the
// same value, and two processes differ by their writer numbers (random:
// two of them alike is a chance of 2^-64, and then their stamps must
// also meet).
func appendVersion(dst []byte) []byte {
	now := uint64(time.Now().UnixMicro())
	for {
		last := lastVersion.Load()
		next := max(now, last+1)
		if lastVersion.CompareAndSwap(last, next) {
			dst = binary.BigEndian.AppendUint64(dst, next)
			return binary.BigEndian.AppendUint64(dst, versionWriter)
		}
	}
}

// versionTime returns the cell timestamp of the version cell of the day
// row that holds TS value ts: the cell timestamp (cellTime) of the last
// TS value of its day. A segment's timestamp is that of its newest row,
// which is in the day, so no segment of the row is newer than its version
// cell: an age GC policy deletes the version last, once every segment of
// the row is gone, and with it the row. The timestamp depends only on the
// row, so each write overwrites the same cell in place: a day row holds
// one version, never older ones.
func versionTime(ts int64) bigtable.Timestamp {
	switch d := dayOf(ts); {
	case d < 0: // the day ends before 1970
		return 0
	case d > (math.MaxInt64-(dayWidth-1))/dayWidth:
		return cellTime(math.MaxInt64)
	default:
		return cellTime(d*dayWidth + dayWidth - 1)
	}
}
