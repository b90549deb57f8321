// Command lambdafn is a Lambda function for the emulators tests. It runs
// the real aws-lambda-go runtime loop (lambda.Start) and does what its
// event's "op" says:
//
//	echo      returns the event unchanged
//	fail      returns a *featureError carrying "message"
//	panic     panics with "message"
//	context   returns its deadline and Lambda context (see contextReport)
//	big       returns a string of "size" bytes
//	exit      exits the process with status 3 mid-invocation
//
// With LAMBDAFN_EXIT_AT_START set it writes a line to stderr and exits
// with status 2 before starting the runtime loop.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type event struct {
	Op      string `json:"op"`
	Message string `json:"message"`
	Size    int    `json:"size"`
}

// featureError is a handler error; the runtime reports its type name.
type featureError struct{ msg string }

func (e *featureError) Error() string { return e.msg }

// contextReport is what the "context" op returns.
type contextReport struct {
	DeadlineMS   int64  `json:"deadline_ms"`
	RequestID    string `json:"request_id"`
	FunctionARN  string `json:"function_arn"`
	FunctionName string `json:"function_name"`
	MemoryMB     int    `json:"memory_mb"`
}

func handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var ev event
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, err
	}
	switch ev.Op {
	case "echo":
		return raw, nil
	case "fail":
		return nil, &featureError{ev.Message}
	case "panic":
		panic(ev.Message)
	case "context":
		return report(ctx), nil
	case "big":
		return strings.Repeat("x", ev.Size), nil
	case "exit":
		fmt.Fprintln(os.Stderr, "lambdafn: exiting mid-invocation as asked")
		os.Exit(3)
	}
	return nil, fmt.Errorf("unknown op %q", ev.Op)
}

func report(ctx context.Context) contextReport {
	var r contextReport
	if dl, ok := ctx.Deadline(); ok {
		r.DeadlineMS = dl.UnixMilli()
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		r.RequestID = lc.AwsRequestID
		r.FunctionARN = lc.InvokedFunctionArn
	}
	r.FunctionName = lambdacontext.FunctionName
	r.MemoryMB = lambdacontext.MemoryLimitInMB
	return r
}

func main() {
	if os.Getenv("LAMBDAFN_EXIT_AT_START") != "" {
		fmt.Fprintln(os.Stderr, "lambdafn: exiting at start as asked")
		os.Exit(2)
	}
	lambda.Start(handle)
}
