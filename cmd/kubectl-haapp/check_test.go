package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/haoperator/ha-operator/internal/advice"
)

// runCheckCommand runs `kubectl haapp ARGS` with stdin as standard input, and fails the test if the
// command reaches for a cluster. It returns the standard output, the exit code and the error.
func runCheckCommand(t *testing.T, stdin string, args ...string) (string, int, error) {
	t.Helper()
	streams, in, stdout, _ := genericiooptions.NewTestIOStreams()
	in.WriteString(stdin)
	noCluster := func(*genericclioptions.ConfigFlags) (client.Client, string, error) {
		t.Error("check connected to a cluster")
		return nil, "", os.ErrPermission
	}
	cmd := newRootCommand(streams, noCluster)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	code := 0
	if err != nil {
		code = exitCode(err)
	}
	return stdout.String(), code, err
}

// TestCheckSamples: the samples of config/samples (-R), as a person runs check on them in a terminal.
func TestCheckSamples(t *testing.T) {
	var out bytes.Buffer
	err := runCheck(&out, nil, []string{"../../config/samples"}, true, 100)
	if code := exitCode(err); err == nil || code != checkAdviceExit {
		t.Fatalf("exit %d (%v), want %d: the samples get advice", code, err, checkAdviceExit)
	}
	for line := range strings.SplitSeq(out.String(), "\n") {
		// The tables fit; a line that names a file is as long as the path.
		if n := utf8.RuneCountInString(line); n > 100 && strings.HasPrefix(line, " ") {
			t.Errorf("line of %d characters: %q", n, line)
		}
	}
	golden(t, "check-samples.golden", out.String()+"error: "+err.Error()+"\n")
	// Every rule shows on a sample (config/samples/advice has those the others do not break).
	for _, rule := range advice.Rules() {
		if !strings.Contains(out.String(), rule) {
			t.Errorf("no sample shows %s", rule)
		}
	}
}

// TestCheckManifests: several files, multi-document YAML, a JSON List, kinds that are skipped, and
// the StorageClass the default-class storage of a Stateful app uses, piped (no wrapping).
func TestCheckManifests(t *testing.T) {
	var out bytes.Buffer
	files := []string{"testdata/check/apps.yaml", "testdata/check/list.json", "testdata/check/more"}
	err := runCheck(&out, nil, files, false, 0)
	if code := exitCode(err); err == nil || code != checkAdviceExit {
		t.Fatalf("exit %d (%v), want %d", code, err, checkAdviceExit)
	}
	golden(t, "check-manifests.golden", out.String()+"error: "+err.Error()+"\n")
}

func TestCheckRecursive(t *testing.T) {
	out, code, err := runCheckCommand(t, "", "check", "-f", "testdata/check", "-R")
	if code != checkAdviceExit {
		t.Fatalf("exit %d (%v), want %d", code, err, checkAdviceExit)
	}
	for _, want := range []string{
		"testdata/check/apps.yaml, document 2: app shop/db (Stateful)",
		"testdata/check/list.json, item 1: app batch/report (Job)",
		"testdata/check/more/agent.yml: app agent (Daemon)",
		"NoReadinessProbe",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not say %q:\n%s", want, out)
		}
	}
	if want := "advice applies to 3 of 4 HighlyAvailableApps (6 in all)"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	// Without -R, the subdirectory is not read.
	out, _, _ = runCheckCommand(t, "", "check", "-f", "testdata/check")
	if strings.Contains(out, "agent") {
		t.Errorf("the subdirectory was read without -R:\n%s", out)
	}
}

// writeManifest writes a manifest into a temporary directory and returns its path.
func writeManifest(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const goodManifest = `apiVersion: apps.haoperator.dev/v1alpha1
kind: HighlyAvailableApp
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: web
        image: nginx:1.27.2
        ports: [{containerPort: 80}]
        resources: {requests: {cpu: 100m, memory: 64Mi}}
`

func TestCheckExitCodes(t *testing.T) {
	good := writeManifest(t, "good.yaml", goodManifest)
	configMap := writeManifest(t, "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		// says is in the output (exit 0) or in the error (otherwise).
		says string
	}{
		{name: "no advice", args: []string{"-f", good}, says: "1 HighlyAvailableApp checked: no advice\n"},
		{name: "standard input", stdin: goodManifest + "---\n" + goodManifest, args: []string{"-f", "-"},
			says: "2 HighlyAvailableApps checked: no advice\n"},
		{name: "no app", args: []string{"-f", configMap}, says: "no HighlyAvailableApp in the manifests\n"},
		{name: "advice", stdin: strings.Replace(goodManifest, "nginx:1.27.2", "nginx", 1), args: []string{"-f", "-"},
			code: checkAdviceExit, says: "advice applies to 1 of 1 HighlyAvailableApp (1 in all)"},
		{name: "not YAML", args: []string{"-f", writeManifest(t, "bad.yaml", goodManifest+"---\nkind: [\n")},
			code: checkInvalidExit, says: "bad.yaml, document 2: "},
		{name: "a misspelt field", stdin: strings.Replace(goodManifest, "ports:", "portz:", 1), args: []string{"-f", "-"},
			code: checkInvalidExit, says: `standard input: HighlyAvailableApp web: unknown field "portz"`},
		{name: "a field of the wrong type", stdin: goodManifest + "  replicas: three\n", args: []string{"-f", "-"},
			code: checkInvalidExit, says: "standard input: HighlyAvailableApp web: cannot unmarshal string"},
		{name: "another version", stdin: strings.Replace(goodManifest, "v1alpha1", "v1beta1", 1), args: []string{"-f", "-"},
			code: checkInvalidExit,
			says: "apiVersion apps.haoperator.dev/v1beta1: this plugin knows apps.haoperator.dev/v1alpha1"},
		{name: "a file that is not there", args: []string{"-f", "testdata/check/nothing.yaml"},
			code: checkInvalidExit, says: "testdata/check/nothing.yaml: no such file or directory"},
		{name: "no -f", code: checkInvalidExit, says: "check needs at least one -f FILE"},
		{name: "an argument", args: []string{"web", "-f", good}, code: checkInvalidExit, says: "check takes no arguments"},
		{name: "an unknown flag", args: []string{"-f", good, "--strict"}, code: checkInvalidExit,
			says: "unknown flag: --strict"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, code, err := runCheckCommand(t, tc.stdin, append([]string{"check"}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d (%v), want %d; output:\n%s", code, err, tc.code, out)
			}
			got := out
			if err != nil {
				got = err.Error()
			}
			if !strings.Contains(got, tc.says) {
				t.Errorf("got %q, want it to say %q", got, tc.says)
			}
		})
	}
}
