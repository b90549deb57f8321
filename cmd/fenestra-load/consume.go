package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// runConsume reads a topic from its start to its current end with a bare
// franz-go consumer and reports the rate: the raw path, the baseline of
// the stream's catch-up rate.
func runConsume(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("consume", flag.ContinueOnError)
	fs.SetOutput(stderr)
	brokers := fs.String("brokers", os.Getenv("KAFKA_BROKERS"), "the Kafka seed brokers (default $KAFKA_BROKERS)")
	topic := fs.String("topic", "tx", "the topic to read")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *brokers == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	n, elapsed, err := consume(ctx, *brokers, *topic)
	if err != nil {
		fmt.Fprintf(stderr, "fenestra-load consume: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "consumed %d records of %s in %v (%.0f records/s)\n", n, *topic, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds())
	return 0
}

// consume reads every record of topic up to its end offsets as of the
// start, and returns how many and how long it took, client start included.
func consume(ctx context.Context, brokers, topic string) (int64, time.Duration, error) {
	start := time.Now()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return 0, 0, err
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		return 0, 0, err
	}
	var want int64
	ends.Each(func(o kadm.ListedOffset) { want += max(o.Offset, 0) })
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	var n int64
	for n < want {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return n, time.Since(start), err
		}
		n += int64(fs.NumRecords())
	}
	return n, time.Since(start), nil
}
