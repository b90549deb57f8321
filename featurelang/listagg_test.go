package featurelang_test

import (
	"strings"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang"
)

// TestLongWindowListArguments: over a long window, an aggregate of a list
// a nested window aggregate returns reads raw rows (the list depends on
// the current row's frame), count of one is refused as OpenMLDB refuses
// count of anything but a column, and distinct_count of an array computed
// per row is tiled (a tile holds the elements' distinct values).
func TestLongWindowListArguments(t *testing.T) {
	t.Parallel()
	deploy := lwTables + "DEPLOY d OPTIONS(long_windows='w1:1d') "
	for _, tt := range []struct {
		name, sql string
		tiled     bool
		why       string
	}{
		{"distinct_count of a window list", "SELECT distinct_count(window_split_by_key(card, ',', ':')) OVER w1",
			false, "hold a nested aggregate"},
		{"topn_frequency of a window list", "SELECT topn_frequency(window_split(card, ','), 3) OVER w1",
			false, "hold a nested aggregate"},
		{"distinct_count of a row's array", "SELECT distinct_count(split_array(card, ',')) OVER w1", true, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := featurelang.Compile("q.sql", deploy+tt.sql+lwWindows+";", featurelang.Options{})
			if err != nil {
				t.Fatal(err)
			}
			e := firstAgg(m.Views[0].Root)
			switch {
			case e == nil || e.Tile == nil:
				t.Fatal("no tiling decision on the aggregate")
			case e.Tile.Tiled != tt.tiled:
				t.Errorf("tiled = %v (%s), want %v", e.Tile.Tiled, e.Tile.Why, tt.tiled)
			case !tt.tiled && !strings.Contains(e.Tile.Why, tt.why):
				t.Errorf("reason %q, want it to contain %q", e.Tile.Why, tt.why)
			}
		})
	}
	_, err := featurelang.Compile("q.sql", deploy+"SELECT count(window_split_by_key(card, ',', ':')) OVER w1"+lwWindows+";", featurelang.Options{})
	if err == nil || !strings.Contains(err.Error(), "the first argument of count must be a column") {
		t.Errorf("count of a window list over a long window: error %v, want the column error", err)
	}
}
