package script

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/fenestra-dev/fenestra/dataflow"
	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/ast"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/datafile"
)

// load runs LOAD DATA: in offline mode it registers the files as the
// table's offline data; in online mode it writes their rows into the
// online store.
func (r *run) load(ctx context.Context, st *ast.LoadData) error {
	full, t := r.s.Resolve(st.Table)
	format, csv, err := dataFormat(st.Options)
	if err != nil {
		return err
	}
	files, err := expandPath(st.Path, format)
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := checkFile(f, t.Schema, csv); err != nil {
			return err
		}
	}
	if r.s.Mode == "online" {
		return r.loadOnline(ctx, st, t, files, csv)
	}
	mode := strings.ToLower(featurelang.OptionText(st.Options, "mode"))
	have := r.state.Offline[full]
	switch mode {
	case "", "error_if_exists":
		if len(have) > 0 {
			return fmt.Errorf("table %s has offline data already (%d files): use mode='overwrite' to replace it or mode='append' to add to it", full, len(have))
		}
	case "overwrite":
		have = nil
	case "append":
	default:
		return fmt.Errorf("mode='%s': LOAD DATA takes mode='error_if_exists', 'overwrite' or 'append'", mode)
	}
	// A dry run registers them too, in its scratch state: later
	// statements of the script read them.
	for _, f := range files {
		have = append(have, newFile(f, format, csv))
	}
	r.state.Offline[full] = have
	r.done(st, fmt.Sprintf("%d files registered as the offline data of %s (%d in all)", len(files), full, len(have)))
	return nil
}

// loadOnline writes the rows of files, of the CSV dialect csv, into the
// online store.
func (r *run) loadOnline(ctx context.Context, st *ast.LoadData, t *plan.Table, files []string, csv datafile.CSVOptions) error {
	if r.cfg.Bigtable == nil {
		return errors.New("LOAD DATA in online mode writes to the online store: give fenestra run --bigtable PROJECT/INSTANCE (or set BIGTABLE_EMULATOR_HOST)")
	}
	if len(t.Indexes) == 0 {
		return fmt.Errorf("table %s has no index, so it cannot be stored online: DEPLOY a view that reads it first (DEPLOY infers the indexes it needs), or create it with INDEX(KEY=..., TS=...)", t.Name)
	}
	if r.dry {
		return r.checkTables(ctx, []*plan.Table{t})
	}
	if err := r.initTables(ctx, []*plan.Table{t}); err != nil {
		return err
	}
	var inputs []dataflow.Input
	for _, f := range files {
		inputs = append(inputs, dataflow.Input{Table: t.Name, Path: f, CSV: csv})
	}
	var views []*plan.Plan
	for _, d := range r.s.Deployments() {
		if d.RequestTable == t.Name && d.Options["long_windows"] != "" {
			views = append(views, d)
		}
	}
	p, s := beam.NewPipelineWithRoot()
	job := dataflow.MaterializeJob{Tables: []*plan.Table{t}, Inputs: inputs, Target: *r.cfg.Bigtable, Views: views}
	if _, err := dataflow.Materialize(s, job); err != nil {
		return err
	}
	if err := r.cfg.Pipeline(ctx, "materialize", "to the online store, table "+t.Name, p); err != nil {
		return err
	}
	r.done(st, fmt.Sprintf("%d files written to the online store", len(files)))
	return nil
}

// dataFormat returns the format LOAD DATA options name (csv by default,
// as OpenMLDB's) and, for csv, the dialect they give (csvOptions).
func dataFormat(opts []*ast.Option) (string, datafile.CSVOptions, error) {
	format := strings.ToLower(featurelang.OptionText(opts, "format"))
	switch format {
	case "":
		format = "csv"
	case "csv", "parquet":
	default:
		return "", datafile.CSVOptions{}, fmt.Errorf("format='%s': fenestra reads format='csv' and format='parquet'", format)
	}
	if format != "csv" {
		return format, datafile.CSVOptions{}, nil
	}
	csv, err := csvOptions(opts)
	return format, csv, err
}

