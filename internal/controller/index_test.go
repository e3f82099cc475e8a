package controller

import (
	"context"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// The operator's own cache: a list through the index by app, with no label selector, holds the
// app's objects of the namespace alone.
var _ = Describe("The cache's index by app", func() {
	It("lists one app's pods and revisions: not another app's, nor those of its namesake elsewhere", func() {
		ns, elsewhere := newNamespace(), newNamespace()
		for _, m := range []metav1.ObjectMeta{
			labelled(ns, "web-1", "web", "web"), labelled(ns, "web-2", "web", "web"),
			labelled(ns, "db-1", "db", "db"), labelled(elsewhere, "web-1", "web", "web"),
		} {
			Expect(k8sClient.Create(ctx, &corev1.Pod{ObjectMeta: m, Spec: corev1.PodSpec{
				Containers: []corev1.Container{{Name: "c", Image: "c"}}}})).To(Succeed())
			Expect(k8sClient.Create(ctx, &appsv1.ControllerRevision{ObjectMeta: m, Revision: 1,
				Data: runtime.RawExtension{Raw: []byte("{}")}})).To(Succeed())
		}
		web := nginx(ns, "web")
		Eventually(func(g Gomega) {
			pods := &corev1.PodList{}
			g.Expect(operatorCache.List(ctx, pods, client.InNamespace(ns), byApp(web))).To(Succeed())
			revs := &appsv1.ControllerRevisionList{}
			g.Expect(operatorCache.List(ctx, revs, client.InNamespace(ns), byApp(web))).To(Succeed())
			names := make([]string, 0, len(pods.Items)+len(revs.Items))
			for _, p := range pods.Items {
				names = append(names, "pod "+p.Name)
			}
			for _, r := range revs.Items {
				names = append(names, "revision "+r.Name)
			}
			g.Expect(names).To(ConsistOf("pod web-1", "pod web-2", "revision web-1", "revision web-2"))
		}).Should(Succeed())
	})
})

// testScheme knows the built-in kinds and the operator's own, for the fake clients of unit tests.
func testScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := appsv1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	return scheme
}

// cached is a fake of the operator's cache: the objects, indexed by app (appIndexed, appOf) so that
// observe can list through appIndex.
func cached(scheme *runtime.Scheme, objs ...client.Object) client.Client {
	b := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...)
	for _, obj := range appIndexed() {
		b = b.WithIndex(obj, appIndex, appOf)
	}
	return b.WithIndex(&corev1.Pod{}, nodeIndex, nodeOf).Build()
}

// labelled is an object's metadata with the labels the operator gives an app's objects.
func labelled(ns, name, instance, appName string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{
		appsv1alpha1.LabelName: appName, appsv1alpha1.LabelInstance: instance,
		appsv1alpha1.LabelManagedBy: appsv1alpha1.ManagedByValue,
	}}
}

// observe lists an app's pods, ReplicaSets and revisions through the index by app, and the label
// selector still decides: another app's objects in the namespace, an object with the app's instance
// label but another name label, and one of the same name in another namespace are not the app's.
func TestObserveListsTheAppsObjectsAlone(t *testing.T) {
	scheme := testScheme(t)
	app := nginx("ns", "web")
	metas := []metav1.ObjectMeta{
		labelled("ns", "web-1", "web", "web"), labelled("ns", "web-2", "web", "web"),
		labelled("ns", "db-1", "db", "db"), labelled("ns", "look-alike", "web", "other"),
		labelled("other", "web-1", "web", "web"),
	}
	objs := make([]client.Object, 0, 1+3*len(metas))
	objs = append(objs, app)
	for _, m := range metas {
		objs = append(objs, &corev1.Pod{ObjectMeta: m}, &appsv1.ReplicaSet{ObjectMeta: m},
			&appsv1.ControllerRevision{ObjectMeta: m})
	}
	r := &HighlyAvailableAppReconciler{Client: cached(scheme, objs...)}
	in, err := r.observe(context.Background(), app)
	if err != nil {
		t.Fatal(err)
	}
	pods := make([]string, 0, len(in.Pods))
	for _, p := range in.Pods {
		pods = append(pods, p.Namespace+"/"+p.Name)
	}
	sets := make([]string, 0, len(in.ReplicaSets))
	for _, rs := range in.ReplicaSets {
		sets = append(sets, rs.Namespace+"/"+rs.Name)
	}
	slices.Sort(pods)
	slices.Sort(sets)
	want := []string{"ns/web-1", "ns/web-2"}
	if !slices.Equal(pods, want) || !slices.Equal(sets, want) {
		t.Errorf("pods %v and ReplicaSets %v, want %v for both", pods, sets, want)
	}
}
