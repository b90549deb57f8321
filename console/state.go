package console

import (
	"fmt"
	"strings"
	"sync"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/eval"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/functions"
)

// state is what the console derives from a Service, once: the reads of
// its views and a second Service over the same views, whose reads of a
// request table stop before an event (see beforeStore).
type state struct {
	svc   *functions.Service
	hist  *functions.Service // nil without Options.Store
	views map[string]*viewState
}

// viewState is what the console knows of one view.
type viewState struct {
	reads []eval.Read
	// events is the read of a key's events: the first window read of
	// the request table by key and time, with the index that serves it;
	// nil when the view has none (it then has no timeline).
	events *eval.Read
	index  *plan.Index
	table  *plan.Table
}

// stateCache keeps the state of the last Service seen: a Catalog swaps
// in a new one when the deployments change.
type stateCache struct {
	mu sync.Mutex
	st *state
}

// stateOf returns the state of svc, building it when svc is new.
func (c *Console) stateOf(svc *functions.Service) (*state, error) {
	c.state.mu.Lock()
	defer c.state.mu.Unlock()
	if c.state.st != nil && c.state.st.svc == svc {
		return c.state.st, nil
	}
	st, err := c.build(svc)
	if err != nil {
		return nil, err
	}
	c.state.st = st
	return st, nil
}

// build derives the state of svc.
func (c *Console) build(svc *functions.Service) (*state, error) {
	st := &state{svc: svc, views: map[string]*viewState{}}
	mod := &featurelang.Module{}
	for _, t := range svc.Tables() {
		mod.Tables = append(mod.Tables, t.Def)
	}
	for _, v := range svc.Views() {
		ev, err := eval.New(v.Plan)
		if err != nil {
			return nil, fmt.Errorf("console: view %s: %w", v.Key(), err)
		}
		vs := &viewState{reads: ev.Reads()}
		vs.events, vs.table, vs.index = eventsRead(v, vs.reads)
		st.views[v.Key()] = vs
		mod.Views = append(mod.Views, v.Plan)
	}
	if c.opts.Store != nil {
		hist, err := functions.New(mod, beforeStore{c.opts.Store}, functions.Options{Logger: c.log, MaxRows: 1})
		if err != nil {
			return nil, fmt.Errorf("console: %w", err)
		}
		st.hist = hist
	}
	return st, nil
}

// eventsRead returns how to read a key's events of v's request table:
// the first read of a window over it by key and time, else its first
// index by key and time; with the table and the index.
func eventsRead(v *functions.View, reads []eval.Read) (*eval.Read, *plan.Table, *plan.Index) {
	t := v.Plan.Table(v.Plan.RequestTable)
	if t == nil {
		return nil, nil, nil
	}
	for i := range reads {
		rd := &reads[i]
		if rd.Table != t.Name || len(rd.Keys) == 0 || rd.TS == "" || !strings.HasPrefix(rd.Why, "window") {
			continue
		}
		if i := t.FindIndex(rd.Keys, rd.TS); i >= 0 {
			return rd, t, t.Indexes[i]
		}
	}
	for _, ix := range t.Indexes {
		if len(ix.Keys) > 0 && ix.TS != "" {
			return &eval.Read{Table: t.Name, Keys: ix.Keys, TS: ix.TS, Why: "index"}, t, ix
		}
	}
	return nil, nil, nil
}
