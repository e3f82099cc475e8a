//go:build traffic

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

package traffic

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

const (
	// replicas: three, over the two real nodes in their two zones.
	replicas = 3
	// realNodeTaint keeps every pod but the scenarios' off the real nodes (see cluster.sh).
	realNodeTaint = "haoperator.dev/real-node"
	// badTag is never imported: with imagePullPolicy Never its pods fail with ErrImageNeverPull, as
	// nginx:1.91 fails to pull.
	badTag = "does-not-exist"
)

// imageTags are the test app's images: v1 to start with, then three rolling updates.
var imageTags = []string{"v1", "v2", "v3", "v4"}

func image(tag string) string { return "ha-operator.local/traffic-app:" + tag }

// podSpec is the nginx sample's container (nginx, port 80) running the test app, placed on the real nodes:
// they are tainted, so it tolerates the taint and selects them. Images are imported, never pulled.
func podSpec(tag string) corev1.PodSpec {
	return corev1.PodSpec{
		NodeSelector: map[string]string{"type": "real"},
		Tolerations: []corev1.Toleration{{
			Key: realNodeTaint, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule,
		}},
		Containers: []corev1.Container{{
			Name:            "nginx",
			Image:           image(tag),
			ImagePullPolicy: corev1.PullNever,
			Ports:           []corev1.ContainerPort{{ContainerPort: 80}},
		}},
	}
}

// appKind is one way of running the app: a plain Deployment + Service, or a
// HighlyAvailableApp. Each method acts as a user of that kind would, and waits for the outcome.
type appKind struct {
	// title names the kind in the report.
	title string
	// name is the app's (and its Service's) name.
	name string
	// create creates the app on image tag and waits until it serves.
	create func(ns, tag string)
	// update moves the app to image tag and waits until the rollout is over.
	update func(ns, tag string)
	// breakAndRecover sets an image that cannot run, and waits until the app runs tag again: the
	// operator rolls a HighlyAvailableApp back by itself; a person undoes the Deployment's rollout.
	breakAndRecover func(ns, tag string)
}

var plainDeployment = appKind{
	title: "Deployment + Service",
	name:  "nginx-deployment",
	create: func(ns, tag string) {
		GinkgoHelper()
		const name = "nginx-deployment"
		labels := map[string]string{"app": name}
		// The plain objects, in apps/v1 (apps/v1beta1 is gone, and apps/v1 wants the selector).
		// The plain Service targets port 9376, where nothing listens; it targets the container's 80.
		Expect(k8s.Create(ctx, &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: appsv1.DeploymentSpec{
				Replicas: new(int32(replicas)),
				Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: podSpec(tag)},
			},
		})).To(Succeed())
		Expect(k8s.Create(ctx, &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: corev1.ServiceSpec{
				Selector: labels,
				Ports:    []corev1.ServicePort{{Protocol: corev1.ProtocolTCP, Port: 80, TargetPort: intstr.FromInt32(80)}},
			},
		})).To(Succeed())
		kubectl("-n", ns, "rollout", "status", "deployment/"+name, "--timeout", "2m")
		waitPods(ns, name, tag)
	},
	update: func(ns, tag string) {
		GinkgoHelper()
		kubectl("-n", ns, "set", "image", "deployment/nginx-deployment", "nginx="+image(tag))
		kubectl("-n", ns, "rollout", "status", "deployment/nginx-deployment", "--timeout", "2m")
		waitPods(ns, "nginx-deployment", tag)
	},
	breakAndRecover: func(ns, tag string) {
		GinkgoHelper()
		kubectl("-n", ns, "set", "image", "deployment/nginx-deployment", "nginx="+image(badTag))
		By("waiting for a new pod to fail, then undoing the rollout as a person would")
		Eventually(func(g Gomega) {
			g.Expect(waitingReasons(ns, "nginx-deployment")).To(ContainElement("ErrImageNeverPull"))
		}).Should(Succeed())
		kubectl("-n", ns, "rollout", "undo", "deployment/nginx-deployment")
		kubectl("-n", ns, "rollout", "status", "deployment/nginx-deployment", "--timeout", "2m")
		waitPods(ns, "nginx-deployment", tag)
	},
}

