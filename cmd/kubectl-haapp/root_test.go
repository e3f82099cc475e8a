package main

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// runPlugin runs the plugin's command line against a fake cluster, as kubectl would run it, and
// returns the client (to read what it wrote), its standard output and its error. The namespace comes
// from the -n flag, as with kubectl.
func runPlugin(t *testing.T, objs []client.Object, args ...string) (client.Client, string, error) {
	t.Helper()
	_, _, c := newSession(t, nil, objs...)
	streams, _, stdout, _ := genericiooptions.NewTestIOStreams()
	connectFake := func(flags *genericclioptions.ConfigFlags) (client.Client, string, error) {
		if flags.Namespace == nil || *flags.Namespace == "" {
			return nil, "", fmt.Errorf("no namespace flag")
		}
		return c, *flags.Namespace, nil
	}
	cmd := newRootCommand(streams, connectFake)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return c, stdout.String(), err
}

func TestExitCode(t *testing.T) {
	if got := exitCode(errors.New("boom")); got != 1 {
		t.Errorf("plain error: %d", got)
	}
	if got := exitCode(fmt.Errorf("wrapped: %w", &exitError{code: 3, msg: "x"})); got != 3 {
		t.Errorf("exit error: %d", got)
	}
}

func TestWrongArguments(t *testing.T) {
	for _, args := range [][]string{
		{"get"},
		{"undo", "a", "b"},
		{"undo", appName, "-n", testNamespace, "--to-revision", "-2"},
	} {
		_, _, err := runPlugin(t, world(t), args...)
		if err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
