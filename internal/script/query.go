package script

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/fenestra-dev/fenestra/dataflow"
	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/ast"
	"github.com/fenestra-dev/fenestra/featurelang/check"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/datafile"
)

// maxShown is how many rows a SELECT without INTO OUTFILE prints.
const maxShown = 20

// query runs an offline SELECT: with INTO OUTFILE it writes the result
// (a backfill over the tables' offline data); without, it prints the
// first rows.
func (r *run) query(ctx context.Context, st *ast.Query, view *plan.Plan) error {
	mode := cmp.Or(check.ExecuteMode(st.Query.Config), r.s.Mode)
	if mode == "request" {
		return r.request(ctx, st, view)
	}
	if st.Into == nil && mode == "online" {
		return errors.New("a SELECT in online mode is a request: send it to fenestra serve (DEPLOY the query first); SET @@execute_mode='offline' to compute it over the offline data")
	}
	inputs, err := r.state.Inputs(view)
	if err != nil {
		return err
	}
	if st.Into == nil {
		return r.preview(ctx, st, view, inputs)
	}
	out, err := newOutfile(st.Into)
	if err != nil {
		return err
	}
	if r.dry {
		return nil
	}
	job := dataflow.BackfillJob{View: view, Inputs: inputs, Out: out.file, OutCSV: out.csv, Buckets: dataflow.BucketsFor(inputSize(inputs))}
	p, s := beam.NewPipelineWithRoot()
	if _, err := dataflow.Backfill(s, job); err != nil {
		return err
	}
	if err := r.cfg.Pipeline(ctx, "backfill", "to "+out.final, p); err != nil {
		out.abort()
		return err
	}
	if err := out.commit(); err != nil {
		return err
	}
	r.done(st, "written to "+out.final)
	return nil
}

// request answers the request rows of a SELECT ... CONFIG (execute_mode =
// 'request', values = ...), as OpenMLDB does, and prints them: over the
// online store when the run has one (--bigtable), through the same
// storage code as fenestra serve; otherwise over the tables' offline
// data, read whole.
func (r *run) request(ctx context.Context, st *ast.Query, view *plan.Plan) error {
	if st.Into != nil {
		return errors.New("INTO OUTFILE writes a query's offline result; a query with execute_mode = 'request' prints its answers (drop INTO OUTFILE, or CONFIG)")
	}
	ev, err := eval.New(view)
	if err != nil {
		return err
	}
	var out *types.Block
	where := "the online store"
	if r.cfg.Bigtable != nil {
		if out, err = r.requestOnline(ctx, ev); err != nil || r.dry {
			return err
		}
	} else {
		where = "the offline data (no online store: give --bigtable to ask it)"
		tables := map[string]*types.Block{}
		for _, t := range view.Tables {
			files := r.state.Offline[t.Name]
			if len(files) == 0 {
				return fmt.Errorf("table %s has no offline data, and the run has no online store (--bigtable) to answer the request from", t.Name)
			}
			if r.dry {
				continue
			}
			rows := types.NewBlock(t.Schema, 0)
			for _, f := range files {
				if err := datafile.ReadAll(f.Path, f.CSV(), rows, nil); err != nil {
					return err
				}
			}
			tables[t.Name] = rows
		}
		if r.dry {
			return nil
		}
		if out, err = ev.Batch(ctx, tables); err != nil {
			return err
		}
	}
	w := datafile.NewWriter(r.cfg.Stdout, datafile.CSV, out.Schema)
	if err := w.Write(out); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	r.done(st, fmt.Sprintf("%d request rows answered over %s", len(view.Requests), where))
	return nil
}

// requestOnline answers the view's request rows from the online store
// (in a dry run: opens it).
func (r *run) requestOnline(ctx context.Context, ev *eval.Evaluator) (*types.Block, error) {
	store, err := r.store(ctx)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	if r.dry {
		return nil, nil
	}
	return ev.Requests(ctx, store)
}