var highlyAvailableApp = appKind{
	title: "HighlyAvailableApp",
	name:  "nginx",
	create: func(ns, tag string) {
		GinkgoHelper()
		Expect(k8s.Create(ctx, &appsv1alpha1.HighlyAvailableApp{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "nginx"},
			Spec: appsv1alpha1.HighlyAvailableAppSpec{
				Type:     appsv1alpha1.Stateless,
				Replicas: new(int32(replicas)),
				// The least the operator allows: a lost node's pods leave the endpoints soonest.
				Availability: &appsv1alpha1.AvailabilitySpec{NodeLossSeconds: new(nodeLossSeconds())},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "nginx"}},
					Spec:       podSpec(tag),
				},
			},
		})).To(Succeed())
		waitHighlyAvailable(ns, tag)
	},
	update: func(ns, tag string) {
		GinkgoHelper()
		setAppImage(ns, tag)
		waitHighlyAvailable(ns, tag)
	},
	breakAndRecover: func(ns, tag string) {
		GinkgoHelper()
		generation := setAppImage(ns, badTag)
		By("waiting for the operator to roll the update back by itself")
		key := types.NamespacedName{Namespace: ns, Name: "nginx"}
		Eventually(func(g Gomega) {
			app := &appsv1alpha1.HighlyAvailableApp{}
			g.Expect(k8s.Get(ctx, key, app)).To(Succeed())
			g.Expect(app.Status.ObservedGeneration).To(BeNumerically(">=", generation))
			stalled := meta.FindStatusCondition(app.Status.Conditions, appsv1alpha1.ConditionStalled)
			g.Expect(stalled).NotTo(BeNil(), "Stalled condition")
			g.Expect(stalled.Reason).To(Equal(appsv1alpha1.ReasonRolledBack))
			deployment := &appsv1.Deployment{}
			g.Expect(k8s.Get(ctx, key, deployment)).To(Succeed())
			g.Expect(deployment.Spec.Template.Spec.Containers[0].Image).To(Equal(image(tag)))
		}).Should(Succeed())
		kubectl("-n", ns, "rollout", "status", "deployment/nginx", "--timeout", "2m")
		waitPods(ns, "nginx", tag)
	},
}

// setAppImage changes the HighlyAvailableApp's image, as `kubectl patch` would; it returns the new
// generation.
func setAppImage(ns, tag string) int64 {
	GinkgoHelper()
	app := &appsv1alpha1.HighlyAvailableApp{}
	Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "nginx"}, app)).To(Succeed())
	base := app.DeepCopy()
	app.Spec.Template.Spec.Containers[0].Image = image(tag)
	Expect(k8s.Patch(ctx, app, client.MergeFrom(base))).To(Succeed())
	return app.Generation
}

// waitHighlyAvailable waits until the operator has put image tag in the app's Deployment, the rollout
// is over and only pods of tag are left, and the app reports it: Ready on the revision its spec asks
// for (what `kubectl wait --for=condition=Ready` waits for, and what the operator needs before it
// can roll a later update back to this revision).
func waitHighlyAvailable(ns, tag string) {
	GinkgoHelper()
	key := types.NamespacedName{Namespace: ns, Name: "nginx"}
	Eventually(func(g Gomega) {
		deployment := &appsv1.Deployment{}
		g.Expect(k8s.Get(ctx, key, deployment)).To(Succeed())
		g.Expect(deployment.Spec.Template.Spec.Containers[0].Image).To(Equal(image(tag)))
	}).Should(Succeed())
	kubectl("-n", ns, "rollout", "status", "deployment/nginx", "--timeout", "2m")
	waitPods(ns, "nginx", tag)
	Eventually(func(g Gomega) {
		app := &appsv1alpha1.HighlyAvailableApp{}
		g.Expect(k8s.Get(ctx, key, app)).To(Succeed())
		g.Expect(app.Status.ObservedGeneration).To(Equal(app.Generation), "observedGeneration")
		ready := meta.FindStatusCondition(app.Status.Conditions, appsv1alpha1.ConditionReady)
		g.Expect(ready).NotTo(BeNil(), "Ready condition")
		g.Expect(ready.Status).To(Equal(metav1.ConditionTrue), "Ready: %s: %s", ready.Reason, ready.Message)
		g.Expect(app.Status.CurrentRevision).To(Equal(app.Status.UpdateRevision), "currentRevision")
	}).Should(Succeed())
}

