package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang/types"
	"github.com/fenestra-dev/fenestra/internal/datafile"
)

// HTTP is the online path of a running feature function (fenestra serve,
// or the Lambda function behind API Gateway): tables are loaded through
// PUT /v1/tables/{table}/rows, requests sent to POST
// /v1/views/{view}:compute with "store": true. The function's store must
// not hold the request table's rows already, and it enforces TTLs with
// its own clock: rows older than a TTL at the time of the replay are
// expired there.
type HTTP struct {
	base, view, token string
	out               types.Schema // the view's output, as the function describes it
	version           string
	client            *http.Client
}

// loadChunk is how many rows a load request carries.
const loadChunk = 500

// NewHTTP returns the online path of the function at base (a URL such as
// http://127.0.0.1:8080) for view, after reading the view's description
// from it. token, when not empty, is sent as a bearer token.
func NewHTTP(ctx context.Context, base, view, token string) (*HTTP, error) {
	h := &HTTP{base: strings.TrimRight(base, "/"), view: view, token: token,
		client: &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	var desc struct {
		Version string
		Columns []struct{ Name, Type string }
	}
	if err := h.call(ctx, http.MethodGet, "/v1/views/"+view, nil, &desc); err != nil {
		return nil, err
	}
	for _, c := range desc.Columns {
		t, err := types.Parse(c.Type)
		if err != nil {
			return nil, fmt.Errorf("verify: %s: view %s: column %s: %w", h.base, view, c.Name, err)
		}
		h.out = append(h.out, types.Field{Name: c.Name, Type: t})
	}
	h.version = desc.Version
	return h, nil
}

// Version returns the plan version the function serves.
func (h *HTTP) Version() string { return h.version }

// Load implements Online. The function gives the rows sequence numbers of
// its own, in the order sent.
func (h *HTTP) Load(ctx context.Context, table string, rows *types.Block, _ []uint64) error {
	for start := 0; start < rows.Len; start += loadChunk {
		body := []byte(`{"rows":[`)
		for i := start; i < min(rows.Len, start+loadChunk); i++ {
			if i > start {
				body = append(body, ',')
			}
			body = datafile.AppendJSONArray(body, rows.Row(i, nil))
		}
		body = append(body, "]}"...)
		if err := h.call(ctx, http.MethodPut, "/v1/tables/"+table+"/rows", body, nil); err != nil {
			return err
		}
	}
	return nil
}

// Session implements Online.
func (h *HTTP) Session(context.Context) (Session, error) { return &httpSession{h: h}, nil }

type httpSession struct {
	h    *HTTP
	body []byte
	vals datafile.JSONValues
}

func (s *httpSession) Compute(ctx context.Context, rows *types.Block, _ []int64) ([][]types.Value, error) {
	s.body = appendRows(append(s.body[:0], `{"rows":[`...), rows)
	s.body = append(s.body, `],"store":true}`...)
	var resp answer
	if err := s.h.call(ctx, http.MethodPost, "/v1/views/"+s.h.view+":compute", s.body, &resp); err != nil {
		return nil, err
	}
	return resp.rows(&s.vals, s.h.out, rows.Len)
}

// appendRows appends the rows of b as JSON arrays, comma-separated.
func appendRows(dst []byte, b *types.Block) []byte {
	var row []types.Value
	for i := 0; i < b.Len; i++ {
		if i > 0 {
			dst = append(dst, ',')
		}
		row = b.Row(i, row)
		dst = datafile.AppendJSONArray(dst, row)
	}
	return dst
}

type answer struct{ Rows []json.RawMessage }

// rows decodes the answer's n rows (a row null when the view filtered it
// out).
func (a *answer) rows(vals *datafile.JSONValues, out types.Schema, n int) ([][]types.Value, error) {
	if len(a.Rows) != n {
		return nil, fmt.Errorf("verify: %d rows in the answer to %d requests", len(a.Rows), n)
	}
	res := make([][]types.Value, n)
	for i, raw := range a.Rows {
		if string(raw) == "null" {
			continue
		}
		var cells []json.RawMessage
		if err := json.Unmarshal(raw, &cells); err != nil || len(cells) != len(out) {
			return nil, fmt.Errorf("verify: an answer row %s: want %d values (%v)", raw, len(out), err)
		}
		row := make([]types.Value, len(cells))
		for j, v := range cells {
			c := types.NewColumn(out[j].Type, 1)
			if _, msg := vals.Append(&c, v, 0); msg != "" {
				return nil, fmt.Errorf("verify: answer column %s: %s", out[j].Name, msg)
			}
			row[j] = c.Value(0)
		}
		res[i] = row
	}
	return res, nil
}

func (s *httpSession) Close() error { return nil }

// call sends one request and decodes a 200 answer into out (when not nil).
func (h *HTTP) call(ctx context.Context, method, path string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, h.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if h.token != "" {
		req.Header.Set("Authorization", "Bearer "+h.token)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("verify: %s %s: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("verify: %s %s%s: %s: %s", method, h.base, path, resp.Status, bytes.TrimSpace(b))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("verify: %s %s: the answer does not decode: %w", method, path, err)
		}
	}
	return nil
}
