package controller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/decide"
	"github.com/haoperator/ha-operator/internal/kinds"
	"github.com/haoperator/ha-operator/internal/rollout"
)

// recorded is the writes a fake client received, in order; fail says which of them fail.
type recorded struct {
	log  []string
	fail func(op string) error
}

func (w *recorded) do(op string) error {
	w.log = append(w.log, op)
	if w.fail != nil {
		return w.fail(op)
	}
	return nil
}

// client is a fake client that records every write and carries none out (act decides nothing, so
// what it sends is all there is to check); Deletes must carry a UID precondition.
func (w *recorded) client(t *testing.T, objs ...client.Object) client.Client {
	t.Helper()
	return fake.NewClientBuilder().WithScheme(testScheme(t)).WithObjects(objs...).
		WithInterceptorFuncs(interceptor.Funcs{
			Create: func(_ context.Context, _ client.WithWatch, obj client.Object, _ ...client.CreateOption) error {
				return w.do("create " + kinds.Of(obj) + " " + obj.GetName())
			},
			Patch: func(_ context.Context, _ client.WithWatch, obj client.Object, _ client.Patch, _ ...client.PatchOption) error {
				return w.do("patch " + kinds.Of(obj) + " " + obj.GetName())
			},
			Apply: func(_ context.Context, _ client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
				raw, err := json.Marshal(obj)
				if err != nil {
					return err
				}
				u := &unstructured.Unstructured{}
				if err := u.UnmarshalJSON(raw); err != nil {
					return err
				}
				owner := &client.ApplyOptions{}
				owner.ApplyOptions(opts)
				guard := ""
				if u.GetResourceVersion() == absentVersion {
					guard = " if absent"
				}
				return w.do(fmt.Sprintf("apply %s %s as %s%s", u.GetKind(), u.GetName(), owner.FieldManager, guard))
			},
			Delete: func(_ context.Context, _ client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
				del := &client.DeleteOptions{}
				del.ApplyOptions(opts)
				if del.Preconditions == nil || del.Preconditions.UID == nil || *del.Preconditions.UID != obj.GetUID() {
					t.Errorf("delete of %s %s without its UID as precondition", kinds.Of(obj), obj.GetName())
				}
				return w.do("delete " + kinds.Of(obj) + " " + obj.GetName())
			},
		}).Build()
}

// fullPlan has a step of every kind act carries out.
func fullPlan(t *testing.T, app *appsv1alpha1.HighlyAvailableApp) *decide.Plan {
	t.Helper()
	objectMeta := func(name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: app.Namespace, UID: types.UID("uid-" + name)}
	}
	claim := &corev1.PersistentVolumeClaim{ObjectMeta: objectMeta("data-web-0")}
	claim.Spec.Resources.Requests = corev1.ResourceList{}
	plan := decide.Decide(decide.Input{App: app, Objects: map[decide.Ref]client.Object{}, Now: time.Now()})
	if len(plan.Apply) == 0 {
		t.Fatalf("the plan of a new app writes no object: %+v", plan)
	}
	// A new app's first revision is written when its rollout ends; a plan can have both.
	record, err := rollout.NewRevision(app, "abc", 1, rollout.RevisionData{Template: app.Spec.Template, PodTemplate: app.Spec.Template})
	if err != nil {
		t.Fatal(err)
	}
	plan.Revisions = []decide.RevisionWrite{{Object: record}}
	plan.GrowClaims = []decide.ClaimGrowth{{Claim: claim, Size: "2Gi"}}
	plan.RecreateStatefulSet = &appsv1.StatefulSet{ObjectMeta: objectMeta("db")}
	plan.PodCosts = []decide.PodCost{{Pod: &corev1.Pod{ObjectMeta: objectMeta("web-a")}, Cost: "-1"}}
	plan.Delete = []decide.Removal{{Ref: decide.Ref{Kind: kinds.PDB, Name: "web"},
		Object: &corev1.Service{ObjectMeta: objectMeta("web-old")}, Why: "no longer needed"}}
	plan.DeletePods = []decide.PodDelete{{Pod: &corev1.Pod{ObjectMeta: objectMeta("web-b")}}}
	plan.Prune = []*appsv1.ControllerRevision{{ObjectMeta: objectMeta("web-1111")}}
	return &plan
}

