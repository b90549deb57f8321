package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/fenestra-dev/fenestra/emulators"
	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/storage"
	"github.com/fenestra-dev/fenestra/storage/bigtable"
)

const featuresSQL = `
CREATE TABLE tx (tx_id bigint, card string, amount double, ts timestamp, INDEX(KEY=card, TS=ts));
DEPLOY features
SELECT tx_id, sum(amount) OVER w1h AS spend_1h, count(amount) OVER w1h AS tx_1h
FROM tx
WINDOW w1h AS (PARTITION BY card ORDER BY ts ROWS_RANGE BETWEEN 1h PRECEDING AND CURRENT ROW);
`

// writeSQL writes the feature file of the tests.
func writeSQL(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "features.sql")
	if err := os.WriteFile(path, []byte(featuresSQL), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// bigtableWithTables starts an emulator and creates the feature file's
// tables under prefix, as fenestra storage init does.
func bigtableWithTables(t *testing.T, prefix string) string {
	t.Helper()
	addr, stop, err := emulators.StartBigtable("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	mod, err := featurelang.Compile("features.sql", featuresSQL, featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := bigtable.Open(context.Background(), bigtable.Config{Project: "local", Instance: "local", EmulatorHost: addr, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Init(context.Background(), mod.Tables); err != nil {
		t.Fatal(err)
	}
	return addr
}

// mskEvent returns the JSON text of an Amazon MSK event as Lambda sends
// it, with records of topic transactions: partition, offset and value
// (JSON text, base64 in the event), grouped by "topic-partition".
func mskEvent(records ...struct {
	partition, offset int
	value             string
}) string {
	var keys []string
	groups := map[string][]string{}
	for _, r := range records {
		key := fmt.Sprintf("transactions-%d", r.partition)
		if groups[key] == nil {
			keys = append(keys, key)
		}
		groups[key] = append(groups[key], fmt.Sprintf(`{"topic": "transactions", "partition": %d, "offset": %d, "timestamp": 1714528800500, `+
			`"timestampType": "CREATE_TIME", "key": "Yzk=", "value": %q, "headers": []}`, r.partition, r.offset, base64.StdEncoding.EncodeToString([]byte(r.value))))
	}
	var b strings.Builder
	b.WriteString(`{"eventSource": "aws:kafka", "eventSourceArn": "arn:aws:kafka:us-east-1:123456789012:cluster/fenestra/a1b2c3d4-1", ` +
		`"bootstrapServers": "b-1.fenestra.abc123.c2.kafka.us-east-1.amazonaws.com:9098", "records": {`)
	for i, key := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q: [%s]", key, strings.Join(groups[key], ", "))
	}
	b.WriteString("}}")
	return b.String()
}

