package bigtable

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fenestra-dev/fenestra/storage"
)

// credentialHint is what an error of refused credentials tells the
// operator to check.
const credentialHint = "check the credentials (GOOGLE_APPLICATION_CREDENTIALS or the service account) and their Bigtable roles on the instance (roles/bigtable.user)"

// denied reports errors that mean the server refused the credentials:
// not authenticated, or not allowed.
func denied(err error) bool {
	switch status.Code(err) {
	case codes.PermissionDenied, codes.Unauthenticated:
		return true
	}
	return false
}

var _ storage.Prober = (*Store)(nil)

// Probe implements storage.Prober: it reads the definition of each table
// from its metadata row, uncached, all at once (without tables, it reads a
// row of the deployments table, whose absence is no error). It returns
// nil, or the tables' errors joined: storage.ErrUnavailable when Bigtable
// cannot be reached, storage.ErrPermission when it refuses the
// credentials, storage.ErrNoTable for a table missing (dropped, or never
// initialised), storage.ErrSchema for a table whose stored definition is
// no longer the one this store has been using.
func (s *Store) Probe(ctx context.Context, tables []string) error {
	if len(tables) == 0 {
		cctx, cancel := s.call(ctx)
		defer cancel()
		_, err := s.client.Open(s.CatalogTable()).ReadRow(cctx, metaKey)
		if err != nil && status.Code(err) != codes.NotFound {
			return s.fail(ctx, s.addr, err, "probing (table %s)", s.CatalogTable())
		}
		return nil
	}
	errs := make([]error, len(tables))
	var wg sync.WaitGroup
	for i, name := range tables {
		wg.Go(func() { errs[i] = s.probeTable(ctx, name) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// probeTable reads table name's stored definition and compares it with
// the one the store uses, if it has one.
func (s *Store) probeTable(ctx context.Context, name string) error {
	stored, err := s.readMeta(ctx, name)
	if err != nil {
		return err
	}
	s.mu.RLock()
	t := s.tables[name]
	s.mu.RUnlock()
	if t == nil {
		return nil
	}
	a, _ := json.Marshal(stored)
	b, _ := json.Marshal(t.def)
	if string(a) != string(b) {
		return fmt.Errorf("%w: table %s is now stored with columns (%s) and indexes %s; this process reads it as (%s) and %s: restart it",
			storage.ErrSchema, name, stored.Schema, indexText(stored), t.def.Schema, indexText(t.def))
	}
	return nil
}
