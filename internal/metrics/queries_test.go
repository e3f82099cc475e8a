package metrics_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/yaml"

	// The reconciler registers controller-runtime's controller and work queue metrics, as in the manager.
	_ "github.com/haoperator/ha-operator/internal/controller"
	"github.com/haoperator/ha-operator/internal/metrics"
)

var (
	rulesPath     = filepath.Join("..", "..", "config", "prometheus", "prometheusrule.yaml")
	dashboardPath = filepath.Join("..", "..", "config", "grafana", "ha-operator-dashboard.json")
)

// TestQueriesNameExportedMetrics checks that every PromQL query of the alerts and of the dashboard
// names only metrics the manager registers (its own, controller-runtime's, leader election's), so
// that a renamed metric cannot leave an alert that never fires or a panel that stays empty.
func TestQueriesNameExportedMetrics(t *testing.T) {
	queries := append(ruleQueries(t), dashboardQueries(t)...)
	if len(queries) < 20 {
		t.Fatalf("found only %d queries in the rules and the dashboard", len(queries))
	}
	used := map[string]bool{}
	for _, q := range queries {
		names := metricNames(q.expr)
		if len(names) == 0 {
			t.Errorf("%s: names no metric: %s", q.where, q.expr)
		}
		for _, name := range names {
			used[name] = true
			if !exported(name) {
				t.Errorf("%s: %s is not a metric the manager exports: %s", q.where, name, q.expr)
			}
		}
	}
	// Every metric of the operator's own has a place on the dashboard or in an alert.
	for _, name := range []string{metrics.AppsMetric, metrics.RolloutsStartedMetric, metrics.RolloutsCompletedMetric,
		metrics.RollbacksMetric, metrics.FailureDetectionMetric + "_bucket", metrics.RollbackDurationMetric + "_bucket"} {
		if !used[name] {
			t.Errorf("no query reads %s", name)
		}
	}
}

func TestMetricNames(t *testing.T) {
	for expr, want := range map[string][]string{
		`sum by (resilience) (haoperator_apps)`:                                             {"haoperator_apps"},
		`absent(a_total{controller="x"}) unless on () b{name="y.z"}`:                        {"a_total", "b"},
		`histogram_quantile(0.5, sum by (le) (rate(h_bucket{n=~"$ns"}[$__rate_interval])))`: {"h_bucket"},
		`sum(rate(e[5m])) / sum(rate(t[5m])) > 0.1`:                                         {"e", "t"},
		`label_values(c_total, namespace)`:                                                  {"c_total"},
	} {
		if got := metricNames(expr); !slices.Equal(got, want) {
			t.Errorf("metricNames(%s) = %v, want %v", expr, got, want)
		}
	}
}

func TestExported(t *testing.T) {
	for name, want := range map[string]bool{
		metrics.AppsMetric:                              true,
		metrics.FailureDetectionMetric + "_bucket":      true,
		"controller_runtime_reconcile_errors_total":     true,
		"controller_runtime_reconcile_time_seconds_sum": true,
		"leader_election_master_status":                 true,
		"workqueue_depth":                               true,
		"haoperator_app_count":                          false,
		"controller_runtime_reconcile_errors":           false,
	} {
		if got := exported(name); got != want {
			t.Errorf("exported(%s) = %t, want %t", name, got, want)
		}
	}
}

type query struct{ where, expr string }

func ruleQueries(t *testing.T) []query {
	t.Helper()
	data, err := os.ReadFile(rulesPath)
	if err != nil {
		t.Fatal(err)
	}
	var rule struct {
		Spec struct {
			Groups []struct {
				Name  string `json:"name"`
				Rules []struct {
					Alert  string `json:"alert"`
					Record string `json:"record"`
					Expr   string `json:"expr"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(data, &rule); err != nil {
		t.Fatalf("%s: %v", rulesPath, err)
	}
	var qs []query
	for _, g := range rule.Spec.Groups {
		for _, r := range g.Rules {
			qs = append(qs, query{where: rulesPath + ": " + g.Name + "/" + r.Alert + r.Record, expr: r.Expr})
		}
	}
	return qs
}

func dashboardQueries(t *testing.T) []query {
	t.Helper()
	data, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	var dashboard struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name  string          `json:"name"`
				Type  string          `json:"type"`
				Query json.RawMessage `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(data, &dashboard); err != nil {
		t.Fatalf("%s: %v", dashboardPath, err)
	}
	var qs []query
	for _, p := range dashboard.Panels {
		for _, target := range p.Targets {
			qs = append(qs, query{where: dashboardPath + ": panel " + p.Title, expr: target.Expr})
		}
	}
	for _, v := range dashboard.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct {
			Query string `json:"query"`
		}
		if err := json.Unmarshal(v.Query, &q); err != nil {
			t.Fatalf("%s: variable %s: %v", dashboardPath, v.Name, err)
		}
		qs = append(qs, query{where: dashboardPath + ": variable " + v.Name, expr: q.Query})
	}
	return qs
}

var (
	quoted     = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	matchers   = regexp.MustCompile(`\{[^}]*\}`)
	ranges     = regexp.MustCompile(`\[[^\]]*\]`)
	labelLists = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	// labelValuesArg is the label name that Grafana's label_values(metric, label) takes second.
	labelValuesArg = regexp.MustCompile(`,\s*[a-zA-Z_]\w*\s*\)`)
	identifier     = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?`)
	keywords       = []string{"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right"}
)

// metricNames returns the metric names of a PromQL query, in order: the identifiers that remain once
// strings, label matchers, ranges, label lists, function names and keywords are taken out.
func metricNames(expr string) []string {
	for _, re := range []*regexp.Regexp{quoted, matchers, ranges, labelLists} {
		expr = re.ReplaceAllString(expr, " ")
	}
	expr = labelValuesArg.ReplaceAllString(expr, ")")
	var names []string
	for _, m := range identifier.FindAllString(expr, -1) {
		if strings.HasSuffix(m, "(") || slices.Contains(keywords, m) || slices.Contains(names, m) {
			continue
		}
		names = append(names, m)
	}
	return names
}

// exported reports whether the manager's registry has a metric of that name (a histogram's too,
// read through its _bucket, _sum or _count series). It asks the registry itself: registering a
// probe under a name taken by another collector fails.
func exported(name string) bool {
	if registered(name) {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && registered(base) {
			return true
		}
	}
	return false
}

func registered(name string) bool {
	probe := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: "probe of a metric's name"},
		[]string{"probe_label"})
	err := ctrlmetrics.Registry.Register(probe)
	if err == nil {
		ctrlmetrics.Registry.Unregister(probe)
		return false
	}
	var already prometheus.AlreadyRegisteredError
	return errors.As(err, &already) || strings.Contains(err.Error(), "same fully-qualified name")
}
