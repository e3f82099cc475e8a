package controller

import (
	"context"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/decide"
	"github.com/haoperator/ha-operator/internal/kinds"
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

func TestReadLooksPastTheCacheOnlyWhenAsked(t *testing.T) {
	scheme := testScheme(t)
	theirs := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "theirs", Namespace: "ns"}}
	ours := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "ours", Namespace: "ns"}}
	for _, tc := range []struct {
		name     string
		object   string
		where    lookup
		wantGets int
		wantObj  bool
	}{
		{"in the cache", "ours", inCache, 0, true},
		{"in the cache, asked past it", "ours", orAPIServer, 0, true},
		{"someone else's: the cache alone", "theirs", inCache, 0, false},
		{"someone else's: the API server", "theirs", orAPIServer, 1, true},
		{"absent everywhere", "web", orAPIServer, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := &countingReader{Reader: fake.NewClientBuilder().WithScheme(scheme).WithObjects(theirs.DeepCopy(), ours.DeepCopy()).Build()}
			r := &HighlyAvailableAppReconciler{
				Client:    fake.NewClientBuilder().WithScheme(scheme).WithObjects(ours.DeepCopy()).Build(),
				APIReader: api,
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

// Someone else's Service under the app's name is not in the cache, which holds only the operator's
// objects (and one created a moment before the app is in no cache yet): the plan would create the
// app's Service under its name, and the apply would take it over. observe asks the API server
// nothing; confirmAbsent finds the Service there, and the decision made again leaves it alone and
// reports the conflict.
func TestConfirmAbsentFindsWhatTheCachesMiss(t *testing.T) {
	scheme := testScheme(t)
	app := nginx("ns", "web")
	app.UID = "app-uid"
	squatter := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "someone-else"}}}
	api := &countingReader{Reader: fake.NewClientBuilder().WithScheme(scheme).WithObjects(squatter).Build()}
	r := &HighlyAvailableAppReconciler{
		Client:    cached(scheme, app),
		APIReader: api,
	}
	ctx := context.Background()
	in, err := r.observe(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	if api.gets != 0 {
		t.Errorf("observe read the API server %d times, want none", api.gets)
	}
	plan := decide.Decide(in)
	var creates []string
	for _, d := range plan.Apply {
		if d.Create {
			creates = append(creates, d.String())
		}
	}
	if !slices.Contains(creates, "Service web") {
		t.Fatalf("the cache showing no Service, the plan creates %v: want the Service among them", creates)
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
		if d.Kind == kinds.Service && d.Name == "web" {
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
