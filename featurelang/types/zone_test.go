package types

import (
	"testing"
	"time"
)

// TestSetZone sets zones and checks the conversions that use them: a
// fixed offset, an IANA zone with daylight saving time (both sides of a
// change), and the default back. Not parallel: the zone is the
// process's.
func TestSetZone(t *testing.T) {
	defer SetZone(DefaultZone)
	if ZoneName() != DefaultZone || UTCOfLocal(0) != -8*3600*1000 {
		t.Fatalf("default zone %s: UTCOfLocal(0) = %d", ZoneName(), UTCOfLocal(0))
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		loc  *time.Location
	}{
		{"+05:30", time.FixedZone("", 5*3600+1800)},
		{"UTC-3", time.FixedZone("", -3*3600)},
		{"UTC", time.UTC},
		{"Europe/Paris", paris},
	} {
		if err := SetZone(tc.name); err != nil {
			t.Fatal(err)
		}
		for _, wall := range []time.Time{
			time.Date(2024, 1, 15, 12, 30, 0, 0, time.UTC), // winter
			time.Date(2024, 7, 15, 12, 30, 0, 0, time.UTC), // summer
			time.Date(1969, 12, 31, 23, 59, 59, 999e6, time.UTC),
		} {
			want := time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), wall.Nanosecond(), tc.loc).UnixMilli()
			if got := UTCOfLocal(wall.UnixMilli()); got != want {
				t.Errorf("%s: UTCOfLocal(%v) = %d, want %d", tc.name, wall, got, want)
			}
			if got := FormatTimestamp(want); got != wall.Format(time.DateTime) {
				t.Errorf("%s: FormatTimestamp = %s, want %s", tc.name, got, wall.Format(time.DateTime))
			}
		}
	}
	if err := SetZone("Mars/Olympus"); err == nil {
		t.Error("SetZone of an unknown zone: no error")
	}
	if ZoneName() != "Europe/Paris" {
		t.Errorf("a failed SetZone changed the zone to %s", ZoneName())
	}
}