// preview computes a SELECT into a temporary file and prints its first
// rows.
func (r *run) preview(ctx context.Context, st *ast.Query, view *plan.Plan, inputs []dataflow.Input) error {
	if r.dry {
		return nil
	}
	dir, err := os.MkdirTemp("", "fenestra-select-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "result.csv")
	p, s := beam.NewPipelineWithRoot()
	if _, err := dataflow.Backfill(s, dataflow.BackfillJob{View: view, Inputs: inputs, Out: out, Buckets: dataflow.BucketsFor(inputSize(inputs))}); err != nil {
		return err
	}
	if err := r.cfg.Pipeline(ctx, "select", "to a temporary file", p); err != nil {
		return err
	}
	f, err := os.Open(out)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := -1 // the header
	for sc.Scan() {
		if n < maxShown {
			fmt.Fprintln(r.cfg.Stdout, sc.Text())
		}
		n++
	}
	if n > maxShown {
		fmt.Fprintf(r.cfg.Stdout, "... %d rows in all (SELECT ... INTO OUTFILE writes them all)\n", n)
	}
	r.done(st, fmt.Sprintf("%d rows", max(n, 0)))
	return sc.Err()
}

// inputSize is the total size of the local input files.
func inputSize(inputs []dataflow.Input) int64 {
	var n int64
	for _, in := range inputs {
		if fi, err := os.Stat(in.Path); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// outfile is where SELECT ... INTO OUTFILE writes. A path with a file
// extension (.csv, .parquet, .jsonl) is one file; any other path is a
// directory of part files, as OpenMLDB (Spark) writes it, holding
// part-00000.<format> (append adds the next part). The result is written
// beside the destination and moved into place when complete, so a failed
// run leaves what was there before.
type outfile struct {
	final string // the destination: a file or a directory
	file  string // the file the backfill writes
	dir   bool   // final is a directory
	mode  string
	csv   datafile.CSVOptions // the dialect of a CSV file
}

func newOutfile(into *ast.Outfile) (*outfile, error) {
	opts := into.Options
	mode := strings.ToLower(featurelang.OptionText(opts, "mode"))
	switch mode {
	case "":
		mode = "error_if_exists"
	case "error_if_exists", "overwrite", "append":
	default:
		return nil, fmt.Errorf("mode='%s': INTO OUTFILE takes mode='error_if_exists', 'overwrite' or 'append'", mode)
	}
	format := strings.ToLower(featurelang.OptionText(opts, "format"))
	switch format {
	case "":
		format = "csv"
	case "csv", "parquet":
	default:
		return nil, fmt.Errorf("format='%s': INTO OUTFILE writes format='csv' or format='parquet'", format)
	}
	o := &outfile{final: strings.TrimPrefix(into.Path, "file://"), mode: mode}
	if format == "csv" {
		var err error
		if o.csv, err = csvOptions(opts); err != nil {
			return nil, err
		}
	}
	ext := strings.ToLower(filepath.Ext(o.final))
	o.dir = ext != ".csv" && ext != ".parquet" && ext != ".jsonl"
	if !o.dir && ext != "."+format && featurelang.OptionText(opts, "format") != "" {
		return nil, fmt.Errorf("%s: format='%s' but the file is named *%s", o.final, format, ext)
	}
	fi, err := os.Stat(o.final)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	switch {
	case exists && mode == "error_if_exists":
		return nil, fmt.Errorf("%s exists: use OPTIONS(mode='overwrite') to replace it or mode='append' to add to it", o.final)
	case exists && mode == "append" && !o.dir:
		return nil, fmt.Errorf("%s exists and is a file: mode='append' adds part files to a directory (write INTO OUTFILE a directory)", o.final)
	case exists && o.dir && !fi.IsDir():
		return nil, fmt.Errorf("%s exists and is not a directory", o.final)
	}
	if !o.dir {
		o.file = filepath.Join(filepath.Dir(o.final), "."+filepath.Base(o.final)+".writing"+ext)
		return o, nil
	}
	part := 0
	if exists && mode == "append" {
		for ; ; part++ {
			if _, err := os.Stat(filepath.Join(o.final, partName(part, format))); err != nil {
				break
			}
		}
	}
	o.file = filepath.Join(filepath.Dir(o.final), "."+filepath.Base(o.final)+".writing-"+partName(part, format))
	return o, nil
}

// partName is the name of part file n.
func partName(n int, format string) string { return fmt.Sprintf("part-%05d.%s", n, format) }

// commit moves the written file into place.
func (o *outfile) commit() error {
	if !o.dir {
		return os.Rename(o.file, o.final)
	}
	part := strings.TrimPrefix(filepath.Base(o.file), "."+filepath.Base(o.final)+".writing-")
	if o.mode == "overwrite" {
		// Replace the directory: the new part goes into a fresh one,
		// swapped in by renames.
		fresh := o.final + ".new"
		os.RemoveAll(fresh)
		if err := os.MkdirAll(fresh, 0o755); err != nil {
			return err
		}
		if err := os.Rename(o.file, filepath.Join(fresh, part)); err != nil {
			return err
		}
		old := o.final + ".old"
		os.RemoveAll(old)
		if err := os.Rename(o.final, old); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if err := os.Rename(fresh, o.final); err != nil {
			return err
		}
		return os.RemoveAll(old)
	}
	if err := os.MkdirAll(o.final, 0o755); err != nil {
		return err
	}
	return os.Rename(o.file, filepath.Join(o.final, part))
}

// abort removes what a failed run wrote.
func (o *outfile) abort() { os.Remove(o.file) }
