package bigtable

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"cloud.google.com/go/bigtable"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fenestra-dev/fenestra/storage"
)

// The deployments table (see docs/storage-format.md, "Deployments").
const (
	// catalogSuffix follows the prefix in the deployments table's name. A
	// fenestra table's Bigtable table is prefix + name, so the one table
	// name that could clash, "-deployments", is refused (newTable).
	catalogSuffix    = "-deployments"
	deployFamily     = "d"
	planColumn       = "plan"    // the plan's JSON
	sqlColumn        = "sql"     // the DEPLOY statement's text
	versionColumn    = "version" // plan.Version
	optionsColumn    = "options" // the OPTIONS as a JSON object
	createdColumn    = "created" // Unix microseconds, 8 bytes big-endian
	deployKeyDivider = "\x00"
)

var _ storage.DeploymentStore = (*Store)(nil)

// CatalogTable returns the name of the Bigtable table that holds the
// deployments: the prefix and "-deployments".
func (s *Store) CatalogTable() string { return s.cfg.Prefix + catalogSuffix }

// deploymentRowKey is db, a NUL byte, name: NUL sorts below every other
// byte and storage.PrepareDeployment refuses names holding it, so rows
// sort by database, then name.
func deploymentRowKey(db, name string) string { return db + deployKeyDivider + name }

// PutDeployment implements storage.DeploymentStore: one mutation of the
// deployment's row that deletes its cells and writes them anew, so a
// reader sees the old record or the new one. The deployments table is
// created by the first PutDeployment.
func (s *Store) PutDeployment(ctx context.Context, d storage.Deployment) error {
	d, err := storage.PrepareDeployment(d, s.now())
	if err != nil {
		return err
	}
	options := []byte("{}")
	if d.Options != nil {
		options, _ = json.Marshal(d.Options) // a map of strings always encodes
	}
	m := bigtable.NewMutation()
	m.DeleteCellsInFamily(deployFamily)
	m.Set(deployFamily, planColumn, 0, d.Plan)
	m.Set(deployFamily, sqlColumn, 0, []byte(d.SQL))
	m.Set(deployFamily, versionColumn, 0, []byte(d.Version))
	m.Set(deployFamily, optionsColumn, 0, options)
	m.Set(deployFamily, createdColumn, 0, binary.BigEndian.AppendUint64(nil, uint64(d.Created.UnixMicro())))
	key := deploymentRowKey(d.DB, d.Name)
	err = s.applyDeployment(ctx, key, m)
	if status.Code(err) == codes.NotFound {
		if err := s.ensureCatalog(ctx); err != nil {
			return err
		}
		err = s.applyDeployment(ctx, key, m)
	}
	if err != nil {
		return s.fail(ctx, s.addr, err, "storing deployment %s (table %s)", d.Key(), s.CatalogTable())
	}
	s.log.Info("stored deployment", "deployment", d.Key(), "version", d.Version, "bigtable", s.CatalogTable())
	return nil
}

func (s *Store) applyDeployment(ctx context.Context, key string, m *bigtable.Mutation, opts ...bigtable.ApplyOption) error {
	cctx, cancel := s.call(ctx)
	defer cancel()
	return s.client.Open(s.CatalogTable()).Apply(cctx, key, m, opts...)
}

// ensureCatalog creates the deployments table.
func (s *Store) ensureCatalog(ctx context.Context) error {
	cctx, cancel := s.call(ctx)
	defer cancel()
	conf := &bigtable.TableConf{TableID: s.CatalogTable(),
		ColumnFamilies: map[string]bigtable.Family{deployFamily: {GCPolicy: bigtable.MaxVersionsPolicy(1)}}}
	err := s.admin.CreateTableFromConf(cctx, conf)
	switch {
	case err == nil:
		s.log.Info("created table", "bigtable", s.CatalogTable(), "families", 1, "addr", s.adminAddr)
	case status.Code(err) != codes.AlreadyExists:
		return s.fail(ctx, s.adminAddr, err, "creating table %s", s.CatalogTable())
	}
	return nil
}

