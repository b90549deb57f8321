package records

import (
	"errors"
	"strings"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang/types"
)

func TestSeqOrder(t *testing.T) {
	t.Parallel()
	a, err := Seq(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Seq(0, 1)
	c, _ := Seq(1, 0)
	last, _ := Seq(MaxPartition, MaxOffset)
	if !(a < b && b < c && c < last) {
		t.Errorf("not increasing: %x %x %x %x", a, b, c, last)
	}
	// Batch-loaded rows (file<<40 | line) sort before, online rows (bit 63) after.
	if batch := uint64(1<<22-1)<<40 | (1<<40 - 1); !(batch < a) {
		t.Errorf("batch %x >= stream %x", batch, a)
	}
	if online := uint64(1) << 63; !(last < online) {
		t.Errorf("stream %x >= online %x", last, online)
	}
	for _, bad := range [][2]int64{{-1, 0}, {0, -1}, {MaxPartition + 1, 0}, {0, MaxOffset + 1}} {
		if _, err := Seq(int32(bad[0]), bad[1]); !errors.Is(err, ErrRange) {
			t.Errorf("Seq(%d, %d): %v, want ErrRange", bad[0], bad[1], err)
		}
	}
}

func TestDecoder(t *testing.T) {
	t.Parallel()
	schema := types.Schema{{Name: "card", Type: types.String}, {Name: "amount", Type: types.Double}, {Name: "ts", Type: types.Timestamp}}
	cases := []struct {
		value string
		want  string // the row, or the error
	}{
		{`{"card":"c1","amount":1.5,"ts":1000}`, `[c1 1.5 1970-01-01 08:00:01]`},
		{` {"ts": 2000, "card": "c2", "AMOUNT": null} `, `[c2 NULL 1970-01-01 08:00:02]`},
		{`["c3", 3, "1970-01-01 08:00:03"]`, `[c3 3 1970-01-01 08:00:03]`},
		{``, `topic tx partition 2 offset 7: empty value; want a JSON object of the columns of t`},
		{`not json`, `topic tx partition 2 offset 7: malformed JSON at byte 1`},
		{`{"card":"c1","amount":1.5,"ts":1000} x`, `topic tx partition 2 offset 7: malformed JSON at byte 38: text after the row`},
		{`"c1"`, `topic tx partition 2 offset 7: want a JSON object of the columns of t, found "c1"`},
		{`{"card":"c1","amount":"abc","ts":1000}`, `topic tx partition 2 offset 7: amount: cannot read "abc" as double`},
		{`{"card":"c1","ts":1000}`, `topic tx partition 2 offset 7: amount: missing; every column of t must be given (null for NULL)`},
		{`{"card":"c1","amount":1,"ts":1000,"x":1}`, `topic tx partition 2 offset 7: x: not a column of t`},
		{`{"card":"c1","amount":1,"card":"c2","ts":1000}`, `topic tx partition 2 offset 7: card: the object has this column twice`},
		{`["c1", 1]`, `topic tx partition 2 offset 7: 2 values; a t row has 3 columns`},
	}
	d := NewDecoder("t", schema)
	b := types.NewBlock(schema, 0)
	var seqs []uint64
	for _, c := range cases {
		before := b.Len
		var err error
		seqs, err = d.Append(b, seqs, Record{Topic: "tx", Partition: 2, Offset: 7, Value: []byte(c.value)})
		if err != nil {
			var re *Error
			if !errors.As(err, &re) || re.Offset != 7 || re.Partition != 2 {
				t.Errorf("%s: error %v is not a positioned *Error", c.value, err)
			}
			if !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("%s: error %q, want %q...", c.value, err, c.want)
			}
			if b.Len != before || len(seqs) != before {
				t.Errorf("%s: a bad record appended to the block", c.value)
			}
		} else if got := rowText(b, b.Len-1); got != c.want {
			t.Errorf("%s: row %s, want %s", c.value, got, c.want)
		}
		for k, col := range b.Cols {
			if col.Len() != b.Len || (col.Nulls != nil && len(col.Nulls) != b.Len) {
				t.Fatalf("%s: column %d has %d values, the block %d rows", c.value, k, col.Len(), b.Len)
			}
		}
	}
	if b.Len != 3 {
		t.Errorf("%d rows decoded, want 3", b.Len)
	}
	want, _ := Seq(2, 7)
	for _, s := range seqs {
		if s != want {
			t.Errorf("seq %x, want %x", s, want)
		}
	}
}

func rowText(b *types.Block, i int) string {
	var parts []string
	for _, v := range b.Row(i, nil) {
		parts = append(parts, v.String())
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func TestParsePolicy(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"fail", "skip", "dead-letter=bad"} {
		p, err := ParsePolicy(s)
		if err != nil || p.String() != s {
			t.Errorf("ParsePolicy(%q) = %v, %v", s, p, err)
		}
	}
	for _, s := range []string{"", "dead-letter=", "drop"} {
		if _, err := ParsePolicy(s); err == nil {
			t.Errorf("ParsePolicy(%q) accepted", s)
		}
	}
}
