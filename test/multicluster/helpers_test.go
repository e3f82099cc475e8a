//go:build multicluster

/*
Copyright 2026.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package multicluster

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// Images of the nginx sample's story. missingImage has a tag that does not exist: the members fail to pull
// it (hack/cluster/README.md lists the images the local cluster treats so).
const (
	imageV1      = "nginx:1.7.9"
	imageV2      = "nginx:1.9.1"
	missingImage = "nginx:1.91"
)

// Karmada's kinds, read and written as unstructured objects.
var (
	propagationPolicyGVK  = schema.FromAPIVersionAndKind("policy.karmada.io/v1alpha1", "PropagationPolicy")
	clusterGVK            = schema.FromAPIVersionAndKind("cluster.karmada.io/v1alpha1", "Cluster")
	resourceBindingGVK    = schema.FromAPIVersionAndKind("work.karmada.io/v1alpha2", "ResourceBinding")
	workloadRebalancerGVK = schema.FromAPIVersionAndKind("apps.karmada.io/v1alpha1", "WorkloadRebalancer")
)

// notReadyTaint is the taint karmada.sh's ClusterTaintPolicy puts on a member that is not Ready.
const notReadyTaint = "cluster.karmada.io/not-ready"

// suiteNamespaces are the namespaces the suite made, dumped when a spec fails (the specs are
// ordered: a namespace outlives the spec that made it).
var suiteNamespaces []string

var _ = AfterEach(func() {
	if CurrentSpecReport().Failed() {
		for _, ns := range suiteNamespaces {
			dumpNamespace(ns)
		}
	}
})

// testNamespace creates a namespace on Karmada, which Karmada creates in every member.
func testNamespace(prefix string) string {
	GinkgoHelper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "mc-" + prefix + "-"}}
	Expect(karmada.Create(ctx, ns)).To(Succeed())
	suiteNamespaces = append(suiteNamespaces, ns.Name)
	for name, c := range members {
		Eventually(func() error {
			return c.Get(ctx, types.NamespacedName{Name: ns.Name}, &corev1.Namespace{})
		}).Should(Succeed(), "namespace %s in %s", ns.Name, name)
	}
	return ns.Name
}

// dumpNamespace writes what a person debugging a failure looks at first: the app on Karmada with its
// binding, and the app and its pods in each member.
func dumpNamespace(ns string) {
	write := func(title string, obj any) {
		out, err := yaml.Marshal(obj)
		if err != nil {
			out = []byte(err.Error())
		}
		_, _ = fmt.Fprintf(GinkgoWriter, "\n===== %s =====\n%s", title, out)
	}
	apps := &appsv1alpha1.HighlyAvailableAppList{}
	if err := karmada.List(ctx, apps, client.InNamespace(ns)); err == nil {
		write("apps on Karmada in "+ns, apps.Items)
	}
	bindings := &unstructured.UnstructuredList{}
	bindings.SetGroupVersionKind(resourceBindingGVK.GroupVersion().WithKind("ResourceBindingList"))
	if err := karmada.List(ctx, bindings, client.InNamespace(ns)); err == nil {
		write("ResourceBindings in "+ns, bindings.Items)
	}
	clusters := &unstructured.UnstructuredList{}
	clusters.SetGroupVersionKind(clusterGVK.GroupVersion().WithKind("ClusterList"))
	if err := karmada.List(ctx, clusters); err == nil {
		for _, c := range clusters.Items {
			spec, _, _ := unstructured.NestedFieldNoCopy(c.Object, "spec", "taints")
			conditions, _, _ := unstructured.NestedSlice(c.Object, "status", "conditions")
			write("Cluster "+c.GetName(), map[string]any{"taints": spec, "conditions": conditions})
		}
	}
	for name, c := range members {
		apps := &appsv1alpha1.HighlyAvailableAppList{}
		if err := c.List(ctx, apps, client.InNamespace(ns)); err != nil {
			write("apps in "+name, err.Error())
			continue
		}
		write("apps in "+name+" in "+ns, apps.Items)
		pods := &corev1.PodList{}
		if err := c.List(ctx, pods, client.InNamespace(ns)); err == nil {
			lines := make([]string, 0, len(pods.Items))
			for _, p := range pods.Items {
				lines = append(lines, fmt.Sprintf("%s %s ready=%t deleting=%t node=%s image=%s", p.Name,
					p.Status.Phase, podReady(&p), p.DeletionTimestamp != nil, p.Spec.NodeName, p.Spec.Containers[0].Image))
			}
			write("pods in "+name+" in "+ns, lines)
		}
	}
}

// statelessApp is the nginx sample: replicas of one container serving port 80. Half its pods may
// go at once (minAvailable 50%), so that on the control plane the loss of the member holding half
// of them is tolerated.
func statelessApp(ns, name, image string, replicas int32) *appsv1alpha1.HighlyAvailableApp {
	return &appsv1alpha1.HighlyAvailableApp{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1alpha1.HighlyAvailableAppSpec{
			Type:     appsv1alpha1.Stateless,
			Replicas: new(replicas),
			Availability: &appsv1alpha1.AvailabilitySpec{
				MinAvailable: new(intstr.FromString("50%")),
			},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name:  "web",
					Image: image,
					Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 80}},
				}}},
			},
		},
	}
}

// statefulApp is a small database: replicas with one claim each, mounted at /data.
func statefulApp(ns, name, image string, replicas int32) *appsv1alpha1.HighlyAvailableApp {
	return &appsv1alpha1.HighlyAvailableApp{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1alpha1.HighlyAvailableAppSpec{
			Type:     appsv1alpha1.Stateful,
			Replicas: new(replicas),
			Storage: []appsv1alpha1.StorageSpec{{
				Name:      "data",
				MountPath: "/data",
				Size:      resource.MustParse("1Gi"),
			}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name:  "db",
					Image: image,
					Ports: []corev1.ContainerPort{{Name: "cql", ContainerPort: 9042}},
				}}},
			},
		},
	}
}

// propagationPolicy places the app named on the clusters named. weights (one per cluster) divides
// its replicas between them with static weights; none copies it whole to each (Duplicated: the only
// placement of an app whose replicas Karmada does not see, such as a Stateful app).
// tolerateNoExecute makes it tolerate every NoExecute taint without limit, as
// config/karmada/samples does for a Stateful app: it is never evicted, failover is off for it.
func propagationPolicy(
	ns, app string, clusters []string, weights []int64, tolerateNoExecute bool,
) *unstructured.Unstructured {
	placement := map[string]any{
		"clusterAffinity":   map[string]any{"clusterNames": toAny(clusters)},
		"replicaScheduling": map[string]any{"replicaSchedulingType": "Duplicated"},
	}
	if len(weights) > 0 {
		list := make([]any, 0, len(clusters))
		for i, c := range clusters {
			list = append(list, map[string]any{
				"targetCluster": map[string]any{"clusterNames": []any{c}},
				"weight":        weights[i],
			})
		}
		placement["replicaScheduling"] = map[string]any{
			"replicaSchedulingType":     "Divided",
			"replicaDivisionPreference": "Weighted",
			"weightPreference":          map[string]any{"staticWeightList": list},
		}
	}
	if tolerateNoExecute {
		placement["clusterTolerations"] = []any{map[string]any{"operator": "Exists", "effect": "NoExecute"}}
	}
	policy := &unstructured.Unstructured{Object: map[string]any{
		"spec": map[string]any{
			"resourceSelectors": []any{map[string]any{
				"apiVersion": appsv1alpha1.GroupVersion.String(),
				"kind":       "HighlyAvailableApp",
				"name":       app,
			}},
			"placement": placement,
		},
	}}
	policy.SetGroupVersionKind(propagationPolicyGVK)
	policy.SetNamespace(ns)
	policy.SetName(app)
	return policy
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// getApp reads the app from c: Karmada (the app and its aggregated status) or a member (the member's
// copy with its own status).
func getApp(c client.Client, key types.NamespacedName) (*appsv1alpha1.HighlyAvailableApp, error) {
	app := &appsv1alpha1.HighlyAvailableApp{}
	if err := c.Get(ctx, key, app); err != nil {
		return nil, err
	}
	return app, nil
}

// mustGetApp reads the app from c and fails the spec if it cannot.
func mustGetApp(c client.Client, key types.NamespacedName) *appsv1alpha1.HighlyAvailableApp {
	GinkgoHelper()
	app, err := getApp(c, key)
	Expect(err).NotTo(HaveOccurred())
	return app
}

// condition is the app's condition of that type, or an Unknown one when it is missing.
func condition(app *appsv1alpha1.HighlyAvailableApp, conditionType string) metav1.Condition {
	if c := meta.FindStatusCondition(app.Status.Conditions, conditionType); c != nil {
		return *c
	}
	return metav1.Condition{Type: conditionType, Status: metav1.ConditionUnknown}
}

// settled tells whether the app's status is current (observedGeneration) and Ready, not Reconciling:
// the kstatus "Current" state, on a member or on the control plane's aggregate.
func settled(app *appsv1alpha1.HighlyAvailableApp) bool {
	return app.Status.ObservedGeneration == app.Generation &&
		condition(app, appsv1alpha1.ConditionReady).Status == metav1.ConditionTrue &&
		condition(app, appsv1alpha1.ConditionReconciling).Status != metav1.ConditionTrue
}

// rolledBack tells whether the app's status is current and says its update was rolled back.
func rolledBack(app *appsv1alpha1.HighlyAvailableApp) bool {
	stalled := condition(app, appsv1alpha1.ConditionStalled)
	return app.Status.ObservedGeneration == app.Generation &&
		stalled.Status == metav1.ConditionTrue && stalled.Reason == appsv1alpha1.ReasonRolledBack
}

// describe is the app's status in one line, for failure messages.
func describe(app *appsv1alpha1.HighlyAvailableApp) string {
	if app == nil {
		return "absent"
	}
	conditions := make([]string, 0, len(app.Status.Conditions))
	for _, c := range app.Status.Conditions {
		conditions = append(conditions, fmt.Sprintf("%s=%s(%s)", c.Type, c.Status, c.Reason))
	}
	replicas := "unset"
	if app.Spec.Replicas != nil {
		replicas = fmt.Sprint(*app.Spec.Replicas)
	}
	return fmt.Sprintf("generation %d observed %d replicas %s ready %d/%d updated %d clusters %d resilience %s %s",
		app.Generation, app.Status.ObservedGeneration, replicas, app.Status.ReadyReplicas, app.Status.Replicas,
		app.Status.UpdatedReplicas, app.Status.Clusters, app.Status.Resilience, strings.Join(conditions, " "))
}

// setImage changes the app's image on Karmada with a merge patch, as `kubectl patch` does.
func setImage(key types.NamespacedName, image string) {
	GinkgoHelper()
	app := mustGetApp(karmada, key)
	base := app.DeepCopy()
	app.Spec.Template.Spec.Containers[0].Image = image
	Expect(karmada.Patch(ctx, app, client.MergeFrom(base))).To(Succeed())
}

func podReady(pod *corev1.Pod) bool {
	if pod.DeletionTimestamp != nil || pod.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// appPods lists the app's pods in a member, terminating ones included.
func appPods(ctx context.Context, c client.Client, key types.NamespacedName) ([]corev1.Pod, error) {
	pods := &corev1.PodList{}
	err := c.List(ctx, pods, client.InNamespace(key.Namespace),
		client.MatchingLabels{appsv1alpha1.LabelInstance: key.Name})
	return pods.Items, err
}

// readyPods counts the app's ready pods in a member and lists them.
func readyPods(ctx context.Context, c client.Client, key types.NamespacedName) (int, []string, error) {
	pods, err := appPods(ctx, c, key)
	if err != nil {
		return 0, nil, err
	}
	var names []string
	for i := range pods {
		if podReady(&pods[i]) {
			names = append(names, pods[i].Name+"("+pods[i].Spec.Containers[0].Image+")")
		}
	}
	return len(names), names, nil
}

// memberReplicas is the replica count Karmada gave the member's copy of the app, -1 when the member
// has no copy.
func memberReplicas(g Gomega, member string, key types.NamespacedName) int32 {
	app, err := getApp(members[member], key)
	if apierrors.IsNotFound(err) {
		return -1
	}
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(app.Spec.Replicas).NotTo(BeNil(), "spec.replicas of the copy in %s", member)
	return *app.Spec.Replicas
}

// cluster reads a member's Cluster object on Karmada.
func cluster(name string) (*unstructured.Unstructured, error) {
	obj := &unstructured.Unstructured{}
	obj.SetGroupVersionKind(clusterGVK)
	err := karmada.Get(ctx, types.NamespacedName{Name: name}, obj)
	return obj, err
}

// clusterReady is the status of the member's Ready condition on Karmada.
func clusterReady(obj *unstructured.Unstructured) string {
	conditions, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conditions {
		if m, ok := c.(map[string]any); ok && m["type"] == "Ready" {
			s, _ := m["status"].(string)
			return s
		}
	}
	return string(metav1.ConditionUnknown)
}

// clusterTainted tells whether the member carries the taint with the NoExecute effect.
func clusterTainted(obj *unstructured.Unstructured, key string) bool {
	taints, _, _ := unstructured.NestedSlice(obj.Object, "spec", "taints")
	for _, t := range taints {
		if m, ok := t.(map[string]any); ok && m["key"] == key && m["effect"] == "NoExecute" {
			return true
		}
	}
	return false
}

// binding reads the ResourceBinding Karmada made for the app (named after the app and its kind).
func binding(key types.NamespacedName) (*unstructured.Unstructured, error) {
	obj := &unstructured.Unstructured{}
	obj.SetGroupVersionKind(resourceBindingGVK)
	err := karmada.Get(ctx, types.NamespacedName{Namespace: key.Namespace, Name: key.Name + "-highlyavailableapp"}, obj)
	return obj, err
}

// bindingClusters maps each cluster the binding places the app on to its replicas.
func bindingClusters(obj *unstructured.Unstructured) map[string]int64 {
	clusters, _, _ := unstructured.NestedSlice(obj.Object, "spec", "clusters")
	out := map[string]int64{}
	for _, c := range clusters {
		if m, ok := c.(map[string]any); ok {
			name, _ := m["name"].(string)
			replicas, _ := m["replicas"].(int64)
			out[name] = replicas
		}
	}
	return out
}

// rebalance asks Karmada to divide the app's replicas afresh (a WorkloadRebalancer): Karmada does not
// move replicas back to a member that returns by itself.
func rebalance(key types.NamespacedName) {
	GinkgoHelper()
	obj := &unstructured.Unstructured{Object: map[string]any{
		"spec": map[string]any{
			"workloads": []any{map[string]any{
				"apiVersion": appsv1alpha1.GroupVersion.String(),
				"kind":       "HighlyAvailableApp",
				"namespace":  key.Namespace,
				"name":       key.Name,
			}},
		},
	}}
	obj.SetGroupVersionKind(workloadRebalancerGVK)
	obj.SetName(key.Namespace + "-" + key.Name)
	Expect(karmada.Create(ctx, obj)).To(Succeed())
	DeferCleanup(func() { Expect(client.IgnoreNotFound(karmada.Delete(ctx, obj))).To(Succeed()) })
	Eventually(func(g Gomega) {
		g.Expect(karmada.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
		results, _, _ := unstructured.NestedSlice(obj.Object, "status", "observedWorkloads")
		g.Expect(results).To(HaveLen(1))
		result, _ := results[0].(map[string]any)
		g.Expect(result).To(HaveKeyWithValue("result", "Successful"), "WorkloadRebalancer status %v", obj.Object["status"])
	}).Should(Succeed())
}

// sampler calls a function at a fixed interval in the background and keeps the smallest value it
// returned: "ready pods never dropped below N" is checked on every sample, not at the end.
type sampler struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	min     int
	samples int
	errs    int
	lowest  string
	// reached is when a sample first reached target (zero while none has).
	target  int
	reached time.Time
}

// startSampling samples every interval until stop is called; target is the value whose first
// sample is timed.
func startSampling(interval time.Duration, target int, sample func(context.Context) (int, string, error)) *sampler {
	sctx, cancel := context.WithCancel(ctx)
	s := &sampler{cancel: cancel, done: make(chan struct{}), min: -1, target: target}
	go func() {
		defer GinkgoRecover()
		defer close(s.done)
		ticker := time.NewTicker(interval)
		defer ticker.Stop()
		for {
			v, detail, err := sample(sctx)
			now := time.Now()
			s.mu.Lock()
			switch {
			case sctx.Err() != nil:
			case err != nil:
				s.errs++
			default:
				s.samples++
				if s.min < 0 || v < s.min {
					s.min, s.lowest = v, detail
				}
				if v >= s.target && s.reached.IsZero() {
					s.reached = now
				}
			}
			s.mu.Unlock()
			select {
			case <-sctx.Done():
				return
			case <-ticker.C:
			}
		}
	}()
	return s
}

// reachedAt is when a sample first reached the target, zero while none has.
func (s *sampler) reachedAt() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reached
}

// stop ends the sampling and returns the smallest value seen, the number of samples and a
// description of the lowest sample.
func (s *sampler) stop() (minimum, samples int, lowest string) {
	s.cancel()
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.errs > 0 {
		_, _ = fmt.Fprintf(GinkgoWriter, "sampler: %d samples failed to read the cluster\n", s.errs)
	}
	return s.min, s.samples, s.lowest
}

// sampleReady samples the app's ready pods in a member, describing them for the failure message.
func sampleReady(c client.Client, key types.NamespacedName) func(context.Context) (int, string, error) {
	return func(ctx context.Context) (int, string, error) {
		n, names, err := readyPods(ctx, c, key)
		if err != nil {
			return 0, "", err
		}
		return n, fmt.Sprintf("at %s: %v", time.Now().Format(time.StampMilli), names), nil
	}
}

// sampleReadyEverywhere samples the app's ready pods in every member that answers.
func sampleReadyEverywhere(key types.NamespacedName) func(context.Context) (int, string, error) {
	return func(ctx context.Context) (int, string, error) {
		total := 0
		var details []string
		for _, name := range []string{member1, member2} {
			n, names, err := readyPods(ctx, members[name], key)
			if err != nil {
				return 0, "", err
			}
			total += n
			details = append(details, fmt.Sprintf("%s %v", name, names))
		}
		return total, fmt.Sprintf("at %s: %s", time.Now().Format(time.StampMilli), strings.Join(details, "; ")), nil
	}
}

// timeline records, in the background, each change of a state read at a fixed interval: what the
// aggregate went through during a failover, say.
type timeline struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	entries []timelineEntry
}

type timelineEntry struct {
	at    time.Time
	state string
}

// startTimeline reads the state every interval until stop is called; read errors are not recorded.
func startTimeline(interval time.Duration, read func() (string, error)) *timeline {
	tctx, cancel := context.WithCancel(ctx)
	t := &timeline{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer GinkgoRecover()
		defer close(t.done)
		ticker := time.NewTicker(interval)
		defer ticker.Stop()
		for {
			if state, err := read(); err == nil {
				t.mu.Lock()
				if n := len(t.entries); n == 0 || t.entries[n-1].state != state {
					t.entries = append(t.entries, timelineEntry{at: time.Now(), state: state})
				}
				t.mu.Unlock()
			}
			select {
			case <-tctx.Done():
				return
			case <-ticker.C:
			}
		}
	}()
	return t
}

// last is the state recorded last, empty while none is.
func (t *timeline) last() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.entries) == 0 {
		return ""
	}
	return t.entries[len(t.entries)-1].state
}

// stop ends the recording and returns the states, each with its time from since.
func (t *timeline) stop(since time.Time) []string {
	t.cancel()
	<-t.done
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]string, 0, len(t.entries))
	for _, e := range t.entries {
		out = append(out, fmt.Sprintf("%+.1f s: %s", e.at.Sub(since).Seconds(), e.state))
	}
	return out
}

// aggregateState is the aggregate's Ready and HighlyAvailable conditions, ready pods and clusters,
// in one line.
func aggregateState(key types.NamespacedName) func() (string, error) {
	return func() (string, error) {
		app, err := getApp(karmada, key)
		if err != nil {
			return "", err
		}
		ready := condition(app, appsv1alpha1.ConditionReady)
		ha := condition(app, appsv1alpha1.ConditionHighlyAvailable)
		clusters := fmt.Sprintf("%d clusters", app.Status.Clusters)
		if app.Status.Clusters == 1 {
			clusters = "1 cluster"
		}
		return fmt.Sprintf("Ready=%s (%s), HighlyAvailable=%s (%s), %d/%d ready in %s, %s",
			ready.Status, ready.Reason, ha.Status, ha.Reason, app.Status.ReadyReplicas, app.Status.Replicas,
			clusters, app.Status.Resilience), nil
	}
}
