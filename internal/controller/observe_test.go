package controller

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/decide"
	"github.com/haoperator/ha-operator/internal/kinds"
	"github.com/haoperator/ha-operator/internal/rollout"
	"github.com/haoperator/ha-operator/internal/workload"
)

// countingLister counts the lists sent to the API server.
type countingLister struct {
	client.Reader
	lists int
}

func (c *countingLister) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	c.lists++
	return c.Reader.List(ctx, list, opts...)
}

// Another instance of the operator marked revision 2 failed and rolled the StatefulSet back to
// revision 1; this cache has seen the rollback, not the mark. The history is read past the cache,
// so that the decision does not apply the failed template again.
func TestObserveHistoryReadsPastAStaleCache(t *testing.T) {
	scheme := testScheme(t)
	app := cassandra("ns", "db")
	app.UID = "app-uid"
	revision := func(number int64, hash string, outcome rollout.Outcome) *appsv1.ControllerRevision {
		t.Helper()
		cr, err := rollout.NewRevision(app, hash, number, rollout.RevisionData{Template: app.Spec.Template, PodTemplate: app.Spec.Template})
		if err != nil {
			t.Fatal(err)
		}
		maps.Copy(cr.Labels, workload.SelectorLabels(app))
		cr.OwnerReferences = []metav1.OwnerReference{{APIVersion: appsv1alpha1.GroupVersion.String(), Kind: "HighlyAvailableApp",
			Name: app.Name, UID: app.UID, Controller: new(true)}}
		out, _ := rollout.Record{Number: number, Hash: hash, Outcome: outcome}.WriteTo(cr)
		return out
	}
	statefulSet := func(hash string) *appsv1.StatefulSet {
		sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "ns", OwnerReferences: []metav1.OwnerReference{{
			APIVersion: appsv1alpha1.GroupVersion.String(), Kind: "HighlyAvailableApp", Name: app.Name, UID: app.UID, Controller: new(true)}}}}
		sts.Spec.Template = corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{rollout.LabelRevisionHash: hash}}}
		return sts
	}
	for _, tc := range []struct {
		name      string
		running   string
		cached    rollout.Outcome
		wantLists int
		wantOut   rollout.Outcome
	}{
		{"rolled back elsewhere, the mark not seen yet", "h1", rollout.OutcomeNone, 1, rollout.OutcomeFailed},
		{"the mark seen", "h1", rollout.OutcomeFailed, 0, rollout.OutcomeFailed},
		{"the workload runs the newest", "h2", rollout.OutcomeNone, 0, rollout.OutcomeNone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := &countingLister{Reader: fake.NewClientBuilder().WithScheme(scheme).
				WithObjects(revision(1, "h1", rollout.OutcomeComplete), revision(2, "h2", rollout.OutcomeFailed)).Build()}
			r := &HighlyAvailableAppReconciler{APIReader: api}
			in := decide.Input{App: app, Objects: map[decide.Ref]client.Object{decide.WorkloadRef(app): statefulSet(tc.running)},
				Revisions: []appsv1.ControllerRevision{*revision(1, "h1", rollout.OutcomeComplete), *revision(2, "h2", tc.cached)}}
			if err := r.observeHistory(context.Background(), app, &in); err != nil {
				t.Fatal(err)
			}
			if api.lists != tc.wantLists {
				t.Errorf("%d lists past the cache, want %d", api.lists, tc.wantLists)
			}
			var newest rollout.Record
			for i := range in.Revisions {
				if rec := rollout.ReadRecord(&in.Revisions[i]); rec.Number == 2 {
					newest = rec
				}
			}
			if len(in.Revisions) != 2 || newest.Outcome != tc.wantOut {
				t.Errorf("revision 2 reads %q among %d revisions, want %q among 2", newest.Outcome, len(in.Revisions), tc.wantOut)
			}
		})
	}
}

// The operator wrote revision 1 (a first revision, written as its rollout completed) and the app's
// status write woke the next reconcile before the cache showed the record: the history is read past
// the cache, so that the decision does not create the revision again under number 2.
func TestObserveHistoryReadsPastACacheBehindItsOwnWrite(t *testing.T) {
	scheme := testScheme(t)
	app := nginx("ns", "web")
	app.UID = "app-uid"
	cr, err := rollout.NewRevision(app, "h1", 1, rollout.RevisionData{Template: app.Spec.Template, PodTemplate: app.Spec.Template})
	if err != nil {
		t.Fatal(err)
	}
	maps.Copy(cr.Labels, workload.SelectorLabels(app))
	cr.OwnerReferences = []metav1.OwnerReference{{APIVersion: appsv1alpha1.GroupVersion.String(), Kind: "HighlyAvailableApp",
		Name: app.Name, UID: app.UID, Controller: new(true)}}
	for _, tc := range []struct {
		name      string
		issued    int64
		cached    []appsv1.ControllerRevision
		wantLists int
	}{
		{"written, not cached yet", 1, nil, 1},
		{"written and cached", 1, []appsv1.ControllerRevision{*cr}, 0},
		{"nothing written yet", 0, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := &countingLister{Reader: fake.NewClientBuilder().WithScheme(scheme).WithObjects(cr.DeepCopy()).Build()}
			r := &HighlyAvailableAppReconciler{APIReader: api}
			in := decide.Input{App: app, Objects: map[decide.Ref]client.Object{}, Revisions: tc.cached, IssuedRevision: tc.issued}
			if err := r.observeHistory(context.Background(), app, &in); err != nil {
				t.Fatal(err)
			}
			if api.lists != tc.wantLists {
				t.Errorf("%d lists past the cache, want %d", api.lists, tc.wantLists)
			}
			if tc.issued > 0 && len(in.Revisions) != 1 {
				t.Errorf("%d revisions observed, want the one written", len(in.Revisions))
			}
		})
	}
}

