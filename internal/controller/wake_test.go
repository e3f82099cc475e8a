package controller

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	appsv1 "k8s.io/api/apps/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/kinds"
	"github.com/haoperator/ha-operator/internal/metrics"
)

// counters are the series of haoperator_wakes_total of the tests' own source.
func counters() wakeCounters {
	const source = "wake-test"
	return wakeCounters{now: metrics.Wakes(source, metrics.WakeNow), soon: metrics.Wakes(source, metrics.WakeSoon),
		initial: metrics.Wakes(source, metrics.WakeInitial)}
}

func rollingDeployment() *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", Generation: 2,
			Labels: map[string]string{appsv1alpha1.LabelInstance: "web"}},
		Spec: appsv1.DeploymentSpec{Replicas: new(int32(3))},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 3, UpdatedReplicas: 3,
			ReadyReplicas: 1, AvailableReplicas: 1},
	}
}

func TestWorkloadUpdate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*appsv1.Deployment)
		want   urgency
	}{
		{"nothing changed", func(*appsv1.Deployment) {}, wakeIgnore},
		{"one more pod ready", func(d *appsv1.Deployment) { d.Status.ReadyReplicas = 2 }, wakeSoon},
		{"every pod available", func(d *appsv1.Deployment) {
			d.Status.ReadyReplicas, d.Status.AvailableReplicas = 3, 3
		}, wakeNow},
		{"the spec changed", func(d *appsv1.Deployment) { d.Generation = 3 }, wakeNow},
		{"a label changed", func(d *appsv1.Deployment) { d.Labels["team"] = "shop" }, wakeNow},
		{"an annotation changed", func(d *appsv1.Deployment) { d.Annotations = map[string]string{"team": "shop"} }, wakeNow},
		{"the Deployment controller's revision", func(d *appsv1.Deployment) {
			d.Annotations = map[string]string{"deployment.kubernetes.io/revision": "1"}
		}, wakeIgnore},
		{"deletion begins", func(d *appsv1.Deployment) { d.DeletionTimestamp = new(metav1.Now()) }, wakeNow},
		{"pods cannot be created", func(d *appsv1.Deployment) {
			d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentReplicaFailure,
				Status: "True", Message: `pods "web-1" is forbidden: exceeded quota`}}
		}, wakeNow},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := rollingDeployment()
			after := before.DeepCopy()
			tc.change(after)
			if got := workloadUpdate(before, after); got != tc.want {
				t.Errorf("workloadUpdate = %v, want %v", got, tc.want)
			}
		})
	}
	// Losing the goal is as urgent as reaching it.
	settled := rollingDeployment()
	settled.Status.ReadyReplicas, settled.Status.AvailableReplicas = 3, 3
	if got := workloadUpdate(settled, rollingDeployment()); got != wakeNow {
		t.Errorf("workloadUpdate(settled, not settled) = %v, want wakeNow", got)
	}
}

func TestChangedNow(t *testing.T) {
	before := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "web", Generation: 1}}
	statusOnly := before.DeepCopy()
	statusOnly.Status.CurrentHealthy, statusOnly.Status.DisruptionsAllowed = 3, 1
	if got := changedNow(before, statusOnly); got != wakeIgnore {
		t.Errorf("a status-only write: %v, want wakeIgnore", got)
	}
	edited := before.DeepCopy()
	edited.Generation = 2
	if got := changedNow(before, edited); got != wakeNow {
		t.Errorf("an edited spec: %v, want wakeNow", got)
	}
	owners := before.DeepCopy()
	owners.OwnerReferences = []metav1.OwnerReference{{Kind: "HighlyAvailableApp", Name: "web", UID: "u"}}
	if got := changedNow(before, owners); got != wakeNow {
		t.Errorf("new owners: %v, want wakeNow", got)
	}
}

func TestRevisionUpdate(t *testing.T) {
	before := &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{Name: "web-abc", ResourceVersion: "7",
			Annotations: map[string]string{"apps.haoperator.dev/started-at": "2026-11-26T12:00:00Z"}},
		Revision: 1,
	}
	recorded := before.DeepCopy()
	recorded.ResourceVersion = "8"
	recorded.Annotations["apps.haoperator.dev/completed"] = "2026-11-26T12:01:00Z"
	if got := revisionUpdate(before, recorded); got != wakeIgnore {
		t.Errorf("the operator's own record: %v, want ignore", got)
	}
	renumbered := before.DeepCopy()
	renumbered.Revision = 3
	if got := revisionUpdate(before, renumbered); got != wakeNow {
		t.Errorf("a new revision number: %v, want now", got)
	}
	orphaned := before.DeepCopy()
	orphaned.OwnerReferences = []metav1.OwnerReference{}
	orphaned.Labels = map[string]string{"team": "shop"}
	if got := revisionUpdate(before, orphaned); got != wakeNow {
		t.Errorf("new labels: %v, want now", got)
	}
}