func TestActWritesInItsFixedOrder(t *testing.T) {
	app := nginxApp()
	w := &recorded{}
	r := &HighlyAvailableAppReconciler{Client: w.client(t)}
	plan := fullPlan(t, app)
	told, err := r.act(context.Background(), app, plan)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]string, 0, len(w.log))
	want = append(want,
		"create ControllerRevision "+plan.Revisions[0].Object.Name,
		"patch PersistentVolumeClaim data-web-0",
		"delete StatefulSet db",
		"patch Pod web-a",
	)
	for _, d := range plan.Apply {
		// A new app's objects are all created: each create with its precondition.
		want = append(want, "apply "+d.Kind+" "+d.Name+" as "+FieldOwner+" if absent")
	}
	want = append(want, "delete Service web-old", "delete Pod web-b", "delete ControllerRevision web-1111")
	if !slices.Equal(w.log, want) {
		t.Errorf("writes:\n  %s\nwant:\n  %s", strings.Join(w.log, "\n  "), strings.Join(want, "\n  "))
	}
	reasons := make([]string, 0, len(told))
	for _, e := range told {
		reasons = append(reasons, e.Reason)
	}
	if !slices.Contains(reasons, appsv1alpha1.ReasonCreated) || !slices.Contains(reasons, appsv1alpha1.ReasonDeleted) {
		t.Errorf("events %v: want the objects created and the one deleted told", reasons)
	}
}

func TestActStopsAtARefusal(t *testing.T) {
	app := nginxApp()
	invalid := apierrors.NewInvalid(schema.GroupKind{Group: "apps", Kind: "Deployment"}, "web", nil)
	w := &recorded{fail: func(op string) error {
		if strings.HasPrefix(op, "apply Deployment") {
			return invalid
		}
		return nil
	}}
	r := &HighlyAvailableAppReconciler{Client: w.client(t)}
	plan := fullPlan(t, app)
	_, err := r.act(context.Background(), app, plan)
	if err == nil {
		t.Fatal("the refusal was not returned")
	}
	for _, op := range w.log {
		if strings.HasPrefix(op, "delete Service") || strings.HasPrefix(op, "delete Pod") || strings.HasPrefix(op, "delete ControllerRevision") {
			t.Errorf("%s was sent after the refusal", op)
		}
	}
	problem, requeue, retry := classify(err)
	if problem == nil || problem.Reason != appsv1alpha1.ReasonApplyFailed || requeue || retry != nil {
		t.Errorf("classify = %+v %v %v, want the ApplyFailed problem", problem, requeue, retry)
	}
}

// nginxApp is the nginx sample, web in namespace shop, as an app the API server has accepted.
func nginxApp() *appsv1alpha1.HighlyAvailableApp {
	app := nginx("shop", "web")
	app.UID, app.Generation = "uid-app-web", 1
	return app
}

// appClient is a fake API server holding the app, with its status subresource and the cache's index
// by app.
func appClient(t *testing.T, app *appsv1alpha1.HighlyAvailableApp) client.WithWatch {
	b := fake.NewClientBuilder().WithScheme(testScheme(t)).WithObjects(app.DeepCopy()).
		WithStatusSubresource(&appsv1alpha1.HighlyAvailableApp{})
	for _, obj := range appIndexed() {
		b = b.WithIndex(obj, appIndex, appOf)
	}
	return b.Build()
}

// statusWrites records the app's status patches.
type statusWrites struct {
	patches []appsv1alpha1.HighlyAvailableAppStatus
}

