package bigtable

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"cloud.google.com/go/bigtable"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/storage"
)

// The metadata row (see docs/storage-format.md, "Metadata row").
const (
	metaKey    = "\xffschema"
	metaFamily = "m"
	defColumn  = "def"     // metaFormat | plan.Table as JSON
	schemaQual = "schema:" // + fingerprint hex: the schema's text
	// metaFormat is the layout version: 2 stores a key's rows of a day in
	// one Bigtable row, a cell each; 1 (no longer read) stored each row in
	// a Bigtable row of its own.
	metaFormat = 2
)

// encodeDef returns the metadata value of a definition.
func encodeDef(def *plan.Table) ([]byte, error) {
	b, err := json.Marshal(def)
	if err != nil {
		return nil, fmt.Errorf("bigtable: encoding the definition of %s: %w", def.Name, err)
	}
	return append([]byte{metaFormat}, b...), nil
}

func decodeDef(name string, v []byte) (*plan.Table, error) {
	if len(v) == 0 || v[0] != metaFormat {
		return nil, fmt.Errorf("%w: table %s is in storage layout %v, this build reads layout %d: delete the Bigtable table and load it again (fenestra materialize)",
			storage.ErrSchema, name, v[:min(len(v), 1)], metaFormat)
	}
	var def plan.Table
	if err := json.Unmarshal(v[1:], &def); err != nil {
		return nil, fmt.Errorf("bigtable: table %s: decoding its definition: %w", name, err)
	}
	return &def, nil
}

// readMetaRow reads the metadata row of table name: storage.ErrNoTable
// when the Bigtable table or the row does not exist.
func (s *Store) readMetaRow(ctx context.Context, name string) (bigtable.Row, error) {
	cctx, cancel := s.call(ctx)
	defer cancel()
	row, err := s.client.Open(s.TableName(name)).ReadRow(cctx, metaKey, bigtable.RowFilter(bigtable.FamilyFilter(metaFamily)))
	switch {
	case status.Code(err) == codes.NotFound:
		return nil, s.noTable(name)
	case err != nil:
		return nil, s.fail(ctx, s.addr, err, "reading the definition of %s (table %s)", name, s.TableName(name))
	case len(row[metaFamily]) == 0:
		return nil, s.noTable(name)
	}
	return row, nil
}

func (s *Store) noTable(name string) error {
	return &storage.NoTableError{Table: name, Where: fmt.Sprintf("Bigtable table %s at %s", s.TableName(name), s.addr)}
}

// readMeta returns the definition stored in the metadata row.
func (s *Store) readMeta(ctx context.Context, name string) (*plan.Table, error) {
	row, err := s.readMetaRow(ctx, name)
	if err != nil {
		return nil, err
	}
	for _, it := range row[metaFamily] {
		if it.Column == metaFamily+":"+defColumn {
			return decodeDef(name, it.Value)
		}
	}
	return nil, s.noTable(name)
}

// knownSchema looks up a schema the table's rows were written with, by
// fingerprint, in the metadata row; nil when it is not recorded.
func (s *Store) knownSchema(ctx context.Context, name string, fp Fingerprint) types.Schema {
	row, err := s.readMetaRow(ctx, name)
	if err != nil {
		return nil
	}
	for _, it := range row[metaFamily] {
		if it.Column == metaFamily+":"+schemaQual+fp.String() {
			var sch types.Schema
			if json.Unmarshal(it.Value, &sch) == nil {
				return sch
			}
		}
	}
	return nil
}