func TestOwnerApp(t *testing.T) {
	controller := true
	obj := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web-x",
		OwnerReferences: []metav1.OwnerReference{
			{APIVersion: "apps/v1", Kind: "Deployment", Name: "other", UID: "1"},
			{APIVersion: appsv1alpha1.GroupVersion.String(), Kind: "HighlyAvailableApp", Name: "web", UID: "2",
				Controller: &controller},
		}}}
	got := ownerApp(obj)
	want := []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: "shop", Name: "web"}}}
	if len(got) != 1 || got[0] != want[0] {
		t.Errorf("ownerApp = %v, want %v", got, want)
	}
	obj.OwnerReferences[1].Controller = nil
	if got := ownerApp(obj); len(got) != 0 {
		t.Errorf("ownerApp without a controller reference = %v, want none", got)
	}
}

// TestWakerBatchesProgress checks the queue's behaviour the waker relies on: progress waits for the
// window, and an urgent event for the same app makes one entry, ready at once.
func TestWakerBatchesProgress(t *testing.T) {
	q := priorityqueue.New[reconcile.Request]("wake-test")
	defer q.ShutDown()
	w := waker{window: time.Hour}
	web := reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "shop", Name: "web"}}
	api := reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "shop", Name: "api"}}
	w.add(q, counters(), []reconcile.Request{web, api}, wakeSoon, false)
	w.add(q, counters(), []reconcile.Request{web}, wakeSoon, false)
	if n := q.Len(); n != 0 {
		t.Fatalf("%d apps ready before the window ended, want 0", n)
	}
	w.add(q, counters(), []reconcile.Request{web}, wakeNow, false)
	if n := q.Len(); n != 1 {
		t.Fatalf("%d apps ready after an urgent event, want 1", n)
	}
	if got, _ := q.Get(); got != web {
		t.Errorf("Get = %v, want %v", got, web)
	}

	// Progress waits behind the changes people make: an app whose spec changed is reconciled
	// first, even when the progress of another was queued before.
	q1 := priorityqueue.New[reconcile.Request]("wake-test-priority")
	defer q1.ShutDown()
	waker{}.add(q1, counters(), []reconcile.Request{api}, wakeSoon, false)
	q1.Add(web) // the app's own change, through the controller's For handler
	if got, _ := q1.Get(); got != web {
		t.Errorf("Get = %v, want the changed app %v before the progress of %v", got, web, api)
	}

	// With no window, progress wakes the app at once, as it did before batching.
	q2 := priorityqueue.New[reconcile.Request]("wake-test-0")
	defer q2.ShutDown()
	waker{}.add(q2, counters(), []reconcile.Request{web}, wakeSoon, false)
	if n := q2.Len(); n != 1 {
		t.Errorf("%d apps ready with no window, want 1", n)
	}
}

