package verify

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/datafile"
)

// Invoke invokes a Lambda function synchronously with a JSON payload and
// returns its answer (emulators.Lambda.Invoke, or the AWS SDK's).
type Invoke func(ctx context.Context, payload []byte) ([]byte, error)

// Lambda is the online path of a feature function on AWS Lambda
// (cmd/fenestra-lambda), invoked directly: tables are loaded with
// {"table", "rows"} invocations, requests sent as {"view", "rows",
// "store": true}. As with HTTP, the function's store must not hold the
// request table's rows already, and its clock enforces TTLs.
type Lambda struct {
	invoke Invoke
	view   string
	out    types.Schema
}

// NewLambda returns the online path of view, whose output is out, in the
// function invoke invokes.
func NewLambda(invoke Invoke, view string, out types.Schema) *Lambda {
	return &Lambda{invoke: invoke, view: view, out: out}
}

// Load implements Online.
func (l *Lambda) Load(ctx context.Context, table string, rows *types.Block, _ []uint64) error {
	name, _ := json.Marshal(table)
	for start := 0; start < rows.Len; start += loadChunk {
		p := append([]byte(`{"table":`), name...)
		p = append(p, `,"rows":[`...)
		for i := start; i < min(rows.Len, start+loadChunk); i++ {
			if i > start {
				p = append(p, ',')
			}
			p = datafile.AppendJSONArray(p, rows.Row(i, nil))
		}
		if _, err := l.invoke(ctx, append(p, "]}"...)); err != nil {
			return fmt.Errorf("verify: loading %s through Lambda: %w", table, err)
		}
	}
	return nil
}

// Session implements Online.
func (l *Lambda) Session(context.Context) (Session, error) { return &lambdaSession{l: l}, nil }

type lambdaSession struct {
	l    *Lambda
	vals datafile.JSONValues
}

func (s *lambdaSession) Compute(ctx context.Context, rows *types.Block, _ []int64) ([][]types.Value, error) {
	view, _ := json.Marshal(s.l.view)
	p := append(append([]byte(`{"view":`), view...), `,"store":true,"rows":[`...)
	p = append(appendRows(p, rows), "]}"...)
	b, err := s.l.invoke(ctx, p)
	if err != nil {
		return nil, err
	}
	var a answer
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("verify: a Lambda answer does not decode: %w", err)
	}
	return a.rows(&s.vals, s.l.out, rows.Len)
}

func (s *lambdaSession) Close() error { return nil }
