package script

import (
	"encoding/json"
	"testing"

	"github.com/fenestra-dev/fenestra/featurelang"
)

// TestCreateTableRoundTrip checks that SHOW CREATE TABLE prints a
// statement that creates the same table: columns, indexes and TTLs.
func TestCreateTableRoundTrip(t *testing.T) {
	t.Parallel()
	for _, sql := range []string{
		"CREATE TABLE t (a int, b string, c timestamp)",
		"CREATE TABLE t (a int, b string, c timestamp, d date, e float, f bool, g smallint, INDEX(KEY=b, TS=c))",
		"CREATE TABLE t (a bigint, b string, c timestamp, INDEX(KEY=(a, b), TS=c, TTL=10d, TTL_TYPE=absolute), INDEX(KEY=b, TTL=100, TTL_TYPE=latest))",
		"CREATE TABLE t (a bigint, b string, c timestamp, INDEX(KEY=b, TS=c, TTL=(90m, 5), TTL_TYPE=absorlat), INDEX(KEY=a, TS=c, TTL=(1h, 2), TTL_TYPE=absandlat))",
	} {
		m, err := featurelang.Compile("t.sql", sql, featurelang.Options{})
		if err != nil {
			t.Fatal(err)
		}
		shown := createTable("t", m.Tables[0])
		back, err := featurelang.Compile("shown.sql", shown, featurelang.Options{})
		if err != nil {
			t.Fatalf("%s\nprinted\n%s\nwhich does not compile: %v", sql, shown, err)
		}
		a, _ := json.Marshal(m.Tables[0])
		b, _ := json.Marshal(back.Tables[0])
		if string(a) != string(b) {
			t.Errorf("%s\nprinted\n%s\nwhich creates %s, not %s", sql, shown, b, a)
		}
	}
}
