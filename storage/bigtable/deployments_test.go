package bigtable

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/storage"
)

// TestDocumentedDeployment checks the example of docs/storage-format.md,
// "Deployments", byte for byte.
func TestDocumentedDeployment(t *testing.T) {
	t.Parallel()
	s := openStore(t, startEmulator(t), Config{})
	ctx := context.Background()
	if got := s.CatalogTable(); got != "fenestra_-deployments" {
		t.Errorf("CatalogTable() = %q", got)
	}
	d := storage.Deployment{DB: "fraud", Name: "features", SQL: "DEPLOY features SELECT ...", Plan: []byte(`{"format":1}`),
		Version: "v1-0123456789abcdef", Options: map[string]string{"sync": "false"},
		Created: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	if err := s.PutDeployment(ctx, d); err != nil {
		t.Fatal(err)
	}
	row, err := s.client.Open("fenestra_-deployments").ReadRow(ctx, "fraud\x00features")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for fam, items := range row {
		for _, it := range items {
			got = append(got, fmt.Sprintf("%s %s @%d %s", fam, it.Column, it.Timestamp, hex.EncodeToString(it.Value)))
		}
	}
	want := []string{
		"d d:created @0 00060dd710212000",
		"d d:options @0 " + hex.EncodeToString([]byte(`{"sync":"false"}`)),
		"d d:plan @0 " + hex.EncodeToString([]byte(`{"format":1}`)),
		"d d:sql @0 " + hex.EncodeToString([]byte("DEPLOY features SELECT ...")),
		"d d:version @0 " + hex.EncodeToString([]byte("v1-0123456789abcdef")),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the row:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	back, err := s.Deployment(ctx, "fraud", "features")
	if err != nil {
		t.Fatal(err)
	}
	if back.SQL != d.SQL || string(back.Plan) != string(d.Plan) || back.Version != d.Version || back.Options["sync"] != "false" || !back.Created.Equal(d.Created) {
		t.Errorf("read back %+v, want %+v", back, d)
	}
}

// TestDeploymentsTable: the deployments table is created by the first
// PutDeployment, reading before it exists finds nothing, each prefix has
// its own, and no fenestra table can take its name.
func TestDeploymentsTable(t *testing.T) {
	t.Parallel()
	addr := startEmulator(t)
	s := openStore(t, addr, Config{Prefix: "a_"})
	ctx := context.Background()
	tables, err := s.admin.Tables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) != 0 {
		t.Fatalf("tables before any call: %v", tables)
	}
	if ds, err := s.Deployments(ctx); err != nil || len(ds) != 0 {
		t.Errorf("Deployments before the table exists: %v, %v", ds, err)
	}
	if _, err := s.Deployment(ctx, "d", "n"); !errors.Is(err, storage.ErrNotFound) || !strings.Contains(err.Error(), "a_-deployments") {
		t.Errorf("Deployment before the table exists: %v, want ErrNotFound naming a_-deployments", err)
	}
	if err := s.DropDeployment(ctx, "d", "n"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("DropDeployment before the table exists: %v, want ErrNotFound", err)
	}
	if tables, _ := s.admin.Tables(ctx); len(tables) != 0 {
		t.Errorf("reads created tables: %v", tables)
	}
	if err := s.PutDeployment(ctx, deployment(t, "d", "n")); err != nil {
		t.Fatal(err)
	}
	if tables, _ := s.admin.Tables(ctx); strings.Join(tables, ",") != "a_-deployments" {
		t.Errorf("tables after PutDeployment: %v, want a_-deployments", tables)
	}
	if ds, err := openStore(t, addr, Config{Prefix: "b_"}).Deployments(ctx); err != nil || len(ds) != 0 {
		t.Errorf("another prefix: %v, %v; want none", ds, err)
	}
	clash := compile(t, "CREATE TABLE `-deployments` (k string, ts timestamp, INDEX(KEY=k, TS=ts));")
	if err := s.Init(ctx, clash); err == nil || !strings.Contains(err.Error(), "deployments table") {
		t.Errorf("Init of a table named -deployments: %v, want a refusal", err)
	}
}

// TestDeploymentsConcurrentFirstPut: stores of several processes putting
// their first deployments at once all create (or find) the table, and
// every deployment is stored.
func TestDeploymentsConcurrentFirstPut(t *testing.T) {
	t.Parallel()
	addr := startEmulator(t)
	ctx := context.Background()
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		s := openStore(t, addr, Config{})
		wg.Go(func() { errs[i] = s.PutDeployment(ctx, deployment(t, "db", fmt.Sprintf("v%d", i))) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	ds, err := openStore(t, addr, Config{}).Deployments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != n {
		t.Errorf("%d deployments, want %d", len(ds), n)
	}
}

// TestDeploymentsUnreachable: a server nothing listens on fails the
// deployment calls with storage.ErrUnavailable.
func TestDeploymentsUnreachable(t *testing.T) {
	t.Parallel()
	s := openStore(t, "127.0.0.1:1", Config{Timeout: 300 * time.Millisecond})
	ctx := context.Background()
	_, errL := s.Deployments(ctx)
	_, errG := s.Deployment(ctx, "d", "n")
	errP := s.PutDeployment(ctx, deployment(t, "d", "n"))
	errD := s.DropDeployment(ctx, "d", "n")
	for i, err := range []error{errL, errG, errP, errD} {
		if !errors.Is(err, storage.ErrUnavailable) {
			t.Errorf("call %d: %v, want ErrUnavailable", i, err)
		}
	}
}

// deployment returns a deployment of a small view as db.name.
func deployment(t testing.TB, db, name string) storage.Deployment {
	t.Helper()
	p := &plan.Plan{Format: plan.Format, Name: name, DB: db, Root: &plan.Node{Op: plan.Scan, Table: "tx"}}
	d, err := storage.NewDeployment("DEPLOY "+name+" SELECT * FROM tx;", p)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
