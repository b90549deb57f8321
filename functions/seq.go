package functions

import (
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// Arrival sequence numbers of the rows a function writes (ingestion and
// request-then-insert). storage orders the rows of one key at one time by
// sequence number, compared unsigned, and a row written again with the
// same key, time and sequence number overwrites the stored one. Batch
// loads number rows file<<40 | line, numbers below 2^62; Kafka records are
// numbered records.Seq(partition, offset), numbers with bit 62 set and
// bit 63 clear. Online numbers are
//
//	bit 63       1: online rows sort after every loaded row of the same time
//	bits 62..10  microseconds since the Unix epoch (53 bits: until year 2255)
//	bits 9..0    the writing process's instance number, random at start
//
// so they grow with the wall clock and, within one process, strictly
// (Next never returns a number twice, bumping the time part when the
// clock stalls or steps back). Two processes collide only when they write
// in the same microsecond with the same random instance number (a chance
// of 1 in 1024) — and even then a row is lost only if it also has the
// same key and time. Across processes, rows of one key at one time are
// ordered by their writers' clocks.
const (
	onlineBit     = 1 << 63
	instanceBits  = 10
	instanceMask  = 1<<instanceBits - 1
	microsPerTick = 1 << instanceBits // the time part's unit, in sequence numbers
)

// Sequencer hands out online arrival sequence numbers. It is safe for
// concurrent use.
type Sequencer struct {
	now      func() time.Time
	instance uint64
	last     atomic.Uint64
}

// NewSequencer returns a sequencer reading the time from now (time.Now
// when nil), with a random instance number.
func NewSequencer(now func() time.Time) *Sequencer {
	if now == nil {
		now = time.Now
	}
	return &Sequencer{now: now, instance: rand.Uint64() & instanceMask}
}

// Next returns a sequence number greater than every number it returned
// before.
func (s *Sequencer) Next() uint64 {
	micros := uint64(s.now().UnixMicro()) & (1<<53 - 1)
	cand := onlineBit | micros<<instanceBits | s.instance
	for {
		last := s.last.Load()
		next := cand
		if next <= last {
			next = last + microsPerTick // the next microsecond, same instance
		}
		if s.last.CompareAndSwap(last, next) {
			return next
		}
	}
}
