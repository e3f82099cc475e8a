package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

func newPauseCommand(open func() (*session, error), pause bool) *cobra.Command {
	use, short := "resume NAME", "Let a paused update go on (spec.rollout.paused: false)"
	if pause {
		use, short = "pause NAME", "Hold an update where it is (spec.rollout.paused: true)"
	}
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := open()
			if err != nil {
				return err
			}
			return s.setPaused(cmd.Context(), args[0], pause)
		},
	}
}

func (s *session) setPaused(ctx context.Context, name string, pause bool) error {
	app, err := s.getApp(ctx, name)
	if err != nil {
		return err
	}
	const paused = "paused"
	word, state := "resumed", "not "+paused
	if pause {
		word, state = paused, paused
	}
	if app.Spec.Paused() == pause {
		return s.printf("%s/%s is already %s\n", resourceName, app.Name, state)
	}
	patch, err := json.Marshal(map[string]any{"spec": map[string]any{"rollout": map[string]any{"paused": pause}}})
	if err != nil {
		return fmt.Errorf("encode patch: %w", err)
	}
	if err := s.client.Patch(ctx, app, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return fmt.Errorf("set spec.rollout.paused of %q: %w", app.Name, err)
	}
	return s.printf("%s/%s %s\n", resourceName, app.Name, word)
}

func newRetryCommand(open func() (*session, error)) *cobra.Command {
	return &cobra.Command{
		Use:   "retry NAME",
		Short: "Try again a revision that failed and was rolled back, without changing the spec",
		Long: `After a failed update is rolled back, the operator does not try that revision again until the
spec changes. retry sets the annotation ` + appsv1alpha1.AnnotationRetry + ` to the current time, which
asks the operator to try it once more (after fixing what made it fail outside the spec: a missing
image pushed, a Secret created, room made on the nodes).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := open()
			if err != nil {
				return err
			}
			return s.retry(cmd.Context(), args[0])
		},
	}
}

func (s *session) retry(ctx context.Context, name string) error {
	app, err := s.getApp(ctx, name)
	if err != nil {
		return err
	}
	stamp := s.now().UTC().Format(time.RFC3339Nano)
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"annotations": map[string]string{appsv1alpha1.AnnotationRetry: stamp},
	}})
	if err != nil {
		return fmt.Errorf("encode patch: %w", err)
	}
	if err := s.client.Patch(ctx, app, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return fmt.Errorf("set annotation %s on %q: %w", appsv1alpha1.AnnotationRetry, app.Name, err)
	}
	st := app.Status
	if st.LastFailedRevision != 0 && st.LastFailedRevision == st.UpdateRevision {
		return s.printf("%s/%s retry of revision %d requested\n", resourceName, app.Name, st.UpdateRevision)
	}
	return s.printf("%s/%s retry requested (no failed revision is waiting for one now)\n", resourceName, app.Name)
}
