package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/rollout"
)

func newUndoCommand(open func() (*session, error)) *cobra.Command {
	var toRevision int64
	cmd := &cobra.Command{
		Use:   "undo NAME [--to-revision N]",
		Short: "Put an earlier revision's template back into the app's spec",
		Long: `Copy a stored revision's pod template into the app's spec.template, as kubectl rollout undo
does for a Deployment. This is your write to the spec: the operator then rolls the app to it like
any other change. With GitOps, revert the change in Git instead, or the next sync undoes the undo.

Without --to-revision: when the spec asks for a revision that is not serving (an update in progress,
or one that failed and was rolled back), the serving revision; otherwise the revision before it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if toRevision < 0 {
				return fmt.Errorf("--to-revision %d: must be a revision number (1 or more)", toRevision)
			}
			s, err := open()
			if err != nil {
				return err
			}
			return s.undo(cmd.Context(), args[0], toRevision)
		},
	}
	cmd.Flags().Int64Var(&toRevision, "to-revision", 0,
		"the revision to go back to (see history); 0 picks the previous one")
	return cmd
}

func (s *session) undo(ctx context.Context, name string, toRevision int64) error {
	app, err := s.getApp(ctx, name)
	if err != nil {
		return err
	}
	revs, err := s.revisions(ctx, app)
	if err != nil {
		return err
	}
	target, err := undoTarget(app, revs, toRevision)
	if err != nil {
		return err
	}
	data, err := rollout.DecodeRevision(target)
	if err != nil {
		return err
	}
	if rollout.Hash(&data.Template) == rollout.Hash(&app.Spec.Template) {
		return s.printf("%s/%s skipped rollback (the spec already asks for revision %d)\n",
			resourceName, app.Name, target.Revision)
	}
	patch, err := templatePatch(app.ResourceVersion, data)
	if err != nil {
		return err
	}
	readVersion := app.ResourceVersion
	if err := s.client.Patch(ctx, app, client.RawPatch(types.JSONPatchType, patch)); err != nil {
		// A failed resourceVersion test comes back as a bare "invalid request": the app's version
		// tells it apart from the API server refusing the template itself.
		if now, getErr := s.getApp(ctx, name); getErr == nil && now.ResourceVersion != readVersion {
			return fmt.Errorf("undo %q: the app changed while undoing; run the command again: %w", app.Name, err)
		}
		return fmt.Errorf("undo %q: patch spec.template: %w", app.Name, err)
	}
	return s.printf("%s/%s rolled back to revision %d (%s)\n",
		resourceName, app.Name, target.Revision, images(data.Template))
}

// templatePatch is the JSON patch that replaces spec.template and nothing else, and applies only to
// the version of the app that was read, so that a change made meanwhile is not overwritten.
func templatePatch(resourceVersion string, data rollout.RevisionData) ([]byte, error) {
	ops := []map[string]any{
		{"op": "test", "path": "/metadata/resourceVersion", "value": resourceVersion},
		{"op": "replace", "path": "/spec/template", "value": data.Template},
	}
	patch, err := json.Marshal(ops)
	if err != nil {
		return nil, fmt.Errorf("encode patch: %w", err)
	}
	return patch, nil
}

// undoTarget is the revision undo goes back to: the one asked for, or by default the serving
// revision when the spec asks for another (undoing an update that is under way or was rolled
// back), else the highest-numbered revision before the serving one.
func undoTarget(app *appsv1alpha1.HighlyAvailableApp, revs []appsv1.ControllerRevision, toRevision int64) (
	*appsv1.ControllerRevision, error) {
	if len(revs) == 0 {
		return nil, fmt.Errorf("%q has no revisions to go back to", app.Name)
	}
	if toRevision > 0 {
		if cr := rollout.FindByNumber(revs, toRevision); cr != nil {
			return cr, nil
		}
		var have []string
		for _, cr := range rollout.ByNumber(revs) {
			have = append(have, fmt.Sprint(cr.Revision))
		}
		return nil, fmt.Errorf("--to-revision %d: %q has no such revision (it has %s)",
			toRevision, app.Name, strings.Join(have, ", "))
	}
	serving, update := app.Status.CurrentRevision, app.Status.UpdateRevision
	if serving != 0 && update != 0 && serving != update {
		if cr := rollout.FindByNumber(revs, serving); cr != nil {
			return cr, nil
		}
	}
	before := serving
	if before == 0 {
		before = update
	}
	if before == 0 {
		return nil, fmt.Errorf("%q reports no serving revision yet: name one with --to-revision "+
			"(see kubectl haapp history %s)", app.Name, app.Name)
	}
	var target *appsv1.ControllerRevision
	for _, cr := range rollout.ByNumber(revs) {
		if cr.Revision < before {
			target = cr
		}
	}
	if target == nil {
		return nil, fmt.Errorf("%q has no revision before revision %d to go back to", app.Name, before)
	}
	return target, nil
}
