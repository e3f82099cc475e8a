package controller

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
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
// objects (and one created a moment before the app is in no cache yet): the plan creates the app's
// Service under its name, and the create, guarded by its precondition, is refused. The app's memory
// keeps the name; the next observe finds the Service on the API server, and the decision leaves it
// alone and reports the conflict. A name read once from the cache costs no request after that.
func TestARefusedCreateIsLookedForPastTheCache(t *testing.T) {
	scheme := testScheme(t)
	app := nginx("ns", "web")
	app.UID = "app-uid"
	squatter := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "someone-else"}}}
	api := &countingReader{Reader: fake.NewClientBuilder().WithScheme(scheme).WithObjects(squatter).Build()}
	r := &HighlyAvailableAppReconciler{Client: cached(scheme, app), APIReader: api}
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

	// The API server refuses the Service's create: one of the name exists.
	w := &recorded{fail: func(op string) error {
		if op == "apply Service web as "+FieldOwner+" if absent" {
			return apierrors.NewConflict(schema.GroupResource{Resource: "services"}, "web", errors.New("the object has been modified"))
		}
		return nil
	}}
	cache := r.Client
	r.Client = w.client(t)
	_, err = r.act(ctx, app, &plan)
	problem, requeue, retry := classify(err)
	if err == nil || problem != nil || !requeue || retry != nil {
		t.Fatalf("act returned %v, classified %+v %v %v: want the refusal, looked at again soon", err, problem, requeue, retry)
	}
	for _, op := range w.log {
		if strings.HasPrefix(op, "apply ") && !strings.HasSuffix(op, " if absent") {
			t.Errorf("%q: a create sent without its precondition", op)
		}
	}
	if got := r.memory.of(app).refused; !slices.Equal(got, []decide.Ref{{Kind: kinds.Service, Name: "web"}}) {
		t.Errorf("refused %v, want the Service", got)
	}

	r.Client = cache
	in, err = r.observe(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	if api.gets != 1 {
		t.Errorf("%d reads on the API server, want one: the Service whose create was refused", api.gets)
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

	// The Service is the app's own once the cache shows it: no read past the cache.
	ours := &corev1.Service{ObjectMeta: labelled("ns", "web", "web", "web")}
	r.Client = cached(scheme, app, ours)
	api.gets = 0
	if _, err := r.observe(ctx, app); err != nil {
		t.Fatal(err)
	}
	if api.gets != 0 {
		t.Errorf("%d reads on the API server for a name the cache holds, want none", api.gets)
	}
}
