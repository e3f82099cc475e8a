// Command rulefile writes the rule groups of a PrometheusRule (config/prometheus/prometheusrule.yaml)
// as a Prometheus rule file, the form promtool reads, so that the alerts users install are the ones
// `make test-rules` tests.
//
// Usage: go run ./hack/rulefile -in config/prometheus/prometheusrule.yaml -out rules.yaml
package main

import (
	"flag"
	"fmt"
	"os"

	"sigs.k8s.io/yaml"
)

// prometheusRule is the part of the Prometheus Operator's PrometheusRule this command reads.
type prometheusRule struct {
	Kind string `json:"kind"`
	Spec struct {
		Groups []any `json:"groups"`
	} `json:"spec"`
}

func main() {
	in := flag.String("in", "", "the PrometheusRule manifest")
	out := flag.String("out", "", "where to write the rule file")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintf(os.Stderr, "rulefile: %v\n", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	if in == "" || out == "" {
		return fmt.Errorf("-in and -out are required")
	}
	data, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	var rule prometheusRule
	if err := yaml.Unmarshal(data, &rule); err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	if rule.Kind != "PrometheusRule" {
		return fmt.Errorf("%s: kind %q, want PrometheusRule", in, rule.Kind)
	}
	if len(rule.Spec.Groups) == 0 {
		return fmt.Errorf("%s: spec.groups is empty", in)
	}
	data, err = yaml.Marshal(map[string]any{"groups": rule.Spec.Groups})
	if err != nil {
		return err
	}
	return os.WriteFile(out, data, 0o644)
}
