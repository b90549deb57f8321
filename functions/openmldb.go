package functions

import (
	"fmt"
	"net/http"
	"runtime/debug"

	"github.com/gorilla/mux"

	"github.com/fenestra-dev/fenestra/internal/datafile"
)

// OpenMLDB's APIServer routes, so that OpenMLDB clients can switch
// (docs/en/quickstart/rest_api.md and src/apiserver/api_server_impl.cc of
// OpenMLDB):
//
//	POST /dbs/{db}/deployments/{name}  {"input": [[...]] or [{...}], "need_schema": bool}
//	  -> {"code": 0, "msg": "ok", "data": {"schema": [{"name","type"}], "data": [[...]]}}
//	GET  /dbs/{db}/deployments/{name}
//	  -> {"code": 0, "msg": "ok", "data": {"name", "procedure", "input_schema", "input_common_cols",
//	                                       "output_schema", "output_common_cols", "dbs", "tables"}}
//	PUT  /dbs/{db}/tables/{table}      {"value": [[...]]} -> {"code": 0, "msg": "ok"}
//
// As in OpenMLDB: object rows ("json style") are answered with object
// rows, array rows with array rows; object rows may carry columns the
// table does not have, and bodies members OpenMLDB does not read — both
// are ignored; "schema" is there only when need_schema is true; errors are
// {"code": -1, "msg": ...}. Unlike OpenMLDB: errors also have their HTTP
// status (OpenMLDB answers 200), several rows may be put at once, values
// are written in fenestra's encoding (dates "2021-05-20", not "2021-5-20";
// floats in shortest form for their width; NaN and infinities as strings),
// and "procedure" is empty (the service keeps plans, not SQL text).

var deployMembers = []string{"input", "need_schema"}

// deployment finds the deployment of the path, checking the database:
// the view of database {db} named {name}, else the view of no database
// (a feature file's) named {name}.
func (ex *exchange) deployment(routes func(*View) *routeMetrics) (*View, error) {
	vars := mux.Vars(ex.r)
	if err := ex.checkDB(vars["db"]); err != nil {
		return nil, err
	}
	v, err := ex.s.svc.deployment(vars["db"], vars["name"])
	if err != nil {
		return nil, err
	}
	ex.route = routes(v)
	return v, nil
}

// checkDB refuses a database other than the configured one.
func (ex *exchange) checkDB(db string) error {
	if ex.s.db != "" && db != ex.s.db {
		return fmt.Errorf("%w: database %q", ErrNotFound, db)
	}
	return nil
}

// deploy serves POST /dbs/{db}/deployments/{name}.
func (s *Server) deploy(ex *exchange) error {
	v, err := ex.deployment(func(v *View) *routeMetrics { return v.http.deploy })
	if err != nil {
		return err
	}
	body, err := ex.body()
	if err != nil {
		return err
	}
	d := decoders.Get().(*decoder)
	defer decoders.Put(d)
	var spans [2]span
	if err := d.members(body, deployMembers, spans[:], true); err != nil {
		return err
	}
	spec := v.inputSpec
	spec.name, spec.allowUnknown = "input", true
	rows, style, err := d.rows(body, spans[0], spec)
	if err != nil {
		return err
	}
	needSchema, err := flag(body, spans[1], "need_schema")
	if err != nil {
		return err
	}
	res, err := s.svc.compute(ex.r.Context(), v, rows, false, nil)
	if err != nil {
		return err
	}
	b := append(ex.buffer(), `{"code":0,"msg":"ok","data":{`...)
	if needSchema {
		b = append(b, `"schema":`...)
		b = appendSchema(b, v.Output)
		b = append(b, ',')
	}
	b = append(b, `"data":[`...)
	for i, r := range res.Rows {
		if i > 0 {
			b = append(b, ',')
		}
		if style == styleObjects {
			b = appendObjectRow(b, v.Output, r)
		} else {
			b = appendRow(b, r)
		}
	}
	ex.serverTiming(res)
	ex.reply(http.StatusOK, append(b, "]}}"...))
	return nil
}

// deployInfo serves GET /dbs/{db}/deployments/{name}.
func (s *Server) deployInfo(ex *exchange) error {
	v, err := ex.deployment(func(v *View) *routeMetrics { return v.http.deployInfo })
	if err != nil {
		return err
	}
	b := append(ex.buffer(), `{"code":0,"msg":"ok","data":{"name":`...)
	b = datafile.AppendJSONString(b, v.Name)
	b = append(b, `,"procedure":"","input_schema":`...)
	b = appendSchema(b, v.Input.Schema)
	b = append(b, `,"input_common_cols":[],"output_schema":`...)
	b = appendSchema(b, v.Output)
	b = append(b, `,"output_common_cols":[],"dbs":[`...)
	b = datafile.AppendJSONString(b, mux.Vars(ex.r)["db"])
	b = append(b, `],"tables":`...)
	b = appendTableNames(b, v.Plan.Tables)
	ex.reply(http.StatusOK, append(b, "}}"...))
	return nil
}

// put serves PUT /dbs/{db}/tables/{table}: into table db.table (a table
// of database db) when there is one, else into table {table}.
func (s *Server) put(ex *exchange) error {
	vars := mux.Vars(ex.r)
	if err := ex.checkDB(vars["db"]); err != nil {
		return err
	}
	name := vars["table"]
	if s.svc.byTable[vars["db"]+"."+name] != nil {
		name = vars["db"] + "." + name
	}
	t, err := ex.table(name, func(t *Table) *routeMetrics { return t.http.put })
	if err != nil {
		return err
	}
	body, err := ex.body()
	if err != nil {
		return err
	}
	rows, err := decodeRows(body, t, []string{"value"}, true)
	if err != nil {
		return err
	}
	if err := s.svc.ingest(ex.r.Context(), t, rows, nil); err != nil {
		return err
	}
	ex.reply(http.StatusOK, append(ex.buffer(), `{"code":0,"msg":"ok"}`...))
	return nil
}

// appendOpenMLDBError appends {"code":-1,"msg":...}, with the request id
// when there is one.
func appendOpenMLDBError(b []byte, msg, id string) []byte {
	b = append(b, `{"code":-1,"msg":`...)
	b = datafile.AppendJSONString(b, msg)
	if id != "" {
		b = append(b, `,"request_id":`...)
		b = datafile.AppendJSONString(b, id)
	}
	return append(b, '}')
}

func appendJSONString(b []byte, s string) []byte { return datafile.AppendJSONString(b, s) }

func stack() []byte { return debug.Stack() }
