package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/fenestra-dev/fenestra/emulators"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/datafile"
)

// TestStreamFlags checks stream's refusals.
func TestStreamFlags(t *testing.T) {
	t.Parallel()
	base := []string{"--sql", "testdata/ok.sql", "--brokers", "127.0.0.1:1"}
	for _, c := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no topic", base, 2, "usage: fenestra stream"},
		{"no brokers", []string{"--sql", "testdata/ok.sql", "--topic", "t=t", "--brokers", ""}, 2, "usage: fenestra stream"},
		{"bad topic flag", append(base, "--topic", "t"), 2, "want TABLE=TOPIC"},
		{"unknown table", append(base, "--topic", "nope=x"), 2, "testdata/ok.sql has no table nope"},
		{"two topics for a table", append(base, "--topic", "tx=a", "--topic", "tx=b"), 2, "table tx takes records from a and b; a table takes one topic"},
		{"bad policy", append(base, "--topic", "tx=a", "--bad-rows", "drop"), 2, "want fail, skip or dead-letter=TOPIC"},
		{"bad file", []string{"--sql", "testdata/bad.sql", "--brokers", "b:1", "--topic", "tx=a"}, 1, `unknown column "amout"`},
		{"bad instance", append(base, "--topic", "tx=a", "--bigtable", "proj"), 2, "want PROJECT/INSTANCE"},
	} {
		var out, errOut syncBuffer
		code := runStream(context.Background(), c.args, &out, &errOut)
		if code != c.code || !strings.Contains(errOut.String(), c.stderr) {
			t.Errorf("%s: exit code %d, stderr:\n%s\nwant %d and %q", c.name, code, errOut.String(), c.code, c.stderr)
		}
	}
}

// TestProduce produces a data file's rows, from CSV and from Parquet, to
// topics of the Kafka emulator and reads them back: every row, in file
// order per key, keyed by card.
func TestProduce(t *testing.T) {
	t.Parallel()
	brokers, stop, err := emulators.StartKafka("127.0.0.1:0", 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	schema := types.Schema{{Name: "id", Type: types.Int64}, {Name: "card", Type: types.String},
		{Name: "amount", Type: types.Double}, {Name: "ts", Type: types.Timestamp}}
	b := types.NewBlock(schema, 300)
	for i := range 300 {
		b.AppendRow([]types.Value{types.Int64Value(int64(i)), types.StringValue(fmt.Sprintf("c%d", i%7)),
			types.DoubleValue(float64(i) + 0.5), types.TimestampValue(1_700_000_000_000 + int64(i))})
	}
	dir := t.TempDir()
	var csv string
	for _, ext := range []string{"csv", "parquet"} {
		path := filepath.Join(dir, "tx."+ext)
		if err := datafile.WriteFile(path, b); err != nil {
			t.Fatal(err)
		}
		if ext == "csv" {
			csv = path
		}
		topic := "tx_" + ext
		if err := emulators.CreateTopic(context.Background(), brokers, topic, 3); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := runCmd("produce", "--sql", "testdata/ok.sql", "--table", "tx="+path, "--topic", topic, "--brokers", brokers)
		if code != 0 || !strings.Contains(out, "produce: 300 rows of tx to topic "+topic) {
			t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
		}
		checkProduced(t, brokers, topic)
	}
	code, _, errOut := runCmd("produce", "--sql", "testdata/ok.sql", "--table", "nope="+csv, "--topic", "tx_csv", "--brokers", brokers)
	if code != 2 || !strings.Contains(errOut, "has no table nope") {
		t.Errorf("an unknown table: exit code %d, stderr %s", code, errOut)
	}
}

// checkProduced reads the 300 records of TestProduce from topic: every
// row, in file order per key, keyed by card.
func checkProduced(t *testing.T, brokers, topic string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	last := map[string]int{}
	partition := map[string]int32{}
	seen := map[int]bool{}
	for n := 0; n < 300; {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("%d of 300 records read", n)
		}
		for _, r := range fs.Records() {
			n++
			var row struct {
				ID   int    `json:"id"`
				Card string `json:"card"`
			}
			if err := json.Unmarshal(r.Value, &row); err != nil || string(r.Key) != row.Card {
				t.Fatalf("record %s key %s: %v", r.Value, r.Key, err)
			}
			if p, ok := partition[row.Card]; ok && p != r.Partition {
				t.Errorf("card %s in partitions %d and %d", row.Card, p, r.Partition)
			}
			if prev, ok := last[row.Card]; ok && row.ID <= prev {
				t.Errorf("card %s: row %d after row %d", row.Card, row.ID, prev)
			}
			partition[row.Card], last[row.Card] = r.Partition, row.ID
			seen[row.ID] = true
		}
	}
	if len(seen) != 300 {
		t.Errorf("%s: %d distinct rows of 300", topic, len(seen))
	}
}
