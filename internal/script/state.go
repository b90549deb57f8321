package script

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/fenestra-dev/fenestra/dataflow"
	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/internal/datafile"
)

// stateFormat is the version of the state file's layout.
const stateFormat = 1

// State is what fenestra run keeps between runs, in DIR/catalog.json: the
// catalog a script builds (databases, tables with their indexes,
// deployments) and where each table's offline data is. It is what
// OpenMLDB's name server keeps; the online data itself is in the online
// store.
type State struct {
	Format    int           `json:"format"`
	Databases []string      `json:"databases,omitempty"`
	Tables    []*plan.Table `json:"tables,omitempty"`
	// Offline are the files registered as each table's offline data (by
	// qualified table name), in arrival order.
	Offline map[string][]File `json:"offline,omitempty"`
	// Deployments are the deployed views, with the statement that
	// deployed each.
	Deployments []Deployment `json:"deployments,omitempty"`
}

// File is a data file of a table's offline data.
type File struct {
	Path   string `json:"path"`
	Format string `json:"format"` // csv or parquet
	// The dialect of a CSV file, from LOAD DATA's options (header=false,
	// delimiter, null_value, quote); absent, fenestra's: a header row,
	// commas, NULL only an empty unquoted field, quotes ".
	NoHeader  bool   `json:"no_header,omitempty"`
	Delimiter string `json:"delimiter,omitempty"`
	NullValue string `json:"null_value,omitempty"`
	Quote     string `json:"quote,omitempty"`
}

// newFile returns the File of a file at path in format, of the CSV
// dialect csv.
func newFile(path, format string, csv datafile.CSVOptions) File {
	f := File{Path: path, Format: format, NoHeader: csv.NoHeader, NullValue: csv.NullValue}
	if csv.Delimiter != 0 {
		f.Delimiter = string(csv.Delimiter)
	}
	if csv.Quote != 0 {
		f.Quote = string(csv.Quote)
	}
	return f
}

// CSV returns the dialect of the file, if it is a CSV file.
func (f File) CSV() datafile.CSVOptions {
	o := datafile.CSVOptions{NoHeader: f.NoHeader, NullValue: f.NullValue}
	if f.Delimiter != "" {
		o.Delimiter = f.Delimiter[0]
	}
	if f.Quote != "" {
		o.Quote = f.Quote[0]
	}
	return o
}

// Deployment is a deployed view and its DEPLOY statement.
type Deployment struct {
	SQL  string     `json:"sql"`
	Plan *plan.Plan `json:"plan"`
}

// LoadState reads the state of directory dir (empty when dir holds none).
func LoadState(dir string) (*State, error) { return loadState(dir) }

// Deployment returns the deployment named name: db.name, or a name that
// only one database has.
func (st *State) Deployment(name string) (*plan.Plan, error) {
	var found []*plan.Plan
	var names []string
	for _, d := range st.Deployments {
		full := plan.Qualify(d.Plan.DB, d.Plan.Name)
		names = append(names, full)
		if full == name || d.Plan.Name == name {
			found = append(found, d.Plan)
		}
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case len(found) > 1:
		return nil, fmt.Errorf("%d deployments are named %s: give its database (db.name)", len(found), name)
	case len(names) == 0:
		return nil, errors.New("the state holds no deployment (fenestra run a DEPLOY first)")
	}
	return nil, fmt.Errorf("no deployment %s (there is %s)", name, strings.Join(names, ", "))
}

// Inputs returns the offline files of the tables view reads, as a
// pipeline takes them.
func (st *State) Inputs(view *plan.Plan) ([]dataflow.Input, error) {
	var inputs []dataflow.Input
	for _, t := range view.Tables {
		files := st.Offline[t.Name]
		if len(files) == 0 {
			return nil, fmt.Errorf("table %s has no offline data: LOAD DATA INFILE '...' INTO TABLE %s in offline mode first", t.Name, t.Name)
		}
		for _, f := range files {
			inputs = append(inputs, dataflow.Input{Table: t.Name, Path: f.Path, CSV: f.CSV()})
		}
	}
	return inputs, nil
}

// statePath is the state file of directory dir.
func statePath(dir string) string { return filepath.Join(dir, "catalog.json") }

// loadState reads the state of dir; a missing state is an empty one.
func loadState(dir string) (*State, error) {
	b, err := os.ReadFile(statePath(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return &State{Format: stateFormat, Offline: map[string][]File{}}, nil
	}
	if err != nil {
		return nil, err
	}
	st := &State{}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("%s: %w", statePath(dir), err)
	}
	if st.Format != stateFormat {
		return nil, fmt.Errorf("%s: state format %d, this build reads %d", statePath(dir), st.Format, stateFormat)
	}
	if st.Offline == nil {
		st.Offline = map[string][]File{}
	}
	return st, nil
}

// save writes the state to dir through a temporary file renamed into
// place, so a crash leaves the old state or the new, never half of one.
func (st *State) save(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp := statePath(dir) + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, statePath(dir))
}

// session returns a featurelang session holding the state's catalog.
func (st *State) session() *featurelang.Session {
	s := featurelang.NewSession(featurelang.Options{})
	for _, db := range st.Databases {
		s.AddDatabase(db)
	}
	for _, t := range st.Tables {
		s.PutTable(t)
	}
	for _, d := range st.Deployments {
		s.PutDeployment(d.Plan)
	}
	return s
}

// update takes the catalog of session s into the state.
func (st *State) update(s *featurelang.Session) {
	st.Databases = s.Databases()
	st.Tables = s.Tables()
	kept := st.Deployments[:0]
	for _, d := range st.Deployments {
		if s.Deployment(plan.Qualify(d.Plan.DB, d.Plan.Name)) == d.Plan {
			kept = append(kept, d)
		}
	}
	st.Deployments = kept
	for name := range st.Offline {
		if s.Table(name) == nil {
			delete(st.Offline, name)
		}
	}
}