func TestAnErrorThatPersistsReachesTheStatus(t *testing.T) {
	app := nginxApp()
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	statuses := &statusWrites{}
	broken := true
	c := interceptor.NewClient(appClient(t, app), interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			if broken {
				return apierrors.NewInternalError(errors.New("webhook timed out"))
			}
			return c.Create(ctx, obj, opts...)
		},
		Apply: func(context.Context, client.WithWatch, runtime.ApplyConfiguration, ...client.ApplyOption) error {
			if broken {
				return apierrors.NewInternalError(errors.New("webhook timed out"))
			}
			return nil
		},
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
			statuses.patches = append(statuses.patches, *obj.(*appsv1alpha1.HighlyAvailableApp).Status.DeepCopy())
			return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
		},
	})
	recorder := events.NewFakeRecorder(100)
	r := &HighlyAvailableAppReconciler{Client: c, Recorder: recorder, Now: func() time.Time { return now }}
	req := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(app)}

	// A blip: retried with backoff, nothing written, nothing told.
	if _, err := r.Reconcile(context.Background(), req); err == nil {
		t.Fatal("the error was not returned for a retry")
	}
	now = now.Add(RetryingAfter / 2)
	if _, err := r.Reconcile(context.Background(), req); err == nil {
		t.Fatal("the error was not returned for a retry")
	}
	if len(statuses.patches) != 0 || len(recorder.Events) != 0 {
		t.Fatalf("a blip wrote %d statuses and %d Events", len(statuses.patches), len(recorder.Events))
	}

	// The error persists: the app says so, once, with the error's message and a Warning Event.
	now = now.Add(RetryingAfter)
	if _, err := r.Reconcile(context.Background(), req); err == nil {
		t.Fatal("the error was not returned for a retry")
	}
	if len(statuses.patches) != 1 {
		t.Fatalf("%d status writes, want 1", len(statuses.patches))
	}
	st := statuses.patches[0]
	c1 := meta.FindStatusCondition(st.Conditions, appsv1alpha1.ConditionReconciling)
	if c1 == nil || c1.Status != metav1.ConditionTrue || c1.Reason != appsv1alpha1.ReasonRetryingAfterError ||
		!strings.Contains(c1.Message, "webhook timed out") || st.Phase != appsv1alpha1.PhaseProgressing {
		t.Errorf("Reconciling %+v phase %s: want True RetryingAfterError with the error", c1, st.Phase)
	}
	select {
	case e := <-recorder.Events:
		if !strings.Contains(e, appsv1alpha1.ReasonRetryingAfterError) {
			t.Errorf("event %q", e)
		}
	default:
		t.Error("no Event told that the error persists")
	}
	now = now.Add(time.Second)
	if _, err := r.Reconcile(context.Background(), req); err == nil {
		t.Fatal("the error was not returned for a retry")
	}
	if len(statuses.patches) != 1 || len(recorder.Events) != 0 {
		t.Errorf("the same error again wrote %d statuses and %d Events: no flapping", len(statuses.patches)-1, len(recorder.Events))
	}

	// It clears: the status is the app's own again.
	broken = false
	if _, err := r.Reconcile(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	st = statuses.patches[len(statuses.patches)-1]
	if c2 := meta.FindStatusCondition(st.Conditions, appsv1alpha1.ConditionReconciling); c2 == nil || c2.Reason == appsv1alpha1.ReasonRetryingAfterError {
		t.Errorf("Reconciling %+v after the error cleared", c2)
	}
	if !r.memory.of(app).failingSince.IsZero() {
		t.Error("the run of errors is still remembered")
	}
}

func TestADeletedAppIsForgotten(t *testing.T) {
	app := nginxApp()
	r := &HighlyAvailableAppReconciler{Client: cached(testScheme(t))}
	r.memory.raise(app, 3)
	r.memory.failing(app, time.Now())
	if r.memory.size() != 1 {
		t.Fatalf("remembers %d apps", r.memory.size())
	}
	if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(app)}); err != nil {
		t.Fatal(err)
	}
	if r.memory.size() != 0 {
		t.Errorf("a deleted app is still remembered")
	}
	// Another app of the same name starts afresh.
	again := app.DeepCopy()
	again.UID = "uid-again"
	r.memory.raise(app, 3)
	if got := r.memory.of(again).issued; got != 0 {
		t.Errorf("a new app of the same name inherits revision %d", got)
	}
}

