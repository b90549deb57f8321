package storage_test

import (
	"testing"

	"github.com/fenestra-dev/fenestra/storage"
	"github.com/fenestra-dev/fenestra/storage/storagetest"
)

// TestMem runs the data-driven storage cases on the in-memory store, the
// reference the other stores must match.
func TestMem(t *testing.T) {
	storagetest.Run(t, "testdata/*.txt", func(t *testing.T, clock storage.Clock) storage.Store {
		return storage.NewMem(clock)
	})
}
