package main

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/rollout"
)

func TestUndoTarget(t *testing.T) {
	app := webApp()
	revs := []appsv1.ControllerRevision{
		*revision(t, app, 3, imageBad, rollout.OutcomeFailed, "x", time.Minute),
		*revision(t, app, 1, imageOld, rollout.OutcomeComplete, "", time.Hour),
		*revision(t, app, 2, imageGood, rollout.OutcomeComplete, "", time.Hour),
	}
	tests := []struct {
		name             string
		serving, update  int64
		toRevision       int64
		revs             []appsv1.ControllerRevision
		want             int64
		wantErrSubstring string
	}{
		{name: "rolled back: back to the serving revision", serving: 2, update: 3, revs: revs, want: 2},
		{name: "spec serves: the revision before it", serving: 3, update: 3, revs: revs, want: 2},
		{name: "spec serves revision 2: revision 1", serving: 2, update: 2, revs: revs[1:], want: 1},
		{name: "asked for", serving: 2, update: 3, toRevision: 1, revs: revs, want: 1},
		{name: "asked for the failed one", serving: 2, update: 3, toRevision: 3, revs: revs, want: 3},
		{name: "no such revision", serving: 2, update: 3, toRevision: 9, revs: revs,
			wantErrSubstring: `--to-revision 9: "web" has no such revision (it has 1, 2, 3)`},
		{name: "nothing before the first", serving: 1, update: 1, revs: revs[1:2],
			wantErrSubstring: "no revision before revision 1"},
		{name: "no status yet", revs: revs, wantErrSubstring: "no serving revision yet"},
		{name: "no revisions", serving: 1, update: 1, wantErrSubstring: "no revisions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := webApp()
			a.Status.CurrentRevision, a.Status.UpdateRevision = tt.serving, tt.update
			got, err := undoTarget(a, tt.revs, tt.toRevision)
			if tt.wantErrSubstring != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErrSubstring) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErrSubstring)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Revision != tt.want {
				t.Errorf("target revision %d, want %d", got.Revision, tt.want)
			}
		})
	}
}

func TestUndoPatchesOnlyTheTemplate(t *testing.T) {
	s, out, c := newSession(t, nil, world(t)...)
	before := &appsv1alpha1.HighlyAvailableApp{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: testNamespace, Name: appName}, before); err != nil {
		t.Fatal(err)
	}
	if err := s.undo(context.Background(), appName, 0); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "highlyavailableapp.apps.haoperator.dev/web rolled back to revision 2 (nginx:1.9.1)\n" {
		t.Errorf("output %q", got)
	}
	after := &appsv1alpha1.HighlyAvailableApp{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: testNamespace, Name: appName}, after); err != nil {
		t.Fatal(err)
	}
	want := userTemplate(imageGood)
	if !equality.Semantic.DeepEqual(after.Spec.Template, want) {
		t.Errorf("spec.template = %+v, want revision 2's %+v", after.Spec.Template, want)
	}
	// Everything but spec.template is as it was.
	after.Spec.Template = before.Spec.Template
	if !equality.Semantic.DeepEqual(after.Spec, before.Spec) {
		t.Errorf("the patch changed more of the spec:\n got %+v\nwant %+v", after.Spec, before.Spec)
	}
	if !equality.Semantic.DeepEqual(after.Status, before.Status) ||
		!equality.Semantic.DeepEqual(after.Labels, before.Labels) ||
		!equality.Semantic.DeepEqual(after.Annotations, before.Annotations) {
		t.Error("the patch changed status or metadata")
	}
}

func TestUndoToRevisionThroughTheCommandLine(t *testing.T) {
	c, stdout, err := runPlugin(t, world(t), "undo", appName, "-n", testNamespace, "--to-revision", "1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "rolled back to revision 1 (nginx:1.7.9)") {
		t.Errorf("output %q", stdout)
	}
	app := &appsv1alpha1.HighlyAvailableApp{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: testNamespace, Name: appName}, app); err != nil {
		t.Fatal(err)
	}
	if img := app.Spec.Template.Spec.Containers[0].Image; img != imageOld {
		t.Errorf("image %q after undo --to-revision 1", img)
	}
}

func TestUndoSkipsWhenTheSpecAlreadyMatches(t *testing.T) {
	patched := false
	funcs := &interceptor.Funcs{Patch: func(ctx context.Context, c client.WithWatch, obj client.Object,
		p client.Patch, o ...client.PatchOption) error {
		patched = true
		return c.Patch(ctx, obj, p, o...)
	}}
	s, out, _ := newSession(t, funcs, world(t)...)
	if err := s.undo(context.Background(), appName, 3); err != nil {
		t.Fatal(err)
	}
	if patched {
		t.Error("patched although the spec already asks for revision 3")
	}
	if !strings.Contains(out.String(), "skipped rollback (the spec already asks for revision 3)") {
		t.Errorf("output %q", out)
	}
}

func TestUndoRefusesToOverwriteAConcurrentChange(t *testing.T) {
	// Someone changes the app between the plugin's read and its patch.
	funcs := &interceptor.Funcs{Patch: func(ctx context.Context, c client.WithWatch, obj client.Object,
		p client.Patch, o ...client.PatchOption) error {
		app := &appsv1alpha1.HighlyAvailableApp{}
		if err := c.Get(ctx, client.ObjectKeyFromObject(obj), app); err != nil {
			return err
		}
		app.Spec.Template.Spec.Containers[0].Image = imageOther
		if err := c.Update(ctx, app); err != nil {
			return err
		}
		return c.Patch(ctx, obj, p, o...)
	}}
	s, _, c := newSession(t, funcs, world(t)...)
	err := s.undo(context.Background(), appName, 0)
	if err == nil || !strings.Contains(err.Error(), "the app changed while undoing") {
		t.Fatalf("error %v", err)
	}
	app := &appsv1alpha1.HighlyAvailableApp{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: testNamespace, Name: appName}, app); err != nil {
		t.Fatal(err)
	}
	if img := app.Spec.Template.Spec.Containers[0].Image; img != imageOther {
		t.Errorf("the other change was overwritten: image %q", img)
	}
}