// TestLambdaBinary builds this command and runs its real lambda.Start
// loop as a child process of the Lambda Runtime API emulator, with
// history in the Bigtable emulator: ingestion, request-then-insert, the
// four payloads and errors. A Kafka event, its record delivered twice in
// it and the event again, stores each record once: a compute request
// afterwards counts each once.
func TestLambdaBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the Lambda binary")
	}
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "fenestra-lambda")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	addr := bigtableWithTables(t, "fn_")
	l, err := emulators.RunLambda(t.Context(), bin, "FENESTRA_SQL="+writeSQL(t), "BIGTABLE_EMULATOR_HOST="+addr,
		"FENESTRA_PREFIX=fn_", "BIGTABLE_PROJECT=", "BIGTABLE_INSTANCE=", "FENESTRA_TOPICS=tx=transactions")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	rest, _ := json.Marshal(events.APIGatewayProxyRequest{HTTPMethod: "POST", Path: "/v1/views/features:compute",
		Body: `{"rows": [[4, "c1", 1, 1714528803000]]}`})
	httpAPI, _ := json.Marshal(events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: "/v1/views/features:compute",
		Body:           `{"rows": [{"tx_id": 5, "card": "c1", "amount": 2, "ts": "2024-05-01 10:00:04"}]}`,
		RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST"}}})
	type record = struct {
		partition, offset int
		value             string
	}
	kafka := mskEvent(
		record{0, 0, `{"tx_id": 20, "card": "c9", "amount": 100, "ts": 1714528800000}`},
		record{0, 1, `{"tx_id": 21, "card": "c9", "amount": 200, "ts": "2024-05-01 10:00:01"}`},
		record{0, 0, `{"tx_id": 20, "card": "c9", "amount": 100, "ts": 1714528800000}`}, // delivered twice
		record{1, 0, `[23, "c9", 1000, 1714528799000]`})
	badKafka := mskEvent(record{0, 2, `{"tx_id": 24, "card": "c9", "amount": "x", "ts": 1714528802000}`})
	for _, c := range []struct {
		name, event string
		want        string // a substring of the answer
		errType     string // of a function error, with want in its message
	}{
		{"ingest", `{"table": "tx", "rows": [[1, "c1", 10, 1714528800000], [2, "c1", 20, 1714528801000]]}`, `{"table":"tx","rows":2}`, ""},
		{"compute and store", `{"view": "features", "rows": [[3, "c1", 5, 1714528802000]], "store": true}`, `"rows":[[3,35,3]]`, ""},
		{"REST API event", string(rest), `"statusCode":200`, ""},
		{"REST API event body", string(rest), `\"rows\":[[4,36,4]]`, ""},
		{"HTTP API event", string(httpAPI), `\"rows\":[[5,37,4]]`, ""},
		{"unknown view", `{"view": "nope", "rows": []}`, `404 Not Found: not found: no view named "nope"`, "InvokeError"},
		{"bad row", `{"view": "features", "rows": [[1, "c1", "x", 1]]}`, `400 Bad Request: rows[0].amount: cannot read "x" as double`, "InvokeError"},
		{"Kafka event", kafka, `{"records":4,"rows":{"tx":4},"bad":0}`, ""},
		{"Kafka event again", kafka, `{"records":4,"rows":{"tx":4},"bad":0}`, ""},
		{"bad Kafka record", badKafka, `400 Bad Request: bad record: topic transactions partition 0 offset 2: amount: cannot read "x" as double`, "InvokeError"},
		{"compute after Kafka", `{"view": "features", "rows": [[22, "c9", 1, 1714528802000]]}`, `"rows":[[22,1301,4]]`, ""},
	} {
		got, err := l.Invoke(t.Context(), []byte(c.event))
		var le *emulators.LambdaError
		switch {
		case c.errType != "":
			if !errors.As(err, &le) || le.Type != c.errType || !strings.Contains(le.Message, c.want) {
				t.Errorf("%s: got %s, %v; want a %s error with %q", c.name, got, err, c.errType, c.want)
			}
		case err != nil:
			t.Errorf("%s: %v", c.name, err)
		case !strings.Contains(string(got), c.want):
			t.Errorf("%s: got %s, want %s in it", c.name, got, c.want)
		}
	}
}

