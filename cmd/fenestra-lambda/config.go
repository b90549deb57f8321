package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/functions"
	"github.com/fenestra-dev/fenestra/internal/records"
	"github.com/fenestra-dev/fenestra/storage/bigtable"
)

// handler builds the function's Lambda adapter from the environment
// (getenv; see the package comment), logging to logs.
func handler(ctx context.Context, getenv func(string) string, logs io.Writer) (*functions.Lambda, error) {
	level := slog.LevelInfo
	if s := getenv("FENESTRA_LOG_LEVEL"); s != "" {
		if err := level.UnmarshalText([]byte(s)); err != nil {
			return nil, fmt.Errorf("FENESTRA_LOG_LEVEL: %w", err)
		}
	}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: level}))
	if err := types.SetZone(getenv("FENESTRA_TIME_ZONE")); err != nil {
		return nil, fmt.Errorf("FENESTRA_TIME_ZONE: %w", err)
	}
	path := getenv("FENESTRA_SQL")
	var mod *featurelang.Module
	if path != "" {
		text, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		if mod, err = featurelang.Compile(path, string(text), featurelang.Options{}); err != nil {
			return nil, err
		}
	}
	timeout, err := duration(getenv, "FENESTRA_TIMEOUT", functions.DefaultTimeout)
	if err != nil {
		return nil, err
	}
	sopts := functions.ServerOptions{Database: getenv("FENESTRA_DATABASE"), Logger: log}
	if sopts.MaxBody, err = bytesOf(getenv, "FENESTRA_MAX_BODY", functions.DefaultMaxBody); err != nil {
		return nil, err
	}
	maxRows, err := rowsOf(getenv, "FENESTRA_MAX_ROWS", functions.DefaultMaxRows)
	if err != nil {
		return nil, err
	}
	if f := getenv("FENESTRA_AUTH_TOKEN_FILE"); f != "" {
		if sopts.AuthToken, err = readToken(f); err != nil {
			return nil, err
		}
	}
	cfg := bigtable.Config{Project: getenv("BIGTABLE_PROJECT"), Instance: getenv("BIGTABLE_INSTANCE"),
		Prefix: getenv("FENESTRA_PREFIX"), EmulatorHost: getenv("BIGTABLE_EMULATOR_HOST"), Logger: log,
		Timeout: storeTimeout(timeout)}
	if cfg.Project == "" && cfg.Instance == "" && cfg.EmulatorHost != "" {
		cfg.Project, cfg.Instance = "local", "local"
	}
	if cfg.Project == "" || cfg.Instance == "" {
		return nil, fmt.Errorf("BIGTABLE_PROJECT and BIGTABLE_INSTANCE must be set (or BIGTABLE_EMULATOR_HOST)")
	}
	store, err := bigtable.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	opts := functions.Options{Timeout: timeout, Logger: log, MaxRows: maxRows}
	srv, svc, source, err := server(ctx, mod, path, store, opts, sopts)
	if err != nil {
		store.Close()
		return nil, err
	}
	lopts, err := lambdaOptions(getenv, svc, source)
	if err != nil {
		store.Close()
		return nil, err
	}
	l, err := functions.NewLambda(srv, lopts)
	if err != nil {
		store.Close()
		return nil, err
	}
	log.Info("serving", "views", len(svc.Views()), "sql", path, "bigtable", cfg.Project+"/"+cfg.Instance, "at", store.Addr(),
		"topics", getenv("FENESTRA_TOPICS"), "bad_records", lopts.BadRecords.String())
	return l, nil
}

