package main

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/rollout"
)

func newHistoryCommand(open func() (*session, error)) *cobra.Command {
	return &cobra.Command{
		Use:   "history NAME",
		Short: "List the app's revisions with their images and outcome",
		Long: `List the app's revisions, oldest first: number, hash, outcome (Complete, Failed, in progress,
superseded), age and images. The revision serving now is marked (serving); the cause of each failed
revision follows the table.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := open()
			if err != nil {
				return err
			}
			return s.history(cmd.Context(), args[0])
		},
	}
}

func (s *session) history(ctx context.Context, name string) error {
	app, err := s.getApp(ctx, name)
	if err != nil {
		return err
	}
	revs, err := s.revisions(ctx, app)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := writeHistory(&buf, s.width, app, revs, s.now()); err != nil {
		return err
	}
	return s.printf("%s", buf.String())
}

func writeHistory(w *bytes.Buffer, width int, app *appsv1alpha1.HighlyAvailableApp,
	revs []appsv1.ControllerRevision, now time.Time) error {
	// An app's first revision is recorded when its rollout ends; until then the status tells its
	// number, and the spec its images.
	first := len(revs) == 0 && app.Status.UpdateRevision == 1
	if len(revs) == 0 && !first {
		fmt.Fprintf(w, "%s/%s has no revisions yet\n", resourceName, app.Name)
		return nil
	}
	var rows [][]string
	var failures []string
	for _, cr := range rollout.ByNumber(revs) {
		data, err := rollout.DecodeRevision(cr)
		if err != nil {
			return err
		}
		rows = append(rows, []string{
			fmt.Sprint(cr.Revision), rollout.RevisionHash(cr), revisionState(app, cr), age(now, cr.CreationTimestamp),
			images(builtOrUser(data)),
		})
		if msg := rollout.FailureMessage(cr); msg != "" {
			failures = append(failures, fmt.Sprintf("revision %d failed: %s", cr.Revision, msg))
		}
	}
	if first {
		state := "in progress"
		if app.Status.CurrentRevision == 1 {
			state += " (serving)"
		}
		rows = append(rows, []string{"1", "-", state, age(now, app.CreationTimestamp), images(app.Spec.Template)})
	}
	writeTable(w, width, []string{"REVISION", "HASH", "OUTCOME", "AGE", "IMAGES"}, rows)
	if len(failures) > 0 {
		fmt.Fprintln(w)
		for _, f := range failures {
			fmt.Fprintln(w, f)
		}
	}
	return nil
}

// builtOrUser is the template the pods got, or the user's when an old revision lacks it.
func builtOrUser(data rollout.RevisionData) corev1.PodTemplateSpec {
	if len(data.PodTemplate.Spec.Containers) > 0 {
		return data.PodTemplate
	}
	return data.Template
}

// revisionState is a revision's outcome as a person reads it, with (serving) on the revision
// serving now.
func revisionState(app *appsv1alpha1.HighlyAvailableApp, cr *appsv1.ControllerRevision) string {
	state := string(rollout.OutcomeOf(cr))
	if state == "" {
		state = "superseded"
		if cr.Revision == app.Status.UpdateRevision {
			state = "in progress"
		}
	}
	if cr.Revision == app.Status.CurrentRevision {
		state += " (serving)"
	}
	return state
}