// A status computed from a cached app that is behind the operator's own last write is not taken for
// written: it is a conflict until the cache has caught up, instead of the server keeping the newer
// fields the patch left out. A cache that still shows the version that write was made over is behind
// for sure: the patch, which the API server would refuse, is not sent; one that shows another
// version (someone else wrote since) is tried against it.
func TestAStaleCacheDoesNotHideAStatusToWrite(t *testing.T) {
	app := nginxApp()
	patches := 0
	c := fake.NewClientBuilder().WithScheme(testScheme(t)).WithObjects(app.DeepCopy()).
		WithStatusSubresource(&appsv1alpha1.HighlyAvailableApp{}).
		WithInterceptorFuncs(interceptor.Funcs{SubResourcePatch: func(ctx context.Context, c client.Client, sub string,
			obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
			patches++
			return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
		}}).Build()
	r := &HighlyAvailableAppReconciler{Client: c}
	ctx := context.Background()
	stale := &appsv1alpha1.HighlyAvailableApp{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(app), stale); err != nil {
		t.Fatal(err)
	}
	older := appsv1alpha1.HighlyAvailableAppStatus{ReadyReplicas: 2, ReadySummary: "2/2"}
	newer := appsv1alpha1.HighlyAvailableAppStatus{ReadyReplicas: 3, ReadySummary: "3/2"}
	current := stale.DeepCopy()
	if err := r.patchStatus(ctx, current, newer); err != nil {
		t.Fatal(err)
	}
	// The cache still holds the copy from before that write; the world went back to 2 ready.
	copyBehind := stale.DeepCopy()
	copyBehind.Status = older
	err := r.patchStatus(ctx, copyBehind, older)
	if !apierrors.IsConflict(err) {
		t.Fatalf("patch against a copy behind the last write: %v, want a conflict", err)
	}
	if patches != 1 {
		t.Errorf("%d status patches sent, want 1: none over the version the last write replaced", patches)
	}
	// Someone else wrote the app since: the cache shows neither version, and the patch is tried.
	other := stale.DeepCopy()
	other.ResourceVersion = "5000"
	err = r.patchStatus(ctx, other, older)
	if !apierrors.IsConflict(err) {
		t.Fatalf("patch against another version: %v, want the API server's conflict", err)
	}
	if patches != 2 {
		t.Errorf("%d status patches sent, want 2", patches)
	}
	server := &appsv1alpha1.HighlyAvailableApp{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(app), server); err != nil {
		t.Fatal(err)
	}
	// Once the cache has caught up, the status is written.
	if err := r.patchStatus(ctx, server, older); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(app), server); err != nil {
		t.Fatal(err)
	}
	if server.Status.ReadyReplicas != 2 || server.Status.ReadySummary != "2/2" {
		t.Errorf("the server has %d ready, %q", server.Status.ReadyReplicas, server.Status.ReadySummary)
	}
}

// A reconcile woken while the cache still shows the app as it was before the operator's own last
// status write (a child's event came first) decides nothing and writes nothing: decided from that copy,
// it would compare with the status the write replaced and tell the advice again. It looks again
// shortly, and once the cache has caught up each Event has been told once.
func TestAReconcileOnACacheBehindItsOwnStatusWriteWaits(t *testing.T) {
	app := nginxApp()
	var stale *appsv1alpha1.HighlyAvailableApp
	writes := 0
	c := interceptor.NewClient(appClient(t, app), interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if got, ok := obj.(*appsv1alpha1.HighlyAvailableApp); ok && stale != nil {
				stale.DeepCopyInto(got)
				return nil
			}
			return c.Get(ctx, key, obj, opts...)
		},
		Apply: func(context.Context, client.WithWatch, runtime.ApplyConfiguration, ...client.ApplyOption) error {
			writes++
			return nil
		},
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			writes++
			return c.Create(ctx, obj, opts...)
		},
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
			writes++
			return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
		},
	})
	recorder := events.NewFakeRecorder(100)
	now := time.Date(2026, 12, 8, 3, 0, 0, 0, time.UTC)
	r := &HighlyAvailableAppReconciler{Client: c, Recorder: recorder, Now: func() time.Time { return now }}
	req := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(app)}
	ctx := context.Background()
	var told []string
	drain := func() int {
		n := len(recorder.Events)
		for len(recorder.Events) > 0 {
			told = append(told, <-recorder.Events)
		}
		return n
	}
	advice := func() int {
		return len(slices.DeleteFunc(slices.Clone(told), func(e string) bool { return !containsReason(e, appsv1alpha1.ReasonAdvice) }))
	}

	before := &appsv1alpha1.HighlyAvailableApp{}
	if err := c.Get(ctx, req.NamespacedName, before); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Reconcile(ctx, req); err != nil {
		t.Fatal(err)
	}
	if drain(); advice() != 1 {
		t.Fatalf("Events %q, want one Advice", told)
	}

	stale, writes = before, 0
	res, err := r.Reconcile(ctx, req)
	if err != nil || res.RequeueAfter != conflictRetry {
		t.Fatalf("a reconcile on the copy before the status write: %v %v, want a quick look again", res, err)
	}
	if writes != 0 || drain() != 0 {
		t.Errorf("%d writes and Events %q on a copy behind the operator's own write, want none", writes, told)
	}

	stale = nil
	if _, err := r.Reconcile(ctx, req); err != nil {
		t.Fatal(err)
	}
	drain()
	if advice() != 1 {
		t.Errorf("Events %q, want the Advice told once", told)
	}
}