// server returns the Server of mod's views or, when mod is nil, of the
// deployments stored in store, listed once: a Lambda's process is frozen
// between invocations, so it serves the deployments of its start, and a
// deployment stored later reaches the instances started after it. source
// names what the tables come from, for errors.
func server(ctx context.Context, mod *featurelang.Module, path string, store *bigtable.Store, opts functions.Options,
	sopts functions.ServerOptions) (srv *functions.Server, svc *functions.Service, source string, err error) {
	if mod != nil {
		if svc, err = functions.New(mod, store, opts); err != nil {
			return nil, nil, "", err
		}
		return functions.NewServer(svc, sopts), svc, path + " creates", nil
	}
	cat, err := functions.NewCatalog(ctx, store, functions.CatalogOptions{Service: opts, Server: sopts})
	if err != nil {
		return nil, nil, "", err
	}
	cat.Close()
	if svc = cat.Service(); len(svc.Views()) == 0 {
		return nil, nil, "", fmt.Errorf("FENESTRA_SQL is not set and no deployment stored in Bigtable (table %s) can be served", store.CatalogTable())
	}
	return cat.Server(), svc, "the stored deployments read", nil
}

// lambdaOptions reads the Kafka trigger's settings: FENESTRA_TOPICS,
// TABLE=TOPIC pairs separated by commas, each table one of svc's and each
// table and topic given once, and FENESTRA_BAD_RECORDS, fail or skip.
// source says where svc's tables come from, in errors.
func lambdaOptions(getenv func(string) string, svc *functions.Service, source string) (functions.LambdaOptions, error) {
	var opts functions.LambdaOptions
	switch s := getenv("FENESTRA_BAD_RECORDS"); s {
	case "", "fail":
	case "skip":
		opts.BadRecords = records.Policy{Mode: records.Skip}
	default:
		if p, err := records.ParsePolicy(s); err == nil && p.Mode == records.DeadLetter {
			return opts, fmt.Errorf("FENESTRA_BAD_RECORDS: %s is not available in the Lambda, which has no Kafka producer; "+
				"use fail, with the event source mapping's on-failure destination keeping the batches that fail, or skip", s)
		}
		return opts, fmt.Errorf("FENESTRA_BAD_RECORDS: %q: want fail or skip", s)
	}
	s := getenv("FENESTRA_TOPICS")
	if strings.TrimSpace(s) == "" {
		return opts, nil
	}
	opts.Topics = map[string]string{}
	tables := map[string]string{} // table -> topic
	for _, pair := range strings.Split(s, ",") {
		table, topic, ok := strings.Cut(strings.TrimSpace(pair), "=")
		table, topic = strings.TrimSpace(table), strings.TrimSpace(topic)
		switch {
		case !ok || table == "" || topic == "":
			return opts, fmt.Errorf("FENESTRA_TOPICS: %q: want TABLE=TOPIC pairs separated by commas", pair)
		case svc.Table(table) == nil:
			return opts, fmt.Errorf("FENESTRA_TOPICS: %s no table %s", source, table)
		case tables[table] != "":
			return opts, fmt.Errorf("FENESTRA_TOPICS: table %s is given two topics, %s and %s; a table takes records from one topic", table, tables[table], topic)
		case opts.Topics[topic] != "":
			return opts, fmt.Errorf("FENESTRA_TOPICS: topic %s is given to two tables, %s and %s", topic, opts.Topics[topic], table)
		}
		tables[table], opts.Topics[topic] = topic, table
	}
	return opts, nil
}

// storeTimeout bounds each call to Bigtable at three quarters of the
// request deadline, so an unreachable Bigtable fails the call as
// unavailable (503) before the request's deadline passes (504).
func storeTimeout(request time.Duration) time.Duration {
	if request <= 0 {
		return bigtable.DefaultTimeout
	}
	return min(bigtable.DefaultTimeout, request*3/4)
}

func duration(getenv func(string) string, name string, def time.Duration) (time.Duration, error) {
	s := getenv(name)
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return d, nil
}

func bytesOf(getenv func(string) string, name string, def int64) (int64, error) {
	s := getenv(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s: want a positive number of bytes, got %q", name, s)
	}
	return n, nil
}

// rowsOf reads a row limit: a positive number, or def when unset.
func rowsOf(getenv func(string) string, name string, def int) (int, error) {
	s := getenv(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s: want a positive number of rows, got %q", name, s)
	}
	return n, nil
}

// readToken reads a bearer token file: its content, trimmed.
func readToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("the token file %s is empty", path)
	}
	return tok, nil
}