// csvOptions returns the CSV dialect the options header, delimiter,
// null_value and quote of LOAD DATA or INTO OUTFILE give. An absent option
// keeps fenestra's default: a header row, ',', NULL only an empty unquoted
// field (where OpenMLDB's default null_value is 'null'; an empty
// null_value is the default too) and '"'.
func csvOptions(opts []*ast.Option) (datafile.CSVOptions, error) {
	var o datafile.CSVOptions
	if h, ok := option(opts, "header"); ok {
		switch strings.ToLower(h) {
		case "true":
		case "false":
			o.NoHeader = true
		default:
			return o, fmt.Errorf("header=%s: header is true or false", h)
		}
	}
	var err error
	if d, ok := option(opts, "delimiter"); ok {
		if o.Delimiter, err = oneChar("delimiter", d); err != nil {
			return o, err
		}
	}
	if q, ok := option(opts, "quote"); ok {
		if o.Quote, err = oneChar("quote", q); err != nil {
			return o, err
		}
	}
	if n, ok := option(opts, "null_value"); ok {
		if !utf8.ValidString(n) {
			return o, fmt.Errorf("null_value='%s': not UTF-8 text", n)
		}
		o.NullValue = n
	}
	return o, o.Check()
}

// oneChar returns the byte of a delimiter or quote option: one ASCII
// character (not NUL).
func oneChar(key, v string) (byte, error) {
	if len(v) != 1 || v[0] == 0 || v[0] >= utf8.RuneSelf {
		return 0, fmt.Errorf("%s='%s': fenestra takes a %s of one ASCII character", key, v, key)
	}
	return v[0], nil
}

// option returns the value of option key (case-insensitive) as text, and
// whether it is given.
func option(opts []*ast.Option, key string) (string, bool) {
	for _, o := range opts {
		if strings.EqualFold(o.Key, key) {
			return featurelang.OptionText([]*ast.Option{o}, key), true
		}
	}
	return "", false
}

// expandPath returns the files a LOAD DATA path names: a file, a file://
// URL, a glob, or a directory of part files (as Spark writes them: files
// whose names start with . or _, such as _SUCCESS, and .crc files are
// skipped). Each must have the extension of format.
func expandPath(path, format string) ([]string, error) {
	path = strings.TrimPrefix(path, "file://")
	var files []string
	switch fi, err := os.Stat(path); {
	case strings.ContainsAny(path, "*?["):
		m, err := filepath.Glob(path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		for _, f := range m {
			if fi, err := os.Stat(f); err == nil && fi.Mode().IsRegular() {
				files = append(files, f)
			}
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("no file matches %s", path)
		}
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%s does not exist", path)
	case err != nil:
		return nil, err
	case fi.IsDir():
		ents, err := os.ReadDir(path)
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			n := e.Name()
			if e.Type().IsRegular() && !strings.HasPrefix(n, ".") && !strings.HasPrefix(n, "_") && !strings.HasSuffix(n, ".crc") {
				files = append(files, filepath.Join(path, n))
			}
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("directory %s holds no data file", path)
		}
	default:
		files = []string{path}
	}
	slices.Sort(files)
	for _, f := range files {
		if got, err := datafile.FormatOf(f); err != nil || !strings.EqualFold(got.String(), format) {
			return nil, fmt.Errorf("%s: format='%s' needs files named *.%s", f, format, format)
		}
	}
	return files, nil
}

// checkFile opens a data file, of the CSV dialect csv, as a table of
// schema reads it: the CSV header or the Parquet schema must name every
// column, with types that fit; in a CSV file without a header, the first
// row must be one the table can take. A file is checked before anything
// is run, so a bad one stops the script before it starts.
func checkFile(path string, schema types.Schema, csv datafile.CSVOptions) error {
	f, err := datafile.OpenFileOptions(path, schema, csv)
	if err != nil {
		return err
	}
	if csv.NoHeader && strings.EqualFold(filepath.Ext(path), ".csv") {
		if _, err := f.Next(types.NewBlock(schema, 1), nil, 1); err != nil && err != io.EOF {
			f.Close()
			return err
		}
	}
	return f.Close()
}
