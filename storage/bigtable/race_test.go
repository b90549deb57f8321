//go:build race

package bigtable_test

func init() { raceEnabled = true }
