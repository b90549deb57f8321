package script

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
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
}

// Deployment is a deployed view and its DEPLOY statement.
type Deployment struct {
	SQL  string     `json:"sql"`
	Plan *plan.Plan `json:"plan"`
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
