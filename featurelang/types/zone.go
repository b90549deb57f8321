package types

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// DefaultZone is the time zone of a process that sets none: OpenMLDB's
// default, Asia/Shanghai, taken as the fixed UTC+8 OpenMLDB computes with
// (Asia/Shanghai has kept UTC+8 without daylight saving time since 1991).
const DefaultZone = "Asia/Shanghai"

// zone is a time zone in use.
type zone struct {
	name  string
	loc   *time.Location
	fixed bool  // a fixed offset from UTC
	offMs int64 // that offset, when fixed
}

var current atomic.Pointer[zone]

func init() {
	current.Store(&zone{name: DefaultZone, loc: time.FixedZone("UTC+8", 8*3600), fixed: true, offMs: 8 * 3600 * 1000})
}

// Zone returns the time zone of date and time functions, of conversions
// between timestamps and text, and of timestamp text in data files
// without an offset. It is one per process (SetZone).
func Zone() *time.Location { return current.Load().loc }

// ZoneName returns the name the zone was set by (DefaultZone unless
// SetZone changed it).
func ZoneName() string { return current.Load().name }

// SetZone makes name the process's time zone: an IANA name (Europe/Paris,
// America/New_York, UTC) or a fixed offset from UTC (+08:00, -0530,
// UTC+8, UTC-03:30). DefaultZone is the fixed UTC+8. Set it before
// evaluating: plans record the zone they were compiled in, and an
// evaluator refuses a plan of another zone. Setting the zone in use again
// changes nothing (and is safe while other goroutines evaluate).
func SetZone(name string) error {
	if name == "" {
		name = DefaultZone
	}
	if current.Load().name == name {
		return nil
	}
	z, err := parseZone(name)
	if err != nil {
		return err
	}
	current.Store(z)
	return nil
}

// parseZone reads a zone name.
func parseZone(name string) (*zone, error) {
	if name == DefaultZone {
		return &zone{name: name, loc: time.FixedZone("UTC+8", 8*3600), fixed: true, offMs: 8 * 3600 * 1000}, nil
	}
	if off, ok := parseOffset(strings.TrimPrefix(strings.TrimPrefix(name, "UTC"), "GMT")); ok {
		return &zone{name: name, loc: time.FixedZone(name, off), fixed: true, offMs: int64(off) * 1000}, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: want an IANA name such as Asia/Shanghai or an offset such as +08:00: %w", name, err)
	}
	return &zone{name: name, loc: loc, fixed: name == "UTC"}, nil
}

// parseOffset reads "" (UTC), ±H, ±HH, ±HHMM or ±HH:MM as seconds east of
// UTC.
func parseOffset(s string) (int, bool) {
	if s == "" {
		return 0, true
	}
	if len(s) < 2 || (s[0] != '+' && s[0] != '-') {
		return 0, false
	}
	sign, s := s[0], strings.ReplaceAll(s[1:], ":", "")
	h, m := s, "0"
	if len(s) > 2 {
		h, m = s[:len(s)-2], s[len(s)-2:]
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || len(h) > 2 || hh > 14 || mm > 59 {
		return 0, false
	}
	off := hh*3600 + mm*60
	if sign == '-' {
		off = -off
	}
	return off, true
}

// UTCOfLocal returns the timestamp of a wall-clock time in Zone given as
// milliseconds since 1970-01-01 00:00:00 of that wall clock. A wall-clock
// time that a daylight saving change skips or repeats is taken as
// time.Date takes it.
func UTCOfLocal(local int64) int64 {
	z := current.Load()
	if z.fixed {
		return local - z.offMs
	}
	days, ms := local/msPerDay, local%msPerDay
	if ms < 0 {
		days, ms = days-1, ms+msPerDay
	}
	y, m, d := DateOf(days)
	return time.Date(y, m, d, 0, 0, 0, 0, z.loc).Add(time.Duration(ms) * time.Millisecond).UnixMilli()
}
