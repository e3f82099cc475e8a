//go:build e2e

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

package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// zoneLabel is the well-known label of a node's zone.
const zoneLabel = "topology.kubernetes.io/zone"

// Images of the nginx sample's story. missingImage has a tag that does not exist: the local cluster fails
// to pull it (hack/cluster/README.md lists the images it treats so).
const (
	imageV1      = "nginx:1.7.9"
	imageV2      = "nginx:1.9.1"
	missingImage = "nginx:1.91"
	// crashLoopAnnotation on a pod makes the local cluster crash-loop its containers.
	crashLoopAnnotation = "simulate.haoperator.dev/crash-loop"
)

// specNamespaces are the namespaces of the running spec, dumped when it fails.
var specNamespaces []string

var _ = AfterEach(func() {
	// AfterEach runs before the spec's DeferCleanup callbacks: the state is dumped as the failure left it.
	if CurrentSpecReport().Failed() {
		for _, ns := range specNamespaces {
			dumpNamespace(ns)
			_, _ = fmt.Fprintf(GinkgoWriter,
				"\n===== operator logs on %s, reconciles left out (last 200 lines of each) =====\n%s",
				ns, operatorLogOf(ns, 200))
		}
		_, _ = fmt.Fprintf(GinkgoWriter, "\n===== operator log (last 150 lines) =====\n%s\n", operatorLogTail(150))
	}
	specNamespaces = nil
})

// testNamespace creates a namespace of its own for the spec, deleted when the spec ends.
func testNamespace(prefix string) string {
	GinkgoHelper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "e2e-" + prefix + "-"}}
	Expect(k8s.Create(ctx, ns)).To(Succeed())
	specNamespaces = append(specNamespaces, ns.Name)
	DeferCleanup(func() {
		Expect(client.IgnoreNotFound(k8s.Delete(ctx, ns))).To(Succeed())
	})
	// The ServiceAccount admission plugin refuses pods until the namespace's default account exists.
	Eventually(func() error {
		return k8s.Get(ctx, types.NamespacedName{Namespace: ns.Name, Name: "default"}, &corev1.ServiceAccount{})
	}).Should(Succeed())
	return ns.Name
}

// dumpNamespace writes what a person debugging a failure looks at first.
func dumpNamespace(ns string) {
	for _, args := range [][]string{
		{"get", "haapp,deploy,sts,rs,pods,svc,pdb,pvc,controllerrevisions", "-o", "wide", "-n", ns},
		{"get", "haapp", "-o", "yaml", "-n", ns},
		{"get", "events", "--sort-by", ".lastTimestamp", "-n", ns},
		{"get", "nodes", "-L", zoneLabel},
	} {
		out, err := kubectlOutput(args...)
		_, _ = fmt.Fprintf(GinkgoWriter, "\n===== kubectl %s (%v) =====\n%s", strings.Join(args, " "), err, out)
	}
}

