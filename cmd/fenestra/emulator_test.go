package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestKafkaEmulatorCommand runs fenestra emulator kafka until interrupted,
// and produces and consumes a record through the address it prints.
func TestKafkaEmulatorCommand(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"emulator", "kafka", "--addr", "127.0.0.1:0", "--partitions", "3"}, &out, &errOut)
	}()
	export := regexp.MustCompile(`(?m)^export KAFKA_BROKERS=(127\.0\.0\.1:\d+)$`)
	var addr string
	for deadline := time.Now().Add(5 * time.Second); addr == ""; time.Sleep(10 * time.Millisecond) {
		if m := export.FindStringSubmatch(out.String()); m != nil {
			addr = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("no export line in %q (stderr %q)", out.String(), errOut.String())
		}
	}
	if want := "Kafka emulator listening on " + addr + " (in memory, 3 partitions per new topic"; !strings.Contains(out.String(), want) {
		t.Errorf("stdout lacks %q:\n%s", want, out.String())
	}

	// A client's calls fail when this context ends: one whose broker
	// does not answer would retry for ever.
	cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
	defer ccancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.AllowAutoTopicCreation(), kgo.ConsumeTopics("events"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(cctx, &kgo.Record{Topic: "events", Key: []byte("k"), Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatalf("producing: %v", err)
	}
	var got []*kgo.Record
	for len(got) == 0 {
		fetches := cl.PollFetches(cctx)
		if err := fetches.Err0(); err != nil {
			t.Fatalf("consuming: %v", err)
		}
		got = fetches.Records()
	}
	if len(got) != 1 || string(got[0].Key) != "k" || string(got[0].Value) != "v" {
		t.Errorf("consumed %d records, the first %q=%q; want k=v", len(got), got[0].Key, got[0].Value)
	}

	cancel()
	select {
	case c := <-done:
		if c != 0 || !strings.Contains(errOut.String(), "stopped") {
			t.Errorf("exit code %d; stderr %s", c, errOut.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the emulator did not stop when interrupted")
	}
}

// TestKafkaEmulatorFlags checks the Kafka emulator's refusals.
func TestKafkaEmulatorFlags(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"--partitions", "0"}, 2, "--partitions must be at least 1"},
		{[]string{"extra"}, 2, "usage: fenestra emulator kafka"},
		{[]string{"--nope"}, 2, "usage: fenestra emulator kafka"},
		{[]string{"--addr", "no-port"}, 1, `bad address "no-port"`},
	} {
		args := append([]string{"emulator", "kafka"}, c.args...)
		if code, _, errOut := runCmd(args...); code != c.code || !strings.Contains(errOut, c.stderr) {
			t.Errorf("%v: exit code %d, stderr %q; want %d with %q", args, code, errOut, c.code, c.stderr)
		}
	}
}
