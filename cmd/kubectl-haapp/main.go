// Command kubectl-haapp is the kubectl plugin for HighlyAvailableApps: with the binary on PATH,
// `kubectl haapp get web` shows the app as a tree, `history` and `undo` work on its revisions the
// way `kubectl rollout` does on a Deployment's, `pause`, `resume` and `retry` steer an update,
// `status` waits for a rollout and exits 0 or 1 like `kubectl rollout status`, and `check` evaluates
// the advice rules on manifests without a cluster.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	err := newRootCommand(streams, connect).ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(exitCode(err))
	}
}

// exitCode is 1 for any error, unless the error carries its own code.
func exitCode(err error) int {
	if exit, ok := errors.AsType[*exitError](err); ok {
		return exit.code
	}
	return 1
}
