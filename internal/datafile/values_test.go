package datafile

import (
	"encoding/json"
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

// TestParseInt compares parseInt with strconv.ParseInt.
func TestParseInt(t *testing.T) {
	t.Parallel()
	inputs := []string{"", "+", "-", "0", "-0", "+0", "007", "-007", "1a", " 1", "9223372036854775807", "9223372036854775808",
		"-9223372036854775808", "-9223372036854775809", "00000000000000000000001", "99999999999999999999", "1_000", "0x10"}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 10000 {
		inputs = append(inputs, strconv.FormatInt(int64(rng.Uint64())>>rng.IntN(64), 10))
	}
	for _, in := range inputs {
		want, err := strconv.ParseInt(in, 10, 64)
		wantSt := numOK
		if ne, ok := err.(*strconv.NumError); ok {
			wantSt = map[error]numStatus{strconv.ErrSyntax: numSyntax, strconv.ErrRange: numRange}[ne.Err]
			want = 0
		}
		if in == "1_000" || in == "0x10" {
			wantSt = numSyntax // ParseInt accepts these only with base 0
		}
		if got, st := parseInt([]byte(in)); got != want || st != wantSt {
			t.Errorf("parseInt(%q) = %d, %d; want %d, %d", in, got, st, want, wantSt)
		}
	}
}

// TestCalendar checks the day-number arithmetic against the time package
// where that is exact, and its own round trip over all of int64.
func TestCalendar(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range 200000 {
		days := rng.Int64N(8e6) - 4e6 // ±11,000 years
		if i < 10 {
			days = []int64{0, -1, 1, -719528, -719529, 2932896, 2932897, 11016, 10957, 59}[i]
		}
		y, m, d := types.DateOf(days)
		gy, gm, gd := civil(days)
		if gy != int64(y) || gm != int(m) || gd != d {
			t.Fatalf("civil(%d) = %d-%d-%d, want %d-%d-%d", days, gy, gm, gd, y, m, d)
		}
		if got := daysFrom(gy, gm, gd); got != days {
			t.Fatalf("daysFrom(%d-%d-%d) = %d, want %d", gy, gm, gd, got, days)
		}
		if got, ok := parseDate(appendDate(nil, days)); !ok || got != days {
			t.Fatalf("parseDate(%s) = %d, %v", appendDate(nil, days), got, ok)
		}
		far := int64(rng.Uint64())
		if i < 4 {
			far = []int64{math.MinInt64, math.MaxInt64, math.MinInt64 + 1, math.MaxInt64 - 719468}[i]
		}
		if got, ok := parseDate(appendDate(nil, far)); !ok || got != far {
			t.Fatalf("parseDate(%s) = %d, %v, want %d", appendDate(nil, far), got, ok, far)
		}
	}
	for _, bad := range []string{"", "2024-01-1", "2024-1-01", "24-01-01", "2024/01/01", "2024-00-01", "2024-13-01", "2024-01-00",
		"2024-01-32", "2023-02-29", "1900-02-29", "+2024-01-01", "2024-01-01 ", "-2024-1-01", "99999999999999999-01-01", "-0x24-01-01"} {
		if got, ok := parseDate([]byte(bad)); ok {
			t.Errorf("parseDate(%q) = %d, want an error", bad, got)
		}
	}
	for _, good := range []string{"2000-02-29", "0000-01-01", "-0001-12-31", "10000-01-01", "00001-01-01"} {
		if _, ok := parseDate([]byte(good)); !ok {
			t.Errorf("parseDate(%q) failed", good)
		}
	}
}

// TestParseTimestampText compares the timestamp text reader with the time
// package on random times and offsets.
func TestParseTimestampText(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(9, 10))
	layouts := []struct {
		layout string
		zone   bool // the text carries its offset
	}{
		{"2006-01-02 15:04:05", false}, {"2006-01-02 15:04:05.000", false}, {"2006-01-02 15:04:05.0", false},
		{"2006-01-02", false}, {"2006-01-02T15:04:05Z07:00", true}, {"2006-01-02T15:04:05.000-0700", true},
		{"2006-01-02T15:04:05-07", true}, {"2006-01-02T15:04:05.000000000Z07:00", true},
	}
	for range 50000 {
		l := layouts[rng.IntN(len(layouts))]
		loc := types.Zone()
		if l.zone {
			loc = time.FixedZone("", (rng.IntN(49)-24)*1800)
		}
		tm := time.UnixMilli(rng.Int64N(253402300799999+62135596800000) - 62135596800000).In(loc)
		text := tm.Format(l.layout)
		want, err := time.ParseInLocation(l.layout, text, types.Zone())
		if err != nil {
			t.Fatal(err)
		}
		got, ok := parseTimestampText([]byte(text))
		if !ok || got != want.UnixMilli() {
			t.Fatalf("parseTimestampText(%q) = %d, %v; want %d", text, got, ok, want.UnixMilli())
		}
	}
	for _, bad := range []string{"2024-01-02 24:00:00", "2024-01-02 23:60:00", "2024-01-02 23:59:60", "2024-01-02 23:59",
		"2024-01-02  23:59:59", "2024-01-02 23:59:59.", "2024-01-02 23:59:59.0001", "2024-01-02 23:59:59.1234567890",
		"2024-01-02T23:59:59+8", "2024-01-02T23:59:59+08:0", "2024-01-02T23:59:59+24:00", "2024-01-02T23:59:59 Z",
		"2024-01-02T23:59:59ZZ", "-2024-01-02", "20240102"} {
		if got, ok := parseTimestampText([]byte(bad)); ok {
			t.Errorf("parseTimestampText(%q) = %d, want an error", bad, got)
		}
	}
}