// Deployment implements storage.DeploymentStore.
func (s *Store) Deployment(ctx context.Context, db, name string) (*storage.Deployment, error) {
	d := storage.Deployment{DB: db, Name: name}
	if strings.Contains(db, deployKeyDivider) || strings.Contains(name, deployKeyDivider) {
		return nil, s.noDeployment(d)
	}
	cctx, cancel := s.call(ctx)
	defer cancel()
	row, err := s.client.Open(s.CatalogTable()).ReadRow(cctx, deploymentRowKey(db, name), bigtable.RowFilter(bigtable.FamilyFilter(deployFamily)))
	switch {
	case status.Code(err) == codes.NotFound:
		return nil, s.noDeployment(d)
	case err != nil:
		return nil, s.fail(ctx, s.addr, err, "reading deployment %s (table %s)", d.Key(), s.CatalogTable())
	case len(row[deployFamily]) == 0:
		return nil, s.noDeployment(d)
	}
	got, err := decodeDeployment(row)
	if err != nil {
		return nil, err
	}
	return &got, nil
}

func (s *Store) noDeployment(d storage.Deployment) error {
	return fmt.Errorf("%w: deployment %s (Bigtable table %s at %s)", storage.ErrNotFound, d.Key(), s.CatalogTable(), s.addr)
}

// Deployments implements storage.DeploymentStore: one scan of the
// deployments table, none when it does not exist yet.
func (s *Store) Deployments(ctx context.Context) ([]storage.Deployment, error) {
	cctx, cancel := s.call(ctx)
	defer cancel()
	var out []storage.Deployment
	var derr error
	err := s.client.Open(s.CatalogTable()).ReadRows(cctx, bigtable.InfiniteRange(""), func(row bigtable.Row) bool {
		if len(row[deployFamily]) == 0 {
			return true
		}
		d, err := decodeDeployment(row)
		if err != nil {
			derr = err
			return false
		}
		out = append(out, d)
		return true
	}, bigtable.RowFilter(bigtable.FamilyFilter(deployFamily)))
	switch {
	case status.Code(err) == codes.NotFound:
		return nil, nil
	case err != nil:
		return nil, s.fail(ctx, s.addr, err, "listing the deployments (table %s)", s.CatalogTable())
	}
	return out, derr
}

// DropDeployment implements storage.DeploymentStore: a conditional
// mutation that deletes the row if it holds a deployment, so it reports
// storage.ErrNotFound exactly when there was none.
func (s *Store) DropDeployment(ctx context.Context, db, name string) error {
	d := storage.Deployment{DB: db, Name: name}
	if strings.Contains(db, deployKeyDivider) || strings.Contains(name, deployKeyDivider) {
		return s.noDeployment(d)
	}
	del := bigtable.NewMutation()
	del.DeleteRow()
	var existed bool
	err := s.applyDeployment(ctx, deploymentRowKey(db, name), bigtable.NewCondMutation(bigtable.FamilyFilter(deployFamily), del, nil),
		bigtable.GetCondMutationResult(&existed))
	switch {
	case status.Code(err) == codes.NotFound:
		return s.noDeployment(d)
	case err != nil:
		return s.fail(ctx, s.addr, err, "dropping deployment %s (table %s)", d.Key(), s.CatalogTable())
	case !existed:
		return s.noDeployment(d)
	}
	s.log.Info("dropped deployment", "deployment", d.Key(), "bigtable", s.CatalogTable())
	return nil
}

// decodeDeployment reads a deployment's row.
func decodeDeployment(row bigtable.Row) (storage.Deployment, error) {
	var d storage.Deployment
	var ok bool
	if d.DB, d.Name, ok = strings.Cut(row.Key(), deployKeyDivider); !ok {
		return d, fmt.Errorf("bigtable: deployment row %q: the key has no NUL byte between database and name", row.Key())
	}
	seen := map[string]bool{}
	for _, it := range row[deployFamily] {
		col := strings.TrimPrefix(it.Column, deployFamily+":")
		seen[col] = true
		switch col {
		case planColumn:
			d.Plan = it.Value
		case sqlColumn:
			d.SQL = string(it.Value)
		case versionColumn:
			d.Version = string(it.Value)
		case optionsColumn:
			if err := json.Unmarshal(it.Value, &d.Options); err != nil {
				return d, fmt.Errorf("bigtable: deployment %s: decoding its options: %w", d.Key(), err)
			}
			if len(d.Options) == 0 {
				d.Options = nil
			}
		case createdColumn:
			if len(it.Value) != 8 {
				return d, fmt.Errorf("bigtable: deployment %s: a creation time of %d bytes, want 8", d.Key(), len(it.Value))
			}
			d.Created = time.UnixMicro(int64(binary.BigEndian.Uint64(it.Value))).UTC()
		}
	}
	for _, col := range []string{planColumn, versionColumn, createdColumn} {
		if !seen[col] {
			return d, fmt.Errorf("bigtable: deployment %s has no %s cell", d.Key(), col)
		}
	}
	return d, nil
}
