package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/datafile"
	"github.com/fenestra-dev/fenestra/internal/producer"
)

const produceUsage = `usage: fenestra produce --sql FILE.sql --table NAME=PATH --topic TOPIC --brokers HOST:PORT [--rate N]

Produces the rows of a data file (CSV with a header, JSON Lines or
Parquet) to a Kafka topic as the records fenestra stream reads: each row a
JSON object of its table's columns, keyed by the table's first index key,
in file order. With --rate it paces them (rows a second); by default it
sends them as fast as Kafka takes them. A bad row stops it, naming file and
line (or row).`

// runProduce runs fenestra produce.
func runProduce(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("produce", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sql := fs.String("sql", "", "the feature file (CREATE TABLE statements)")
	table := fs.String("table", "", "the table and its data file, NAME=PATH")
	topic := fs.String("topic", "", "the topic to produce to")
	brokers := fs.String("brokers", os.Getenv("KAFKA_BROKERS"), "the Kafka seed brokers, HOST:PORT[,HOST:PORT...] (default $KAFKA_BROKERS)")
	rate := fs.Float64("rate", 0, "rows a second (0: as fast as Kafka takes them)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, produceUsage+"\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	name, path, ok := strings.Cut(*table, "=")
	if *sql == "" || !ok || name == "" || path == "" || *topic == "" || *brokers == "" || *rate < 0 || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	mods, ok := compileFiles([]string{*sql}, stderr)
	if !ok {
		return 1
	}
	i := slices.IndexFunc(mods[0].Tables, func(t *plan.Table) bool { return strings.EqualFold(t.Name, name) })
	if i < 0 {
		fmt.Fprintf(stderr, "fenestra produce: --table %s: %s has no table %s\n", *table, *sql, name)
		return 2
	}
	start := time.Now()
	n, err := produceFile(ctx, mods[0].Tables[i], path, *brokers, *topic, *rate)
	if err != nil {
		fmt.Fprintf(stderr, "fenestra produce: %v (%d rows produced)\n", err, n)
		return 1
	}
	elapsed := time.Since(start)
	fmt.Fprintf(stdout, "produce: %d rows of %s to topic %s in %v (%s rows/s)\n", n, name, *topic,
		elapsed.Round(time.Millisecond), humanCount(float64(n)/max(elapsed.Seconds(), 1e-9)))
	return 0
}

// produceFile produces the rows of the data file at path, in blocks.
func produceFile(ctx context.Context, t *plan.Table, path, brokers, topic string, rate float64) (int, error) {
	r, err := datafile.OpenFile(path, t.Schema)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	p, err := producer.New(brokers, topic, t)
	if err != nil {
		return 0, err
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(ctx, time.Hour)
	defer cancel()
	blk := types.NewBlock(t.Schema, 0)
	n := 0
	for {
		blk.Reset()
		_, err := r.Next(blk, nil, 16384)
		if blk.Len > 0 {
			sent, perr := p.SendRows(ctx, blk, rate)
			n += sent
			if perr != nil {
				return n, perr
			}
		}
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}