// Init implements storage.Store: for each table, it creates the Bigtable
// table with one column family per index (and the metadata family), then
// writes the metadata row. An existing table of the same definition is
// left as it is; one of a different definition is storage.ErrSchema.
// Init is the only method that creates tables.
func (s *Store) Init(ctx context.Context, tables []*plan.Table) error {
	for _, def := range tables {
		if err := s.initTable(ctx, def); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) initTable(ctx context.Context, def *plan.Table) error {
	t, err := s.newTable(def)
	if err != nil {
		return err
	}
	want, err := encodeDef(def)
	if err != nil {
		return err
	}
	stored, err := s.readMeta(ctx, def.Name)
	if err == nil {
		return s.sameDef(t, stored)
	}
	if !errors.Is(err, storage.ErrNoTable) {
		return err
	}
	if err := s.ensureTable(ctx, t); err != nil {
		return err
	}
	// Write the definition unless another Init wrote one meanwhile.
	schema, err := json.Marshal(def.Schema)
	if err != nil {
		return err
	}
	set := bigtable.NewMutation()
	set.Set(metaFamily, defColumn, 0, want)
	set.Set(metaFamily, schemaQual+t.codec.Fingerprint().String(), 0, schema)
	var existed bool
	cctx, cancel := s.call(ctx)
	defer cancel()
	if err := t.bt.Apply(cctx, metaKey, bigtable.NewCondMutation(bigtable.FamilyFilter(metaFamily), nil, set), bigtable.GetCondMutationResult(&existed)); err != nil {
		return s.fail(ctx, s.addr, err, "writing the definition of %s (table %s)", def.Name, t.btName)
	}
	if existed {
		if stored, err = s.readMeta(ctx, def.Name); err != nil {
			return err
		}
		return s.sameDef(t, stored)
	}
	s.log.Info("initialised table", "table", def.Name, "bigtable", t.btName, "addr", s.addr)
	s.remember(t)
	return nil
}

// sameDef accepts a stored definition equal to t's.
func (s *Store) sameDef(t *table, stored *plan.Table) error {
	a, _ := json.Marshal(stored)
	b, _ := json.Marshal(t.def)
	if string(a) != string(b) {
		return fmt.Errorf("%w: table %s exists with columns (%s) and indexes %s; the new definition has (%s) and %s",
			storage.ErrSchema, stored.Name, stored.Schema, indexText(stored), t.def.Schema, indexText(t.def))
	}
	s.remember(t)
	return nil
}

func indexText(t *plan.Table) string {
	var parts []string
	for _, ix := range t.Indexes {
		p := fmt.Sprintf("INDEX(KEY=(%s), TS=%s", strings.Join(ix.Keys, ", "), ix.TS)
		if ix.TTLType != "" {
			p += fmt.Sprintf(", TTL_TYPE=%s, abs=%dms, latest=%d", ix.TTLType, ix.TTLAbs, ix.TTLLat)
		}
		parts = append(parts, p+")")
	}
	return strings.Join(parts, ", ")
}

// families returns the column families of t with their GC policies.
func (s *Store) families(t *table) map[string]bigtable.Family {
	fams := map[string]bigtable.Family{metaFamily: {GCPolicy: bigtable.MaxVersionsPolicy(1)}}
	for i, ix := range t.def.Indexes {
		fams[t.families[i]] = bigtable.Family{GCPolicy: s.gcPolicy(ix)}
	}
	return fams
}

// gcPolicy is the garbage collection of an index's family: a maximum age
// when the TTL drops every row older than TTLAbs, even the newest of its
// key (absolute, absandlat). A latest part cannot be collected by
// Bigtable, whose versions count cells, not the rows a segment holds:
// latest and absorlat are enforced at read time only.
func (s *Store) gcPolicy(ix *plan.Index) bigtable.GCPolicy {
	if s.cfg.NoGC || ix.TTLAbs <= 0 {
		return bigtable.NoGcPolicy()
	}
	now := time.UnixMilli(0).Add(time.Duration(ix.TTLAbs+1) * time.Millisecond)
	if !storage.Expired(ix, now, 0, 0) { // too old but the newest: kept
		return bigtable.NoGcPolicy()
	}
	return bigtable.MaxAgePolicy(time.Duration(ix.TTLAbs) * time.Millisecond)
}

// ensureTable creates t's Bigtable table, or the families it lacks.
func (s *Store) ensureTable(ctx context.Context, t *table) error {
	want := s.families(t)
	cctx, cancel := s.call(ctx)
	defer cancel()
	info, err := s.admin.TableInfo(cctx, t.btName)
	if status.Code(err) == codes.NotFound {
		err = s.admin.CreateTableFromConf(cctx, &bigtable.TableConf{TableID: t.btName, ColumnFamilies: want})
		if err == nil {
			s.log.Info("created table", "bigtable", t.btName, "families", len(want), "addr", s.adminAddr)
			return nil
		}
		if status.Code(err) != codes.AlreadyExists {
			return s.fail(ctx, s.adminAddr, err, "creating table %s", t.btName)
		}
		info, err = s.admin.TableInfo(cctx, t.btName)
	}
	if err != nil {
		return s.fail(ctx, s.adminAddr, err, "describing table %s", t.btName)
	}
	for _, f := range info.Families {
		delete(want, f)
	}
	for name, fam := range want {
		if err := s.admin.CreateColumnFamilyWithConfig(cctx, t.btName, name, fam); err != nil && status.Code(err) != codes.AlreadyExists {
			return s.fail(ctx, s.adminAddr, err, "creating column family %s of table %s", name, t.btName)
		}
		s.log.Info("created column family", "bigtable", t.btName, "family", name)
	}
	return nil
}