// TestWakesAreCounted checks haoperator_wakes_total: each app a watch event queues counts once,
// under the kind and how soon it was queued; an update that wakes nothing counts nothing.
func TestWakesAreCounted(t *testing.T) {
	ctx := t.Context()
	q := priorityqueue.New[reconcile.Request]("wake-count-test")
	defer q.ShutDown()
	two := func(client.Object) []reconcile.Request {
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: "shop", Name: "web"}},
			{NamespacedName: types.NamespacedName{Namespace: "shop", Name: "api"}}}
	}
	progress := func(before, after client.Object) urgency {
		if before.GetResourceVersion() == after.GetResourceVersion() {
			return wakeIgnore
		}
		return wakeSoon
	}
	obj := func(rv string) client.Object {
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", ResourceVersion: rv}}
	}
	w := waker{window: time.Hour}
	h := w.handler("WakeCountKind", two, wakeSoon, progress)
	h.Create(ctx, event.CreateEvent{Object: obj("1"), IsInInitialList: true}, q)
	h.Create(ctx, event.CreateEvent{Object: obj("2")}, q)
	h.Update(ctx, event.UpdateEvent{ObjectOld: obj("2"), ObjectNew: obj("3")}, q)
	h.Update(ctx, event.UpdateEvent{ObjectOld: obj("3"), ObjectNew: obj("3")}, q)
	h.Delete(ctx, event.DeleteEvent{Object: obj("3")}, q)
	m := w.mapped("WakeCountMapped", func(context.Context, client.Object) []reconcile.Request { return two(nil) })
	m.Create(ctx, event.CreateEvent{Object: obj("1"), IsInInitialList: true}, q)
	m.Update(ctx, event.UpdateEvent{ObjectOld: obj("1"), ObjectNew: obj("2")}, q)
	m.Generic(ctx, event.GenericEvent{Object: obj("2")}, q)
	for _, tc := range []struct {
		source, urgency string
		want            float64
	}{
		{"WakeCountKind", metrics.WakeInitial, 2},
		{"WakeCountKind", metrics.WakeSoon, 4},      // a creation and a progress update
		{"WakeCountKind", metrics.WakeNow, 2},       // the deletion
		{"WakeCountMapped", metrics.WakeInitial, 0}, // every app is queued by its own listing
		{"WakeCountMapped", metrics.WakeNow, 4},
		{"WakeCountMapped", metrics.WakeSoon, 0},
	} {
		if got := testutil.ToFloat64(metrics.Wakes(tc.source, tc.urgency)); got != tc.want {
			t.Errorf("%s %s = %v, want %v", tc.source, tc.urgency, got, tc.want)
		}
	}
	if n := q.Len(); n != 2 {
		t.Errorf("%d apps ready, want the two the deletion queued at once", n)
	}
}

// TestLookAgainIsCounted checks that a reconcile asking to look again counts one wake, and one that
// does not counts none.
func TestLookAgainIsCounted(t *testing.T) {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "look_again_test"})
	if got := lookAgain(c, 0); got.RequeueAfter != 0 || testutil.ToFloat64(c) != 0 {
		t.Errorf("lookAgain(0) = %v and counted %v, want no requeue and none", got, testutil.ToFloat64(c))
	}
	if got := lookAgain(c, time.Second); got.RequeueAfter != time.Second || testutil.ToFloat64(c) != 1 {
		t.Errorf("lookAgain(1s) = %v and counted %v, want a requeue after 1s and one", got, testutil.ToFloat64(c))
	}
}

// A revision's creation wakes nothing (the operator's own write: an app's first revision is written
// as its rollout ends, and the reconcile after it would find nothing to do); its deletion wakes the
// app at once. A Deployment's creation still wakes its app.
func TestARevisionsCreationWakesNothing(t *testing.T) {
	ctx := t.Context()
	owner := []metav1.OwnerReference{{APIVersion: appsv1alpha1.GroupVersion.String(), Kind: "HighlyAvailableApp",
		Name: "web", UID: "u", Controller: new(true)}}
	meta := metav1.ObjectMeta{Name: "web-abc", Namespace: "shop", OwnerReferences: owner}
	for _, tc := range []struct {
		obj         client.Object
		create, del int
	}{
		{&appsv1.ControllerRevision{ObjectMeta: meta}, 0, 1},
		{&appsv1.Deployment{ObjectMeta: meta}, 1, 1},
	} {
		var h handler.EventHandler
		for _, w := range (&HighlyAvailableAppReconciler{}).watches() {
			if w.kind.Name == kinds.Of(tc.obj) {
				h = w.handler
			}
		}
		if h == nil {
			t.Fatalf("no watch of %s", kinds.Of(tc.obj))
		}
		q := priorityqueue.New[reconcile.Request]("revision-create-test")
		h.Create(ctx, event.CreateEvent{Object: tc.obj}, q)
		h.Create(ctx, event.CreateEvent{Object: tc.obj, IsInInitialList: true}, q)
		created := q.Len()
		h.Delete(ctx, event.DeleteEvent{Object: tc.obj}, q)
		deleted := q.Len()
		q.ShutDown()
		// The queue holds an app once, however often it was added.
		if created != tc.create || deleted != tc.del {
			t.Errorf("%s: created → %d apps queued, deleted → %d; want %d and %d", kinds.Of(tc.obj), created, deleted, tc.create, tc.del)
		}
	}
}
