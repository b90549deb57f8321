package examples

import (
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/rowcsv"
)

// TestCardScriptMatchesExample keeps the README example and the hand-checked
// feature script (testdata/features/card_features.txt) on the same views.
func TestCardScriptMatchesExample(t *testing.T) {
	example, err := FS.ReadFile("cards/features.sql")
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile("../testdata/features/card_features.txt")
	if err != nil {
		t.Fatal(err)
	}
	deploy := func(s string) string {
		i := strings.Index(s, "DEPLOY card_features")
		j := strings.Index(s[i:], ";")
		var lines []string
		for _, l := range strings.Split(s[i:i+j], "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "--") {
				lines = append(lines, l)
			}
		}
		return strings.Join(lines, "\n")
	}
	if a, b := deploy(string(example)), deploy(string(script)); a != b {
		t.Errorf("the card_features view differs between examples/cards/features.sql and the script:\n%s\n---\n%s", a, b)
	}
}

// TestGenerateCards: the generator is deterministic and makes what it
// promises: the row count, busy cards, equal timestamps, late arrivals,
// NULLs, profile versions, cards without profile, unknown merchants.
func TestGenerateCards(t *testing.T) {
	t.Parallel()
	e, err := Lookup("cards")
	if err != nil {
		t.Fatal(err)
	}
	const n = 20_000
	a, err := e.Generate(Config{Rows: n, Seed: 1, Start: testStart})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := e.Generate(Config{Rows: n, Seed: 1, Start: testStart})
	c, _ := e.Generate(Config{Rows: n, Seed: 2, Start: testStart})
	for name := range a {
		if rowcsv.Format(a[name]) != rowcsv.Format(b[name]) {
			t.Errorf("%s: two runs of one seed differ", name)
		}
	}
	if rowcsv.Format(a["tx"]) == rowcsv.Format(c["tx"]) {
		t.Error("two seeds give the same transactions")
	}
	for _, tb := range e.Module.Tables {
		if got := a[tb.Name].Schema.String(); got != tb.Schema.String() {
			t.Errorf("%s: generated (%s), the table is (%s)", tb.Name, got, tb.Schema)
		}
	}
	tx := a["tx"]
	if tx.Len != n {
		t.Fatalf("%d transactions, want %d", tx.Len, n)
	}
	perCard := map[string]int{}
	equalTimes, late, nullCountry, nullAmount, unknown := 0, 0, 0, 0, 0
	maxTS := int64(math.MinInt64)
	ts := tx.Cols[5].I
	for i := 0; i < n; i++ {
		perCard[tx.Cols[1].S[i]]++
		if i > 0 && ts[i] == ts[i-1] {
			equalTimes++
		}
		if ts[i] < maxTS {
			late++
		}
		maxTS = max(maxTS, ts[i])
		if tx.Cols[3].IsNull(i) {
			nullCountry++
		}
		if tx.Cols[4].IsNull(i) {
			nullAmount++
		}
		if strings.HasPrefix(tx.Cols[2].S[i], "x") {
			unknown++
		}
	}
	busiest := 0
	for _, k := range perCard {
		busiest = max(busiest, k)
	}
	mean := n / len(perCard)
	cards := a["cards"]
	versions := map[string]int{}
	for i := 0; i < cards.Len; i++ {
		versions[cards.Cols[0].S[i]]++
	}
	twice := 0
	for _, v := range versions {
		if v > 1 {
			twice++
		}
	}
	for _, c := range []struct {
		what     string
		got, min int
	}{
		{"busiest card's transactions over 5x the mean", busiest, 5 * mean},
		{"equal timestamps", equalTimes, n / 100},
		{"late arrivals", late, n / 200},
		{"NULL countries", nullCountry, n / 100},
		{"NULL amounts", nullAmount, n / 300},
		{"unknown merchants", unknown, n / 300},
		{"cards with two profile versions", twice, len(versions) / 5},
		{"cards without a profile", 200 - len(versions), 2},
		{"cards whose NULL limit", nulls(cards, 2), 5},
		{"uncategorized merchants", nulls(a["merchants"], 1), 1},
	} {
		if c.got < c.min {
			t.Errorf("%s: %d, want at least %d", c.what, c.got, c.min)
		}
	}
	if last := time.UnixMilli(maxTS).UTC(); last.Before(time.Date(2024, 5, 25, 0, 0, 0, 0, time.UTC)) || last.After(time.Date(2024, 6, 5, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("the transactions end at %v, want about 30 days after 2024-05-01", last)
	}
}

var testStart = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)

func nulls(b *types.Block, col int) int {
	n := 0
	for i := 0; i < b.Len; i++ {
		if b.Cols[col].IsNull(i) {
			n++
		}
	}
	return n
}

func TestLookup(t *testing.T) {
	t.Parallel()
	if _, err := Lookup("nope"); err == nil || !strings.Contains(err.Error(), "cards") {
		t.Errorf("an unknown example: %v, want an error naming the examples", err)
	}
	e, _ := Lookup("cards")
	if _, err := e.Generate(Config{Rows: 0, Start: testStart}); err == nil {
		t.Error("0 rows: no error")
	}
	if _, err := e.Generate(Config{Rows: 1}); err == nil {
		t.Error("no start: no error")
	}
	now := time.Date(2026, 12, 1, 22, 5, 0, 0, time.FixedZone("X", 3600))
	if got := DefaultStart(now, 30); !got.Equal(time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("DefaultStart = %v", got)
	}
}