// appPods lists the app's pods (label app=NAME), terminating ones included.
func appPods(ns, name string) ([]corev1.Pod, error) {
	pods := &corev1.PodList{}
	err := k8s.List(ctx, pods, client.InNamespace(ns), client.MatchingLabels{"app": name})
	return pods.Items, err
}

// serving tells whether a pod is Running, Ready and not terminating.
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

// waitPods waits until the app has exactly its replicas, all serving image tag: the pods of earlier
// images have finished terminating.
func waitPods(ns, name, tag string) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		pods, err := appPods(ns, name)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(pods).To(HaveLen(replicas), "pods: %s", describePods(pods))
		for i := range pods {
			g.Expect(serving(&pods[i])).To(BeTrue(), "pods: %s", describePods(pods))
			g.Expect(pods[i].Spec.Containers[0].Image).To(Equal(image(tag)), "pods: %s", describePods(pods))
		}
	}).Should(Succeed())
}

// waitingReasons are the reasons the app's containers are waiting for.
func waitingReasons(ns, name string) []string {
	GinkgoHelper()
	pods, err := appPods(ns, name)
	Expect(err).NotTo(HaveOccurred())
	var reasons []string
	for _, p := range pods {
		for _, st := range p.Status.ContainerStatuses {
			if st.State.Waiting != nil {
				reasons = append(reasons, st.State.Waiting.Reason)
			}
		}
	}
	return reasons
}

// podsPerNode counts the app's serving pods by node.
func podsPerNode(ns, name string) map[string]int {
	GinkgoHelper()
	pods, err := appPods(ns, name)
	Expect(err).NotTo(HaveOccurred())
	counts := map[string]int{}
	for i := range pods {
		if serving(&pods[i]) {
			counts[pods[i].Spec.NodeName]++
		}
	}
	return counts
}

// busiestNode is the real node that runs most of the app's serving pods.
func busiestNode(ns, name string) string {
	GinkgoHelper()
	counts := podsPerNode(ns, name)
	nodes := slices.Clone(realNodes)
	slices.SortStableFunc(nodes, func(a, b string) int { return counts[b] - counts[a] })
	Expect(counts[nodes[0]]).To(BeNumerically(">", 0), "the app runs on no real node: %v", counts)
	return nodes[0]
}

func describePods(pods []corev1.Pod) string {
	parts := make([]string, 0, len(pods))
	for i := range pods {
		p := &pods[i]
		state := string(p.Status.Phase)
		if p.DeletionTimestamp != nil {
			state = "Terminating"
		} else if serving(p) {
			state = "Serving"
		}
		tag := p.Spec.Containers[0].Image[strings.LastIndex(p.Spec.Containers[0].Image, ":")+1:]
		parts = append(parts, fmt.Sprintf("%s(%s %s on %s)", p.Name, tag, state, p.Spec.NodeName))
	}
	return strings.Join(parts, ", ")
}

// serviceURL is the address of the app's Service, on its ClusterIP, and that ClusterIP.
func serviceURL(ns, name string) (url, clusterIP string) {
	GinkgoHelper()
	svc := &corev1.Service{}
	Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, svc)).To(Succeed())
	Expect(svc.Spec.ClusterIP).NotTo(BeEmpty())
	port := int32(80)
	if len(svc.Spec.Ports) > 0 {
		port = svc.Spec.Ports[0].Port
	}
	return "http://" + svc.Spec.ClusterIP + ":" + strconv.Itoa(int(port)) + "/", svc.Spec.ClusterIP
}

// waitGone waits until a namespace (and so every pod in it) is gone.
func waitGone(ns string) {
	GinkgoHelper()
	Eventually(func() bool {
		err := k8s.Get(ctx, types.NamespacedName{Name: ns}, &corev1.Namespace{})
		return client.IgnoreNotFound(err) == nil && err != nil
	}).WithTimeout(3*time.Minute).Should(BeTrue(), "namespace %s still there", ns)
}