// statelessApp is the nginx sample: replicas of one container serving port 80.
func statelessApp(ns, name, image string, replicas int32) *appsv1alpha1.HighlyAvailableApp {
	return &appsv1alpha1.HighlyAvailableApp{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1alpha1.HighlyAvailableAppSpec{
			Type:     appsv1alpha1.Stateless,
			Replicas: new(replicas),
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
	app := statelessApp(ns, name, image, replicas)
	app.Spec.Type = appsv1alpha1.Stateful
	app.Spec.Template.Spec.Containers[0].Ports = []corev1.ContainerPort{{Name: "cql", ContainerPort: 9042}}
	app.Spec.Storage = []appsv1alpha1.StorageSpec{{
		Name:      "data",
		MountPath: "/data",
		Size:      resource.MustParse("1Gi"),
	}}
	return app
}

// createApp creates the app and waits until it is Ready on the revision its spec asks for.
func createApp(app *appsv1alpha1.HighlyAvailableApp) *appsv1alpha1.HighlyAvailableApp {
	GinkgoHelper()
	Expect(k8s.Create(ctx, app)).To(Succeed())
	return waitSettled(client.ObjectKeyFromObject(app))
}

func getApp(key types.NamespacedName) *appsv1alpha1.HighlyAvailableApp {
	GinkgoHelper()
	app := &appsv1alpha1.HighlyAvailableApp{}
	Expect(k8s.Get(ctx, key, app)).To(Succeed())
	return app
}

// conditionStatus is the status of the app's condition, Unknown when it is missing.
func conditionStatus(app *appsv1alpha1.HighlyAvailableApp, conditionType string) metav1.ConditionStatus {
	if c := meta.FindStatusCondition(app.Status.Conditions, conditionType); c != nil {
		return c.Status
	}
	return metav1.ConditionUnknown
}

// waitSettled waits until the operator has seen the app's latest spec and reports it Ready, with the
// revision the spec asks for serving (the kstatus "Current" state).
func waitSettled(key types.NamespacedName) *appsv1alpha1.HighlyAvailableApp {
	GinkgoHelper()
	app := &appsv1alpha1.HighlyAvailableApp{}
	Eventually(func(g Gomega) {
		g.Expect(k8s.Get(ctx, key, app)).To(Succeed())
		g.Expect(app.Status.ObservedGeneration).To(Equal(app.Generation), "observedGeneration")
		ready := meta.FindStatusCondition(app.Status.Conditions, appsv1alpha1.ConditionReady)
		g.Expect(ready).NotTo(BeNil(), "Ready condition")
		g.Expect(ready.Status).To(Equal(metav1.ConditionTrue), "Ready: %s: %s", ready.Reason, ready.Message)
		g.Expect(app.Status.CurrentRevision).To(Equal(app.Status.UpdateRevision), "currentRevision")
		g.Expect(conditionStatus(app, appsv1alpha1.ConditionReconciling)).NotTo(Equal(metav1.ConditionTrue))
	}).WithTimeout(2 * time.Minute).Should(Succeed())
	return app
}

// updateApp changes the app's spec with a merge patch, as `kubectl patch` does.
func updateApp(
	key types.NamespacedName, change func(*appsv1alpha1.HighlyAvailableApp),
) *appsv1alpha1.HighlyAvailableApp {
	GinkgoHelper()
	app := getApp(key)
	base := app.DeepCopy()
	change(app)
	Expect(k8s.Patch(ctx, app, client.MergeFrom(base))).To(Succeed())
	return app
}

func setImage(key types.NamespacedName, image string) *appsv1alpha1.HighlyAvailableApp {
	GinkgoHelper()
	return updateApp(key, func(app *appsv1alpha1.HighlyAvailableApp) {
		app.Spec.Template.Spec.Containers[0].Image = image
	})
}

// appPods lists the app's pods, terminating ones included.
func appPods(ctx context.Context, key types.NamespacedName) ([]corev1.Pod, error) {
	pods := &corev1.PodList{}
	err := k8s.List(ctx, pods, client.InNamespace(key.Namespace),
		client.MatchingLabels{appsv1alpha1.LabelInstance: key.Name})
	return pods.Items, err
}

// serving tells whether a pod serves traffic: running, Ready and not shutting down.
func serving(pod *corev1.Pod) bool {
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

// servingPods lists the app's pods that serve traffic.
func servingPods(ctx context.Context, key types.NamespacedName) ([]corev1.Pod, error) {
	pods, err := appPods(ctx, key)
	if err != nil {
		return nil, err
	}
	var out []corev1.Pod
	for i := range pods {
		if serving(&pods[i]) {
			out = append(out, pods[i])
		}
	}
	return out, nil
}

func countServing(ctx context.Context, key types.NamespacedName) (int, error) {
	pods, err := servingPods(ctx, key)
	return len(pods), err
}

// images lists the distinct images of the pods' first containers, sorted.
func images(pods []corev1.Pod) []string {
	set := map[string]bool{}
	for _, p := range pods {
		set[p.Spec.Containers[0].Image] = true
	}
	out := make([]string, 0, len(set))
	for image := range set {
		out = append(out, image)
	}
	slices.Sort(out)
	return out
}

// nodeZones maps every node to its zone.
func nodeZones() map[string]string {
	GinkgoHelper()
	nodes := &corev1.NodeList{}
	Expect(k8s.List(ctx, nodes)).To(Succeed())
	zones := map[string]string{}
	for _, n := range nodes.Items {
		zones[n.Name] = n.Labels[zoneLabel]
	}
	return zones
}

// sampler calls a function at a fixed interval in the background and keeps the smallest value it
// returned: "ready replicas never dropped below N" is checked on every sample, not at the end.
type sampler struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	min     int
	samples int
	errs    int
	lowest  string
}

// startSampling samples every interval until stop is called.
func startSampling(interval time.Duration, sample func(context.Context) (int, string, error)) *sampler {
	sctx, cancel := context.WithCancel(ctx)
	s := &sampler{cancel: cancel, done: make(chan struct{}), min: -1}
	go func() {
		defer GinkgoRecover()
		defer close(s.done)
		ticker := time.NewTicker(interval)
		defer ticker.Stop()
		for {
			v, detail, err := sample(sctx)
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

// sampleServing samples the app's serving pods, describing them for the failure message.
func sampleServing(key types.NamespacedName) func(context.Context) (int, string, error) {
	return func(ctx context.Context) (int, string, error) {
		pods, err := servingPods(ctx, key)
		if err != nil {
			return 0, "", err
		}
		names := make([]string, 0, len(pods))
		for _, p := range pods {
			names = append(names, p.Name+"("+p.Spec.Containers[0].Image+")")
		}
		return len(pods), fmt.Sprintf("at %s: %v", time.Now().Format(time.StampMilli), names), nil
	}
}