func TestCombinedEvents(t *testing.T) {
	started := decide.Event{Reason: appsv1alpha1.ReasonRolloutStarted, Message: "revision 1 (abc): web=nginx:1"}
	created := decide.Event{Reason: appsv1alpha1.ReasonCreated, Message: "created Deployment web"}
	failed := decide.Event{Reason: appsv1alpha1.ReasonRolloutFailed, Message: "revision 2 failed"}
	got := combined([]decide.Event{started, failed, created})
	if len(got) != 2 || got[0].Reason != appsv1alpha1.ReasonRolloutFailed ||
		got[1].Message != "created Deployment web for revision 1 (abc): web=nginx:1" {
		t.Errorf("combined %+v", got)
	}
	if got := combined([]decide.Event{started, failed}); len(got) != 2 {
		t.Errorf("a rollout of an app whose objects exist: %+v", got)
	}
}

// A reconcile whose status write meets a conflict (the cache behind the operator's own last write)
// tells nothing then; what it did is told after the next status write, once, beside what that
// reconcile decides again.
func TestEventsOfAReconcileWhoseStatusConflictedAreToldLater(t *testing.T) {
	app := nginxApp()
	conflict := true
	c := interceptor.NewClient(appClient(t, app), interceptor.Funcs{
		Apply: func(context.Context, client.WithWatch, runtime.ApplyConfiguration, ...client.ApplyOption) error {
			return nil
		},
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
			if conflict {
				return apierrors.NewConflict(schema.GroupResource{Group: "apps.haoperator.dev", Resource: "highlyavailableapps"}, app.Name, errors.New("the object has been modified"))
			}
			return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
		},
	})
	recorder := events.NewFakeRecorder(100)
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	r := &HighlyAvailableAppReconciler{Client: c, Recorder: recorder, Now: func() time.Time { return now }}
	req := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(app)}
	drained := func() []string {
		var got []string
		for len(recorder.Events) > 0 {
			got = append(got, <-recorder.Events)
		}
		return got
	}

	if res, err := r.Reconcile(context.Background(), req); err != nil || res.RequeueAfter != conflictRetry {
		t.Fatalf("a conflict: %v %v, want a quick look again without an error", res, err)
	}
	if got := drained(); len(got) != 0 {
		t.Fatalf("Events told before the status was written: %q", got)
	}
	held := r.memory.of(app).unsentEvents
	if !slices.ContainsFunc(held, func(e decide.Event) bool { return e.Reason == appsv1alpha1.ReasonCreated }) {
		t.Fatalf("held %+v, want the Created Event", held)
	}
	// Something the first reconcile alone did, which the next one does not decide again.
	r.memory.hold(app, []decide.Event{{Type: corev1.EventTypeNormal, Reason: appsv1alpha1.ReasonDrainSurge, Message: "4 replicas"}}, nil)
	// A second conflict: what it decides again replaces what was held, and is told once.
	if _, err := r.Reconcile(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if n := len(slices.DeleteFunc(slices.Clone(r.memory.of(app).unsentEvents), func(e decide.Event) bool {
		return e.Reason != appsv1alpha1.ReasonAdvice
	})); n != 1 {
		t.Errorf("%d Advice Events held after two conflicts, want 1", n)
	}

	conflict = false
	if _, err := r.Reconcile(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	got := drained()
	count := func(reason string) int {
		return len(slices.DeleteFunc(slices.Clone(got), func(e string) bool { return !containsReason(e, reason) }))
	}
	if count(appsv1alpha1.ReasonDrainSurge) != 1 || count(appsv1alpha1.ReasonCreated) != 1 {
		t.Errorf("Events %q: want the held DrainSurge once and Created once", got)
	}
	if held := r.memory.of(app); len(held.unsentEvents) != 0 || len(held.unsentMetrics) != 0 {
		t.Errorf("still held after the status was written: %+v", held)
	}
}
