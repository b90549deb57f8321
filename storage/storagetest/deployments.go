package storagetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fenestra-dev/fenestra/featurelang"
	"github.com/fenestra-dev/fenestra/featurelang/plan"
	"github.com/fenestra-dev/fenestra/storage"
)

// deploymentStore returns the runner's store as a
// storage.DeploymentStore.
func (r *runner) deploymentStore() (storage.DeploymentStore, error) {
	ds, ok := r.store.(storage.DeploymentStore)
	if !ok {
		return nil, fmt.Errorf("the store (%T) does not keep deployments", r.store)
	}
	return ds, nil
}

// putDeployment runs put-deployment [db=d] name=n [created=t] [plan=json]
// [version=v]: the input is a feature file; its first DEPLOY, renamed n
// and deployed in d (its plan's Name and DB), is stored with the input as
// its SQL. plan= and version= replace the record's plan JSON and version.
func (r *runner) putDeployment(ctx context.Context, c *testCase) (string, error) {
	ds, err := r.deploymentStore()
	if err != nil {
		return "", err
	}
	m, err := featurelang.Compile("deploy.sql", c.input, featurelang.Options{})
	if err != nil {
		return "", err
	}
	i := slices.IndexFunc(m.Views, func(p *plan.Plan) bool { return p.Name != "" })
	if i < 0 {
		return "", errors.New("the input deploys no view")
	}
	p := m.Views[i]
	p.DB, p.Name = c.args["db"], c.args["name"]
	d, err := storage.NewDeployment(c.input, p)
	if err != nil {
		return "", err
	}
	if v, ok := c.args["created"]; ok {
		ms, err := parseTime(v)
		if err != nil {
			return "", err
		}
		d.Created = time.UnixMilli(ms)
	}
	if v, ok := c.args["plan"]; ok {
		d.Plan = []byte(v)
	}
	if v, ok := c.args["version"]; ok {
		d.Version = v
	}
	if err := ds.PutDeployment(ctx, d); err != nil {
		return "", err
	}
	return "ok\n", nil
}

// deployment runs deployment [db=d] name=n.
func (r *runner) deployment(ctx context.Context, c *testCase) (string, error) {
	ds, err := r.deploymentStore()
	if err != nil {
		return "", err
	}
	d, err := ds.Deployment(ctx, c.args["db"], c.args["name"])
	if err != nil {
		return "", err
	}
	return formatDeployment(d), nil
}

// deployments runs deployments: every deployment, a line each.
func (r *runner) deployments(ctx context.Context) (string, error) {
	ds, err := r.deploymentStore()
	if err != nil {
		return "", err
	}
	all, err := ds.Deployments(ctx)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, d := range all {
		b.WriteString(formatDeployment(&d))
	}
	if b.Len() == 0 {
		return "none\n", nil
	}
	return b.String(), nil
}

// dropDeployment runs drop-deployment [db=d] name=n.
func (r *runner) dropDeployment(ctx context.Context, c *testCase) (string, error) {
	ds, err := r.deploymentStore()
	if err != nil {
		return "", err
	}
	if err := ds.DropDeployment(ctx, c.args["db"], c.args["name"]); err != nil {
		return "", err
	}
	return "ok\n", nil
}

// formatDeployment prints a deployment on one line: its database and
// name (quoted), its creation time in UTC, its options, whether its plan
// decodes to a plan of its version (plan=ok), and the last line of its
// SQL.
func formatDeployment(d *storage.Deployment) string {
	var b strings.Builder
	fmt.Fprintf(&b, "db=%q name=%q created=%s", d.DB, d.Name, d.Created.Format("2006-01-02T15:04:05.999999Z07:00"))
	for _, k := range slices.Sorted(maps.Keys(d.Options)) {
		fmt.Fprintf(&b, " option:%s=%s", k, d.Options[k])
	}
	p, err := d.DecodePlan()
	switch {
	case err != nil:
		fmt.Fprintf(&b, " plan=error")
	case plan.Version(p) != d.Version:
		fmt.Fprintf(&b, " plan=other-version")
	default:
		fmt.Fprintf(&b, " plan=ok")
	}
	sql := strings.TrimSpace(d.SQL)
	fmt.Fprintf(&b, " sql=...%s\n", strconv.Quote(sql[strings.LastIndexByte(sql, '\n')+1:]))
	return b.String()
}