// TestHandlerConfig checks the environment the function reads.
func TestHandlerConfig(t *testing.T) {
	t.Parallel()
	sql := writeSQL(t)
	addr := bigtableWithTables(t, "fenestra_")
	token := filepath.Join(t.TempDir(), "token")
	os.WriteFile(token, []byte("  tok\n"), 0o600)
	empty := filepath.Join(t.TempDir(), "empty")
	os.WriteFile(empty, nil, 0o600)
	ok := map[string]string{"FENESTRA_SQL": sql, "BIGTABLE_EMULATOR_HOST": addr}
	for _, c := range []struct {
		name string
		env  map[string]string
		err  string
	}{
		{"emulator", ok, ""},
		{"project and instance", map[string]string{"FENESTRA_SQL": sql, "BIGTABLE_EMULATOR_HOST": addr, "BIGTABLE_PROJECT": "p", "BIGTABLE_INSTANCE": "i", "FENESTRA_TIMEOUT": "500ms", "FENESTRA_MAX_BODY": "2048", "FENESTRA_AUTH_TOKEN_FILE": token, "FENESTRA_LOG_LEVEL": "debug"}, ""},
		{"no sql", map[string]string{"BIGTABLE_EMULATOR_HOST": addr}, "FENESTRA_SQL is not set"},
		{"missing sql", map[string]string{"FENESTRA_SQL": sql + ".nope", "BIGTABLE_EMULATOR_HOST": addr}, "no such file"},
		{"no instance", map[string]string{"FENESTRA_SQL": sql}, "BIGTABLE_PROJECT and BIGTABLE_INSTANCE must be set"},
		{"bad timeout", map[string]string{"FENESTRA_SQL": sql, "BIGTABLE_EMULATOR_HOST": addr, "FENESTRA_TIMEOUT": "2"}, "FENESTRA_TIMEOUT"},
		{"bad body limit", map[string]string{"FENESTRA_SQL": sql, "BIGTABLE_EMULATOR_HOST": addr, "FENESTRA_MAX_BODY": "-1"}, "FENESTRA_MAX_BODY"},
		{"row limit", map[string]string{"FENESTRA_SQL": sql, "BIGTABLE_EMULATOR_HOST": addr, "FENESTRA_MAX_ROWS": "10"}, ""},
		{"bad row limit", map[string]string{"FENESTRA_SQL": sql, "BIGTABLE_EMULATOR_HOST": addr, "FENESTRA_MAX_ROWS": "0"}, `FENESTRA_MAX_ROWS: want a positive number of rows, got "0"`},
		{"empty token", map[string]string{"FENESTRA_SQL": sql, "BIGTABLE_EMULATOR_HOST": addr, "FENESTRA_AUTH_TOKEN_FILE": empty}, "is empty"},
		{"bad log level", map[string]string{"FENESTRA_SQL": sql, "BIGTABLE_EMULATOR_HOST": addr, "FENESTRA_LOG_LEVEL": "loud"}, "FENESTRA_LOG_LEVEL"},
		{"topics, skip", map[string]string{"FENESTRA_SQL": sql, "BIGTABLE_EMULATOR_HOST": addr, "FENESTRA_TOPICS": " tx = transactions ", "FENESTRA_BAD_RECORDS": "skip"}, ""},
		{"topics, fail", map[string]string{"FENESTRA_SQL": sql, "BIGTABLE_EMULATOR_HOST": addr, "FENESTRA_TOPICS": "tx=transactions", "FENESTRA_BAD_RECORDS": "fail"}, ""},
		{"topic of no table", map[string]string{"FENESTRA_SQL": sql, "BIGTABLE_EMULATOR_HOST": addr, "FENESTRA_TOPICS": "tx=transactions,users=users"}, "FENESTRA_TOPICS: " + sql + " creates no table users"},
		{"bad topic pair", map[string]string{"FENESTRA_SQL": sql, "BIGTABLE_EMULATOR_HOST": addr, "FENESTRA_TOPICS": "tx"}, `FENESTRA_TOPICS: "tx": want TABLE=TOPIC pairs`},
		{"two topics of a table", map[string]string{"FENESTRA_SQL": sql, "BIGTABLE_EMULATOR_HOST": addr, "FENESTRA_TOPICS": "tx=a,tx=b"}, "FENESTRA_TOPICS: table tx is given two topics, a and b"},
		{"dead letter", map[string]string{"FENESTRA_SQL": sql, "BIGTABLE_EMULATOR_HOST": addr, "FENESTRA_BAD_RECORDS": "dead-letter=dlq"}, "on-failure destination"},
		{"bad policy", map[string]string{"FENESTRA_SQL": sql, "BIGTABLE_EMULATOR_HOST": addr, "FENESTRA_BAD_RECORDS": "ignore"}, `FENESTRA_BAD_RECORDS: "ignore": want fail or skip`},
	} {
		var logs strings.Builder
		h, err := handler(context.Background(), func(k string) string { return c.env[k] }, &logs)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: error %v, want one with %q", c.name, err, c.err)
		case c.err == "":
			out, err := h.Handle(context.Background(), json.RawMessage(`{"view": "features", "rows": []}`))
			if b, _ := json.Marshal(out); err != nil || !strings.Contains(string(b), `"view":"features"`) {
				t.Errorf("%s: answer %s, %v", c.name, b, err)
			}
			if !strings.Contains(logs.String(), `"msg":"serving"`) {
				t.Errorf("%s: no serving line in the log: %s", c.name, logs.String())
			}
		}
	}
}

// TestHandlerStoredDeployments: without FENESTRA_SQL, the function serves
// the deployments stored in Bigtable, as listed at its start.
func TestHandlerStoredDeployments(t *testing.T) {
	t.Parallel()
	addr := bigtableWithTables(t, "fenestra_")
	mod, err := featurelang.Compile("features.sql", featuresSQL, featurelang.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := mod.Views[0]
	p.DB = "demo"
	d, err := storage.NewDeployment("DEPLOY features ...", p)
	if err != nil {
		t.Fatal(err)
	}
	s, err := bigtable.Open(context.Background(), bigtable.Config{Project: "local", Instance: "local", EmulatorHost: addr})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.PutDeployment(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	env := map[string]string{"BIGTABLE_EMULATOR_HOST": addr, "FENESTRA_TOPICS": "tx=transactions"}
	h, err := handler(context.Background(), func(k string) string { return env[k] }, &logs)
	if err != nil {
		t.Fatal(err)
	}
	out, err := h.Handle(context.Background(), json.RawMessage(`{"view": "demo.features", "rows": [[1, "c1", 5, 1714528800000]]}`))
	if b, _ := json.Marshal(out); err != nil || !strings.Contains(string(b), `"view":"features","db":"demo"`) || !strings.Contains(string(b), `"rows":[[1,5,1]]`) {
		t.Errorf("answer %s, %v", b, err)
	}
	if !strings.Contains(logs.String(), `"msg":"serving deployment","deployment":"demo.features"`) {
		t.Errorf("no serving line in the log: %s", logs.String())
	}
	env["FENESTRA_TOPICS"] = "users=users"
	if _, err := handler(context.Background(), func(k string) string { return env[k] }, &logs); err == nil ||
		!strings.Contains(err.Error(), "FENESTRA_TOPICS: the stored deployments read no table users") {
		t.Errorf("a topic of no table: %v", err)
	}
}
