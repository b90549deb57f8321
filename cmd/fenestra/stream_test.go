package main

import (
	"context"
	"strings"
	"testing"
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
