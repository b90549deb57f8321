//go:build race

package dataflow_test

func init() { raceEnabled = true }