// apiReads counts the reads that go past the cache, by what they read.
type apiReads struct {
	client.Reader
	reads []string
}

func (a *apiReads) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	a.reads = append(a.reads, "get "+kinds.Of(obj)+" "+key.Name)
	return a.Reader.Get(ctx, key, obj, opts...)
}

func (a *apiReads) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	a.reads = append(a.reads, fmt.Sprintf("list %T", list))
	return a.Reader.List(ctx, list, opts...)
}

// Observe reads from the cache; it asks the API server only for a claim the StatefulSet is about to
// create (the cache holds only the operator's own objects, and a claim of that name may be someone
// else's), and for nothing else while the app is settled.
func TestObserveReadsPastTheCacheOnlyForClaimsToCreate(t *testing.T) {
	scheme := testScheme(t)
	db := cassandra("ns", "db")
	db.UID = "db-uid"
	db.Spec.Storage = []appsv1alpha1.StorageSpec{{Name: "data", MountPath: "/data", Size: resource.MustParse("1Gi")}}
	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "ns", OwnerReferences: []metav1.OwnerReference{{
		APIVersion: appsv1alpha1.GroupVersion.String(), Kind: "HighlyAvailableApp", Name: "db", UID: db.UID, Controller: new(true)}}}}
	sts.Spec.Replicas = new(int32(2))
	sts.Status.Replicas = 2
	claim := func(ord int) *corev1.PersistentVolumeClaim {
		return &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("data-db-%d", ord), Namespace: "ns",
			Labels: workload.Labels(db)}}
	}
	web := nginx("ns", "web")
	web.UID = "web-uid"
	for _, tc := range []struct {
		name     string
		app      *appsv1alpha1.HighlyAvailableApp
		cache    []client.Object
		wantAPI  []string
		wantRead func(decide.Input) string
	}{
		{"a Stateless app: ReplicaSets from the cache, nothing past it", web, nil, nil,
			func(in decide.Input) string {
				if in.Claims != nil || in.StorageClasses != nil {
					return "read storage"
				}
				return ""
			}},
		{"a Stateful app scaling from 2 to 3: the third claim past the cache", db,
			[]client.Object{sts, claim(0), claim(1)}, []string{"get PersistentVolumeClaim data-db-2"},
			func(in decide.Input) string {
				if len(in.Claims) != 2 || in.ReplicaSets != nil {
					return fmt.Sprintf("claims %d, replica sets %v", len(in.Claims), in.ReplicaSets)
				}
				return ""
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := &apiReads{Reader: fake.NewClientBuilder().WithScheme(scheme).Build()}
			r := &HighlyAvailableAppReconciler{Client: cached(scheme, tc.cache...), APIReader: api}
			in, err := r.observe(context.Background(), tc.app)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(api.reads, tc.wantAPI) {
				t.Errorf("reads past the cache %v, want %v", api.reads, tc.wantAPI)
			}
			if msg := tc.wantRead(in); msg != "" {
				t.Error(msg)
			}
		})
	}
}

// A rollout's time without progress counts from the operator's first reconcile: a process that waited
// for the leader's Lease (while the API server it lost came back) judged nothing before it, and the
// moment it was built or started is not when it began to watch.
func TestObservingSinceIsTheFirstReconcile(t *testing.T) {
	scheme := testScheme(t)
	started := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	now := started
	r := &HighlyAvailableAppReconciler{Client: cached(scheme), APIReader: fake.NewClientBuilder().WithScheme(scheme).Build(),
		Now: func() time.Time { return now }}
	for _, step := range []struct {
		after, want time.Duration
	}{
		{20 * time.Second, 20 * time.Second}, // the first reconcile, once it leads
		{50 * time.Second, 20 * time.Second}, // later ones keep it
		{90 * time.Second, 20 * time.Second},
	} {
		now = started.Add(step.after)
		in, err := r.observe(context.Background(), nginx("ns", "web"))
		if err != nil {
			t.Fatal(err)
		}
		if got := in.ObservingSince.Sub(started); got != step.want {
			t.Errorf("at %s: observing since %s after the start, want %s", step.after, got, step.want)
		}
	}
}
