package emulators

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// StartKafka starts an in-process Kafka emulator (franz-go's kfake), a
// cluster of one broker listening on addr, a host:port; an empty host
// listens on 127.0.0.1, and port 0 (or an empty addr) picks a free port.
// It returns the address it listens on, which is also the address the
// broker advertises in metadata, for KAFKA_BROKERS or a client's seed
// brokers, and stop, which shuts it down (safe to call more than once).
//
// A topic a client asks for with auto-creation allowed (franz-go's
// kgo.AllowAutoTopicCreation, the default of Kafka's Java clients) is
// created then with partitions partitions (<= 0: 1); CreateTopic makes
// one with another count. Topics, records and committed group offsets
// exist only in this emulator's memory.
func StartKafka(addr string, partitions int) (hostport string, stop func(), err error) {
	laddr, err := loopback(addr)
	if err != nil {
		return "", nil, err
	}
	// kfake listens on 127.0.0.1 whatever it is told; ListenFn makes it
	// listen on laddr's host too.
	listen := func(network, _ string) (net.Listener, error) { return net.Listen(network, laddr) }
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.ListenFn(listen),
		kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(max(partitions, 1)))
	if err != nil {
		return "", nil, fmt.Errorf("emulators: starting the Kafka emulator on %s: %w", laddr, err)
	}
	return c.ListenAddrs()[0], c.Close, nil
}

// CreateTopic creates topic with partitions partitions (<= 0: 1) and the
// cluster's default replication factor on the Kafka cluster at brokers, a
// comma-separated list of host:port seed brokers (as in KAFKA_BROKERS): an
// emulator from StartKafka or a real cluster. A topic that exists with as
// many partitions is no error; one with another count is. ctx bounds the
// call: a client whose brokers do not answer retries until ctx ends.
func CreateTopic(ctx context.Context, brokers string, topic string, partitions int) error {
	partitions = max(partitions, 1)
	if partitions > math.MaxInt32 {
		return fmt.Errorf("emulators: topic %s: %d partitions, more than Kafka numbers", topic, partitions)
	}
	seeds := splitBrokers(brokers)
	if len(seeds) == 0 {
		return fmt.Errorf("emulators: creating topic %s: no brokers in %q", topic, brokers)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		return fmt.Errorf("emulators: creating topic %s: %w", topic, err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	_, err = adm.CreateTopic(ctx, int32(partitions), -1, nil, topic)
	if errors.Is(err, kerr.TopicAlreadyExists) {
		err = hasPartitions(ctx, adm, topic, partitions)
	}
	if err != nil {
		return fmt.Errorf("emulators: creating topic %s on %s: %w", topic, brokers, err)
	}
	return nil
}

// hasPartitions checks that the existing topic has n partitions.
func hasPartitions(ctx context.Context, adm *kadm.Client, topic string, n int) error {
	topics, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return err
	}
	d := topics[topic]
	if d.Err != nil {
		return d.Err
	}
	if len(d.Partitions) != n {
		return fmt.Errorf("the topic exists with %d partitions, not %d", len(d.Partitions), n)
	}
	return nil
}

// splitBrokers splits a comma-separated list of brokers, dropping blanks.
func splitBrokers(brokers string) []string {
	var seeds []string
	for b := range strings.SplitSeq(brokers, ",") {
		if b = strings.TrimSpace(b); b != "" {
			seeds = append(seeds, b)
		}
	}
	return seeds
}
