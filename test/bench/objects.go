package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/workload"
)

const (
	appNamespace   = "bench"
	floorNamespace = "bench-floor"
	// The images: what the apps start on, what churn moves them to, and one that cannot be pulled.
	imageStart   = "nginx:1.7.9"
	imageChurn   = "nginx:1.7.10"
	imageMissing = "nginx:1.91"
)

// spreadNamespacePrefix begins the namespaces the apps are spread over with -apps-per-namespace.
const spreadNamespacePrefix = appNamespace + "-ns"

// isAppNamespace tells whether ns holds the measured apps: the one namespace, or one of those they are
// spread over.
func isAppNamespace(ns string) bool {
	return ns == appNamespace || strings.HasPrefix(ns, spreadNamespacePrefix)
}

// appName is the name of the i-th app.
func appName(i int) string { return fmt.Sprintf("app-%04d", i) }

// newApp is the benchmark's app: Stateless nginx, 3 replicas, everything else defaulted.
func newApp(namespace, name string) *appsv1alpha1.HighlyAvailableApp {
	return &appsv1alpha1.HighlyAvailableApp{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: appsv1alpha1.HighlyAvailableAppSpec{
			Type:     appsv1alpha1.Stateless,
			Replicas: ptr.To[int32](3),
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name: "nginx", Image: imageStart, Ports: []corev1.ContainerPort{{ContainerPort: 80}},
			}}}},
		},
	}
}

// floorObjects are what the operator generates for the app, built by the same functions, without
// an owner: the floor creates them directly.
func floorObjects(app *appsv1alpha1.HighlyAvailableApp) []client.Object {
	return []client.Object{
		workload.Deployment(app, workload.PodTemplate(app, workload.Options{ClusterDomain: workload.DefaultClusterDomain})),
		workload.Service(app),
		workload.PodDisruptionBudget(app),
	}
}

// countingClient is a client whose requests to the API server are counted.
type countingClient struct {
	client.Client
	requests *atomic.Int64
}

type countingTransport struct {
	next     http.RoundTripper
	requests *atomic.Int64
}

func (t countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.requests.Add(1)
	return t.next.RoundTrip(req)
}

// newClient is a plain client without a client-side rate limit, as the operator's (controller-runtime
// leaves the limit to the API server's priority and fairness), counting its requests.
func newClient(cfg *rest.Config) (countingClient, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS = -1
	requests := &atomic.Int64{}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return countingTransport{next: rt, requests: requests} })
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	return countingClient{Client: c, requests: requests}, err
}

// createNamespaces creates the namespaces, tolerating those that exist.
func createNamespaces(ctx context.Context, c client.Client, names ...string) error {
	for _, name := range names {
		err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create namespace %s: %w", name, err)
		}
	}
	return nil
}

// createAll creates each group of objects with the given number of workers, a group's objects in
// order by one worker.
func createAll(ctx context.Context, c client.Client, workers int, groups [][]client.Object) error {
	work := make(chan []client.Object)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range workers {
		wg.Go(func() {
			for group := range work {
				for _, obj := range group {
					// A create the client sent again after a timeout may find the object its first
					// attempt made: on a fresh cluster nothing else makes it.
					if err := c.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
						mu.Lock()
						if firstErr == nil {
							firstErr = fmt.Errorf("create %T %s: %w", obj, obj.GetName(), err)
						}
						mu.Unlock()
					}
				}
			}
		})
	}
	for _, g := range groups {
		select {
		case work <- g:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

// setImage replaces the image of the first container of an app's template or a Deployment's
// template with a JSON patch: no read first, no conflict with status writes.
func setImage(ctx context.Context, c client.Client, obj client.Object, image string) error {
	path := "/spec/template/spec/containers/0/image"
	patch := fmt.Sprintf(`[{"op":"replace","path":%q,"value":%q}]`, path, image)
	if err := c.Patch(ctx, obj, client.RawPatch(types.JSONPatchType, []byte(patch))); err != nil {
		return fmt.Errorf("set image of %s to %s: %w", obj.GetName(), image, err)
	}
	return nil
}

// unrelatedObjects are count ConfigMaps and Secrets (half each) of size bytes of data, which the
// operator has no business with.
func unrelatedObjects(namespace string, count, size int) [][]client.Object {
	data := strings.Repeat("x", size)
	groups := make([][]client.Object, 0, count)
	for i := range count {
		meta := metav1.ObjectMeta{Namespace: namespace, Name: fmt.Sprintf("unrelated-%05d", i)}
		if i%2 == 0 {
			groups = append(groups, []client.Object{&corev1.ConfigMap{ObjectMeta: meta, Data: map[string]string{"data": data}}})
		} else {
			secret := &corev1.Secret{ObjectMeta: meta, StringData: map[string]string{"data": data}}
			groups = append(groups, []client.Object{secret})
		}
	}
	return groups
}

// appReady says whether the app reports Ready for its current generation.
func appReady(app *appsv1alpha1.HighlyAvailableApp) bool {
	if app.Generation == 0 || app.Status.ObservedGeneration < app.Generation {
		return false
	}
	for _, c := range app.Status.Conditions {
		if c.Type == appsv1alpha1.ConditionReady {
			return c.Status == metav1.ConditionTrue
		}
	}
	return false
}

// deploymentReady says whether every replica of the Deployment's current template is available.
func deploymentReady(d *appsv1.Deployment) bool {
	want := ptr.Deref(d.Spec.Replicas, 1)
	return d.Status.ObservedGeneration >= d.Generation && d.Status.UpdatedReplicas == want &&
		d.Status.AvailableReplicas == want && d.Status.ReadyReplicas == want && d.Status.Replicas == want
}

func templateImage(spec corev1.PodSpec) string {
	if len(spec.Containers) == 0 {
		return ""
	}
	return spec.Containers[0].Image
}
