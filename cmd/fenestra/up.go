package main

import (
	"context"
	"fmt"
	"io"
)

func runUp(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stdout, "fenestra up: not yet")
	return 0
}