// TestJSONInt compares the exact reading of JSON numbers as integers with
// math/big.
func TestJSONInt(t *testing.T) {
	t.Parallel()
	inputs := []string{"0", "-0", "0.0", "7", "-7.000", "7e2", "7E+2", "750e-2", "700e-2", "1.5", "0.5e1", "5e-1",
		"9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775808.0", "92233720368547758070e-1",
		"1e18", "1e19", "1e400", "1e-400", "123456789012345678901234567890e-20"}
	rng := rand.New(rand.NewPCG(11, 12))
	for range 20000 {
		mant := strconv.FormatInt(int64(rng.Uint64())>>rng.IntN(64), 10)
		if k := rng.IntN(len(mant) + 1); k > 0 && k < len(mant) && mant[0] != '-' && rng.IntN(2) == 0 {
			mant = mant[:k] + "." + mant[k:]
		}
		if rng.IntN(2) == 0 {
			mant += "e" + strconv.Itoa(rng.IntN(41)-20)
		}
		inputs = append(inputs, mant)
	}
	huge := map[string]numStatus{"0e99999999999999999999": numOK, "-0.0e-99999999999999999999": numOK,
		"1e-99999999999999999999": numSyntax, "1e99999999999999999999": numRange, "-1e99999999999999999999": numRange}
	for in, want := range huge {
		if got, st := jsonInt(types.Int64, []byte(in)); got != 0 || st != want {
			t.Errorf("jsonInt(%q) = %d, %d; want 0, %d", in, got, st, want)
		}
	}
	for _, in := range inputs {
		if _, _, ok := scanNumber([]byte(in), 0); !ok {
			continue // not JSON (a leading zero)
		}
		r, ok := new(big.Rat).SetString(in)
		if !ok {
			t.Fatalf("big: %q", in)
		}
		wantSt := numOK
		var want int64
		switch {
		case !r.IsInt():
			wantSt = numSyntax
		case !r.Num().IsInt64():
			wantSt = numRange
		default:
			want = r.Num().Int64()
		}
		if got, st := jsonInt(types.Int64, []byte(in)); got != want || st != wantSt {
			t.Errorf("jsonInt(%q) = %d, %d; want %d, %d", in, got, st, want, wantSt)
		}
	}
}

// TestJSONStringsLikeEncodingJSON decodes strings with every kind of
// escape (and bad surrogates) and compares with encoding/json.
func TestJSONStringsLikeEncodingJSON(t *testing.T) {
	t.Parallel()
	pieces := []string{"a", "é", `\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`, `\u0041`, `\u00e9`, `\uFFFF`, `\ud83d\ude00`,
		`\ud83d`, `\ude00`, `\ud83d\u0041`, `\ud83dx`, `\ud83d\ud83d\ude00`, `\u0000`, "日本"}
	rng := rand.New(rand.NewPCG(13, 14))
	r := &Reader{}
	for range 20000 {
		s := ""
		for range rng.IntN(6) {
			s += pieces[rng.IntN(len(pieces))]
		}
		text := []byte(`"` + s + `"`)
		var want string
		if err := json.Unmarshal(text, &want); err != nil {
			t.Fatalf("encoding/json: %s: %v", text, err)
		}
		got, end, msg := r.jsonString(text, 0)
		if msg != "" || end != len(text) || string(got) != want {
			t.Fatalf("jsonString(%s) = %q, %d, %q; want %q", text, got, end, msg, want)
		}
	}
}

// TestJSONStringsEncode checks that written strings decode, by
// encoding/json and by the reader, to themselves (valid UTF-8).
func TestJSONStringsEncode(t *testing.T) {
	t.Parallel()
	r := &Reader{}
	for c := range 0x80 {
		for _, s := range []string{string(rune(c)), "x" + string(rune(c)) + "é\u2028😀"} {
			text := appendJSONString(nil, s)
			var viaJSON string
			if err := json.Unmarshal(text, &viaJSON); err != nil || viaJSON != s {
				t.Errorf("%q: encoding/json reads %s as %q, %v", s, text, viaJSON, err)
			}
			if got, _, msg := r.jsonString(text, 0); string(got) != s || msg != "" {
				t.Errorf("%q: read back as %q, %s", s, got, msg)
			}
		}
	}
}

// TestParseFloatFastPath compares the short-decimal fast path (and
// parseFloat as a whole) with strconv.ParseFloat, bit for bit.
func TestParseFloatFastPath(t *testing.T) {
	t.Parallel()
	inputs := []string{"0", "-0", "-0.0", ".5", "5.", ".", "-", "+1.5", "1..2", "123456789012345", "1234567890123456",
		"0.000000000000001", "999999999999999.9", "1e5", "0x1p3", "NaN", "-Inf", "1_0"}
	rng := rand.New(rand.NewPCG(15, 16))
	for range 100000 {
		s := strconv.FormatUint(rng.Uint64()>>rng.IntN(64), 10)
		if k := rng.IntN(len(s) + 1); rng.IntN(4) > 0 {
			s = s[:k] + "." + s[k:]
		}
		if rng.IntN(2) == 0 {
			s = "-" + s
		}
		inputs = append(inputs, s)
	}
	for _, in := range inputs {
		want, err := strconv.ParseFloat(in, 64)
		got, st := parseFloat(types.Double, []byte(in))
		if (err == nil) != (st == numOK) || (err == nil && math.Float64bits(got) != math.Float64bits(want)) {
			t.Errorf("parseFloat(%q) = %v, %d; ParseFloat = %v, %v", in, got, st, want, err)
		}
	}
}
