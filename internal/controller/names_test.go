package controller

import (
	"context"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/decide"
)

// countingReader counts the reads that reach it.
type countingReader struct {
	client.Reader
	gets int
}

func (c *countingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	c.gets++
	return c.Reader.Get(ctx, key, obj, opts...)
}

// namesReader holds the names of objects by kind, as the names cache does.
type namesReader map[schema.GroupVersionKind][]string

func (n namesReader) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	m, ok := obj.(*metav1.PartialObjectMetadata)
	if !ok {
		return apierrors.NewBadRequest("names: metadata only")
	}
	if slices.Contains(n[m.GroupVersionKind()], key.Name) {
		m.Name, m.Namespace = key.Name, key.Namespace
		return nil
	}
	return apierrors.NewNotFound(schema.GroupResource{Resource: m.Kind}, key.Name)
}

func (n namesReader) List(context.Context, client.ObjectList, ...client.ListOption) error {
	return apierrors.NewBadRequest("names: no list")
}

func TestReadLooksPastTheCacheOnlyWhenItMust(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	theirs := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "theirs", Namespace: "ns"}}
	ours := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "ours", Namespace: "ns"}}
	deployments := appsv1.SchemeGroupVersion.WithKind("Deployment")
	for _, tc := range []struct {
		name     string
		object   string
		where    lookup
		names    namesReader
		wantGets int
		wantObj  bool
	}{
		{"in the cache", "ours", orForeign, namesReader{}, 0, true},
		{"absent everywhere", "web", orForeign, namesReader{}, 0, false},
		{"someone else's, known by name", "theirs", orForeign, namesReader{deployments: {"theirs"}}, 1, true},
		{"a name of another kind only", "theirs", orForeign, namesReader{appsv1.SchemeGroupVersion.WithKind("StatefulSet"): {"theirs"}}, 0, false},
		{"not wanted: the cache alone", "theirs", inCache, namesReader{deployments: {"theirs"}}, 0, false},
		{"just created: the API server", "theirs", orAPIServer, namesReader{}, 1, true},
		{"no names cache: the API server", "web", orForeign, nil, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := &countingReader{Reader: fake.NewClientBuilder().WithScheme(scheme).WithObjects(theirs.DeepCopy(), ours.DeepCopy()).Build()}
			r := &HighlyAvailableAppReconciler{
				Client:    fake.NewClientBuilder().WithScheme(scheme).WithObjects(ours.DeepCopy()).Build(),
				APIReader: api, Scheme: scheme,
			}
			if tc.names != nil {
				r.Names = tc.names
			}
			obj := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: tc.object, Namespace: "ns"}}
			got, err := r.read(context.Background(), obj, tc.where)
			if err != nil {
				t.Fatal(err)
			}
			if (got != nil) != tc.wantObj {
				t.Errorf("found %v, want %v", got != nil, tc.wantObj)
			}
			if api.gets != tc.wantGets {
				t.Errorf("%d reads on the API server, want %d", api.gets, tc.wantGets)
			}
		})
	}
}

func TestTrimToIdentity(t *testing.T) {
	m := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{
		Name: "web", Namespace: "ns", UID: "u1", ResourceVersion: "7",
		Labels: map[string]string{"a": "b"}, Annotations: map[string]string{lastAppliedAnnotation: "{}"},
		OwnerReferences: []metav1.OwnerReference{{Name: "x"}},
		ManagedFields:   []metav1.ManagedFieldsEntry{{Manager: "kubectl"}},
	}}
	m.SetGroupVersionKind(appsv1.SchemeGroupVersion.WithKind("Deployment"))
	out, err := trimToIdentity(m)
	if err != nil {
		t.Fatal(err)
	}
	got := out.(*metav1.PartialObjectMetadata)
	want := metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "u1", ResourceVersion: "7"}
	if got.Name != want.Name || got.Namespace != want.Namespace || got.UID != want.UID || got.ResourceVersion != want.ResourceVersion ||
		got.Labels != nil || got.Annotations != nil || got.OwnerReferences != nil || got.ManagedFields != nil {
		t.Errorf("trimmed to %+v, want %+v", got.ObjectMeta, want)
	}
	if got.Kind != "Deployment" {
		t.Errorf("kind %q lost", got.Kind)
	}
	// Any other object is only stripped, as the main cache does.
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Labels: map[string]string{"a": "b"},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}}}
	out, err = trimToIdentity(pod)
	if err != nil {
		t.Fatal(err)
	}
	if p := out.(*corev1.Pod); p.ManagedFields != nil || p.Labels["a"] != "b" {
		t.Errorf("pod became %+v", p.ObjectMeta)
	}
}

// A Service created by someone else a moment before the app is in no cache yet: the plan would create
// the app's Service under its name, and the apply would take it over. confirmAbsent finds it on the
// API server, and the decision made again leaves it alone and reports the conflict.
func TestConfirmAbsentFindsWhatTheCachesMiss(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := appsv1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	app := nginx("ns", "web")
	app.UID = "app-uid"
	squatter := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "someone-else"}}}
	api := &countingReader{Reader: fake.NewClientBuilder().WithScheme(scheme).WithObjects(squatter).Build()}
	r := &HighlyAvailableAppReconciler{
		Client:    fake.NewClientBuilder().WithScheme(scheme).WithObjects(app).Build(),
		APIReader: api, Scheme: scheme, Names: namesReader{},
	}
	ctx := context.Background()
	in, err := r.observe(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	plan := decide.Decide(in)
	var creates []string
	for _, d := range plan.Apply {
		if d.Create {
			creates = append(creates, d.String())
		}
	}
	if !slices.Contains(creates, "Service web") {
		t.Fatalf("the caches showing no Service, the plan creates %v: want the Service among them", creates)
	}
	api.gets = 0
	found, err := r.confirmAbsent(ctx, app, &in, &plan)
	if err != nil {
		t.Fatal(err)
	}
	if !found || api.gets != len(creates) {
		t.Fatalf("found %v with %d reads on the API server: want the Service found, one read per object created (%d)",
			found, api.gets, len(creates))
	}
	plan = decide.Decide(in)
	if plan.Problem == nil || plan.Problem.Reason != appsv1alpha1.ReasonConflict {
		t.Errorf("problem %+v, want the Service's conflict", plan.Problem)
	}
	for _, d := range plan.Apply {
		if d.Kind == decide.KindService && d.Name == "web" {
			t.Errorf("the plan applies the Service someone else created")
		}
	}

	// Nothing of the name on the API server either: one read per object created, nothing found.
	api = &countingReader{Reader: fake.NewClientBuilder().WithScheme(scheme).Build()}
	r.APIReader = api
	in, err = r.observe(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	plan = decide.Decide(in)
	api.gets = 0
	if found, err := r.confirmAbsent(ctx, app, &in, &plan); err != nil || found {
		t.Errorf("found %v, err %v: want nothing", found, err)
	}
	if api.gets != len(creates) {
		t.Errorf("%d reads on the API server, want %d", api.gets, len(creates))
	}
}
