package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/status"
)

// appState is the operator's own reading of where an app stands (status.StateOf: the phase written on
// its status), so that the plugin and the operator's metrics never disagree.
type appState = status.State

func stateOf(app *appsv1alpha1.HighlyAvailableApp) appState { return status.StateOf(app) }

func newStatusCommand(open func() (*session, error)) *cobra.Command {
	var timeout time.Duration
	watch := true
	cmd := &cobra.Command{
		Use:   "status NAME [--timeout D] [--watch=true]",
		Short: "Wait for the app's rollout: exit 0 when Ready, 1 when Stalled (or on timeout)",
		Long: `Show the app's rollout as it goes, like kubectl rollout status: exit 0 once the app is Ready for
the latest spec, exit 1 printing the cause once it is Stalled (a failed update, rolled back or not),
or when --timeout passes. With --watch=false, print the state once: exit 1 only when Stalled.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := open()
			if err != nil {
				return err
			}
			return s.status(cmd.Context(), args[0], watch, timeout)
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "how long to wait before giving up (e.g. 5m); 0 waits for ever")
	cmd.Flags().BoolVarP(&watch, "watch", "w", true, "wait until the rollout ends")
	return cmd
}

func (s *session) status(ctx context.Context, name string, watch bool, timeout time.Duration) error {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	last := ""
	for {
		app, err := s.getApp(ctx, name)
		if err != nil {
			if ctx.Err() != nil {
				return s.timedOut(name, timeout)
			}
			return err
		}
		state := stateOf(app)
		switch state.Phase {
		case appsv1alpha1.PhaseReady:
			return s.printf("%s/%s successfully rolled out (revision %d)\n",
				resourceName, app.Name, app.Status.CurrentRevision)
		case appsv1alpha1.PhaseStalled:
			return &exitError{code: 1, msg: fmt.Sprintf("%s/%s failed: %s: %s",
				resourceName, app.Name, state.Reason, state.Message)}
		}
		if line := progressLine(app, state); line != last {
			if err := s.printf("%s\n", line); err != nil {
				return err
			}
			last = line
		}
		if !watch {
			return nil
		}
		select {
		case <-ctx.Done():
			return s.timedOut(name, timeout)
		case <-time.After(s.interval):
		}
	}
}

func (s *session) timedOut(name string, timeout time.Duration) error {
	if timeout > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("timed out after %s waiting for %s/%s to be Ready",
			timeout, resourceName, name)}
	}
	return &exitError{code: 1, msg: fmt.Sprintf("interrupted while waiting for %s/%s to be Ready", resourceName, name)}
}

// progressLine says what the rollout waits for, in kubectl rollout status's words.
func progressLine(app *appsv1alpha1.HighlyAvailableApp, state appState) string {
	st := app.Status
	desired, counted := desiredPods(app)
	switch {
	case !counted:
		// A Job app's progress is its run's, which the message tells.
		return runLine(app, state)
	case state.Reason == appsv1alpha1.ReasonObservingGeneration:
		return fmt.Sprintf("Waiting for %q: %s...", app.Name, state.Message)
	case st.UpdatingZone != "" && st.UpdatedReplicas < desired:
		return fmt.Sprintf("Waiting for %q rollout to finish: replacing the pods of zone %s, "+
			"%d of %d updated replicas are available...",
			app.Name, st.UpdatingZone, min(st.UpdatedReplicas, st.AvailableReplicas), desired)
	case state.Phase == appsv1alpha1.PhasePaused:
		return fmt.Sprintf("Rollout of %q is paused at %d of %d updated replicas (resume with: kubectl haapp resume %s)",
			app.Name, st.UpdatedReplicas, desired, app.Name)
	case st.UpdatedReplicas < desired:
		return fmt.Sprintf("Waiting for %q rollout to finish: %d of %d updated replicas are available...",
			app.Name, min(st.UpdatedReplicas, st.AvailableReplicas), desired)
	case st.Replicas > st.UpdatedReplicas:
		return fmt.Sprintf("Waiting for %q rollout to finish: %d old replicas are pending termination...",
			app.Name, st.Replicas-st.UpdatedReplicas)
	case st.AvailableReplicas < desired:
		return fmt.Sprintf("Waiting for %q rollout to finish: %d of %d updated replicas are available...",
			app.Name, st.AvailableReplicas, desired)
	default:
		msg := fmt.Sprintf("Waiting for %q: %s", app.Name, state.Reason)
		if state.Message != "" {
			msg += ": " + state.Message
		}
		return msg
	}
}
