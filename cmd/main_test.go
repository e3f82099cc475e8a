package main

import (
	"flag"
	"io"
	"strings"
	"testing"
)

func TestOptionsNameTheWrongFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, ""},
		{[]string{"--allowed-service-types", "ClusterIP,ExternalName"}, "--allowed-service-types"},
		{[]string{"--graceful-shutdown-timeout", "-1s"}, "--graceful-shutdown-timeout"},
		{[]string{"--reconcile-timeout", "0s"}, "--reconcile-timeout"},
		{[]string{"--wake-window", "-1s"}, "--wake-window"},
		{[]string{"--kube-api-qps", "0"}, "--kube-api-qps"},
		{[]string{"--kube-api-burst", "0"}, "--kube-api-burst"},
		{[]string{"--max-concurrent-reconciles", "0"}, "--max-concurrent-reconciles"},
	} {
		fs := flag.NewFlagSet("manager", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		o, _, err := parseOptions(fs, tc.args)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		err = o.validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("the defaults are refused: %v", err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v: error %v does not name %s", tc.args, err, tc.want)
		}
	}
}

func TestTheLoggerIsForProductionByDefault(t *testing.T) {
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	_, zapOpts, err := parseOptions(fs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if zapOpts.Development {
		t.Error("the manager logs in development mode by default")
	}
	fs = flag.NewFlagSet("manager", flag.ContinueOnError)
	if _, zapOpts, err = parseOptions(fs, []string{"--zap-devel"}); err != nil || !zapOpts.Development {
		t.Errorf("--zap-devel does not turn development mode on: %v", err)
	}
}
