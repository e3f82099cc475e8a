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

package controller

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

func resourceMust(s string) resource.Quantity { return resource.MustParse(s) }

func isAlreadyExists(err error) bool { return apierrors.IsAlreadyExists(err) }

func isConflict(err error) bool { return apierrors.IsConflict(err) }

var _ = Describe("A Stateless HighlyAvailableApp", func() {
	var (
		ns  string
		key client.ObjectKey
		app *appsv1alpha1.HighlyAvailableApp
	)
	BeforeEach(func() {
		ns = newNamespace()
		app = nginx(ns, "web")
		key = client.ObjectKeyFromObject(app)
	})

	It("becomes a Deployment, a Service and a PodDisruptionBudget owned by the app, with HA defaults", func() {
		Expect(k8sClient.Create(ctx, app)).To(Succeed())
		app = getApp(key)
		d := deployment(key)

		By("owning everything it generates")
		svc := &corev1.Service{}
		pdb := &policyv1.PodDisruptionBudget{}
		Eventually(func() error { return k8sClient.Get(ctx, key, svc) }, timeout, poll).Should(Succeed())
		Eventually(func() error { return k8sClient.Get(ctx, key, pdb) }, timeout, poll).Should(Succeed())
		for _, obj := range []client.Object{d, svc, pdb} {
			Expect(metav1.IsControlledBy(obj, app)).To(BeTrue(), "%T %s is not controlled by the app", obj, obj.GetName())
			Expect(obj.GetLabels()).To(HaveKeyWithValue(appsv1alpha1.LabelManagedBy, "ha-operator"))
			Expect(obj.GetLabels()).To(HaveKeyWithValue(appsv1alpha1.LabelInstance, "web"))
		}

		By("applying the HA defaults to the Deployment")
		Expect(*d.Spec.Replicas).To(Equal(int32(3)))
		Expect(d.Spec.Strategy.RollingUpdate.MaxUnavailable.IntValue()).To(Equal(0))
		Expect(d.Spec.Strategy.RollingUpdate.MaxSurge.String()).To(Equal("25%"))
		tpl := d.Spec.Template
		Expect(tpl.Labels).To(HaveKeyWithValue("tier", "frontend"))
		Expect(tpl.Spec.TopologySpreadConstraints).To(HaveLen(2))
		Expect(tpl.Spec.TopologySpreadConstraints[0].TopologyKey).To(Equal(corev1.LabelTopologyZone))
		Expect(tpl.Spec.TopologySpreadConstraints[0].WhenUnsatisfiable).To(Equal(corev1.ScheduleAnyway))
		Expect(tpl.Spec.TopologySpreadConstraints[1].TopologyKey).To(Equal(corev1.LabelHostname))
		Expect(tpl.Spec.Containers[0].Lifecycle.PreStop.Sleep.Seconds).To(Equal(int64(5)))
		Expect(*tpl.Spec.TerminationGracePeriodSeconds).To(Equal(int64(35)))

		By("serving port 80 and, since a drain surges replacements first, keeping every replica through evictions")
		Expect(svc.Spec.Type).To(Equal(corev1.ServiceTypeClusterIP))
		Expect(svc.Spec.Ports).To(HaveLen(1))
		Expect(svc.Spec.Ports[0].Port).To(Equal(int32(80)))
		Expect(pdb.Spec.MinAvailable.IntValue()).To(Equal(3))
		Expect(pdb.Spec.MaxUnavailable).To(BeNil())

		By("reporting Ready once every replica is available, with observedGeneration current")
		Eventually(func(g Gomega) {
			a := getApp(key)
			g.Expect(condition(a, appsv1alpha1.ConditionReconciling).Status).To(Equal(metav1.ConditionTrue))
		}, timeout, poll).Should(Succeed())
		node("web-node-a", "zone-a")
		node("web-node-b", "zone-b")
		node("web-node-c", "zone-c")
		hash := templateHash(d.Spec.Template)
		pod(app, "web-1", hash, "web-node-a", true, "")
		pod(app, "web-2", hash, "web-node-b", true, "")
		pod(app, "web-3", hash, "web-node-c", true, "")
		settleDeployment(key)
		Eventually(func(g Gomega) {
			a := getApp(key)
			g.Expect(a.Status.ObservedGeneration).To(Equal(a.Generation))
			g.Expect(condition(a, appsv1alpha1.ConditionReady).Status).To(Equal(metav1.ConditionTrue))
			g.Expect(condition(a, appsv1alpha1.ConditionReady).Reason).To(Equal(appsv1alpha1.ReasonRolloutComplete))
			g.Expect(condition(a, appsv1alpha1.ConditionReconciling).Status).To(Equal(metav1.ConditionFalse))
			g.Expect(condition(a, appsv1alpha1.ConditionStalled).Status).To(Equal(metav1.ConditionFalse))
			g.Expect(condition(a, appsv1alpha1.ConditionAvailable).Status).To(Equal(metav1.ConditionTrue))
			g.Expect(condition(a, appsv1alpha1.ConditionHighlyAvailable).Status).To(Equal(metav1.ConditionTrue))
			g.Expect(a.Status.Resilience).To(Equal(appsv1alpha1.ZoneRedundant))
			g.Expect(a.Status.Zones).To(Equal(int32(3)))
			g.Expect(a.Status.Nodes).To(Equal(int32(3)))
			g.Expect(a.Status.ReadySummary).To(Equal("3/3"))
			g.Expect(a.Status.Workload).To(Equal(&appsv1alpha1.WorkloadReference{Kind: "Deployment", Name: "web"}))
			g.Expect(a.Status.Service).To(Equal("web"))
			g.Expect(a.Status.CurrentRevision).To(Equal(int64(1)))
		}, timeout, poll).Should(Succeed())

		By("announcing the rollout's completion, with no availability Event while the new app's pods were starting")
		Eventually(func() []string { return eventReasons(ns) }, timeout, poll).Should(ContainElement(appsv1alpha1.ReasonRolloutComplete))
		Expect(eventReasons(ns)).NotTo(ContainElement(appsv1alpha1.ReasonNotHighlyAvailable))
		Expect(eventReasons(ns)).NotTo(ContainElement(appsv1alpha1.ReasonHighlyAvailable))

		By("writing nothing once settled")
		before := writesSettle(ns)
		// A change that asks nothing of the operator still wakes it up.
		updateApp(key, func(a *appsv1alpha1.HighlyAvailableApp) { a.Annotations = map[string]string{"team": "shop"} })
		Consistently(func() int64 { return writes.in(ns) }, 3*time.Second, 200*time.Millisecond).Should(Equal(before))
	})

	It("follows a new image, brings back a deleted Service and scales through the scale subresource", func() {
		Expect(k8sClient.Create(ctx, app)).To(Succeed())
		d := deployment(key)

		By("following a new image")
		updateApp(key, func(a *appsv1alpha1.HighlyAvailableApp) { a.Spec.Template.Spec.Containers[0].Image = "nginx:1.9.1" })
		Eventually(func() string {
			return deployment(key).Spec.Template.Spec.Containers[0].Image
		}, timeout, poll).Should(Equal("nginx:1.9.1"))
		Expect(templateHash(deployment(key).Spec.Template)).NotTo(Equal(templateHash(d.Spec.Template)))

		By("bringing back a deleted Service")
		svc := &corev1.Service{}
		Eventually(func() error { return k8sClient.Get(ctx, key, svc) }, timeout, poll).Should(Succeed())
		Expect(k8sClient.Delete(ctx, svc)).To(Succeed())
		Eventually(func() types.UID {
			s := &corev1.Service{}
			if err := k8sClient.Get(ctx, key, s); err != nil {
				return ""
			}
			return s.UID
		}, timeout, poll).ShouldNot(Or(BeEmpty(), Equal(svc.UID)))

		By("scaling with the scale subresource")
		scale := &autoscalingv1.Scale{Spec: autoscalingv1.ScaleSpec{Replicas: 5}}
		Eventually(func() error {
			return k8sClient.SubResource("scale").Update(ctx, getApp(key), client.WithSubResourceBody(scale))
		}, timeout, poll).Should(Succeed())
		Expect(*getApp(key).Spec.Replicas).To(Equal(int32(5)))
		Eventually(func() int32 { return *deployment(key).Spec.Replicas }, timeout, poll).Should(Equal(int32(5)))
		Eventually(func() string { return getApp(key).Status.Selector }, timeout, poll).
			Should(Equal("app.kubernetes.io/instance=web,app.kubernetes.io/name=web"))
	})

	It("leaves replicas to a HorizontalPodAutoscaler and drops the budget at one replica", func() {
		app.Spec.Autoscaling = &appsv1alpha1.AutoscalingSpec{MinReplicas: ptr.To[int32](3), MaxReplicas: 10}
		Expect(k8sClient.Create(ctx, app)).To(Succeed())
		hpa := &autoscalingv2.HorizontalPodAutoscaler{}
		Eventually(func() error { return k8sClient.Get(ctx, key, hpa) }, timeout, poll).Should(Succeed())
		Expect(hpa.Spec.ScaleTargetRef.Name).To(Equal("web"))
		Expect(hpa.Spec.MaxReplicas).To(Equal(int32(10)))
		Expect(*hpa.Spec.Metrics[0].Resource.Target.AverageUtilization).To(Equal(int32(80)))
		// The workload starts at the autoscaler's minimum, a count handed over to another field
		// manager: the operator's own apply leaves replicas to the autoscaler.
		Expect(deployment(key).Spec.Replicas).To(Equal(ptr.To[int32](3)))

		By("removing the autoscaler and going to one replica")
		updateApp(key, func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Autoscaling = nil
			a.Spec.Replicas = ptr.To[int32](1)
		})
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, key, &autoscalingv2.HorizontalPodAutoscaler{}))
		}, timeout, poll).Should(BeTrue())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, key, &policyv1.PodDisruptionBudget{}))
		}, timeout, poll).Should(BeTrue())
		Eventually(func(g Gomega) {
			a := getApp(key)
			g.Expect(condition(a, appsv1alpha1.ConditionHighlyAvailable).Reason).To(Equal(appsv1alpha1.ReasonSingleReplica))
			g.Expect(eventReasons(ns)).To(ContainElement(appsv1alpha1.ReasonNotHighlyAvailable))
		}, timeout, poll).Should(Succeed())
	})

	It("names every object it created in one Event, with the revision it started", func() {
		Expect(k8sClient.Create(ctx, app)).To(Succeed())
		// Events of one reason and action on one app form a series that keeps the first message: one
		// Event per reconcile names them all.
		Eventually(func() []string { return eventMessages(ns, app.Name, appsv1alpha1.ReasonCreated) }, timeout, poll).
			Should(ConsistOf(And(HavePrefix("created Deployment web, PodDisruptionBudget web, Service web for revision 1 ("),
				HaveSuffix("): nginx=nginx:1.7.9"))))
		Expect(eventReasons(ns)).NotTo(ContainElement(appsv1alpha1.ReasonRolloutStarted))
	})

	It("turns the API server's warnings about its objects into Events on the app", func() {
		nsObj := &corev1.Namespace{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Name: ns}, nsObj)).To(Succeed())
		nsObj.Labels["pod-security.kubernetes.io/warn"] = "restricted"
		Expect(k8sClient.Update(ctx, nsObj)).To(Succeed())
		Expect(k8sClient.Create(ctx, app)).To(Succeed())
		Eventually(func() []string { return eventMessages(ns, app.Name, appsv1alpha1.ReasonAPIWarning) }, timeout, poll).
			Should(ContainElement(ContainSubstring("PodSecurity")))
	})

	It("keeps the user's own spread, preStop hook and grace period", func() {
		app.Spec.Template.Spec.TerminationGracePeriodSeconds = ptr.To[int64](120)
		app.Spec.Template.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{MaxSkew: 2,
			TopologyKey: "rack", WhenUnsatisfiable: corev1.DoNotSchedule,
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "frontend"}}}}
		app.Spec.Template.Spec.Containers[0].Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{
			Exec: &corev1.ExecAction{Command: []string{"nginx", "-s", "quit"}}}}
		Expect(k8sClient.Create(ctx, app)).To(Succeed())
		spec := deployment(key).Spec.Template.Spec
		Expect(*spec.TerminationGracePeriodSeconds).To(Equal(int64(120)))
		Expect(spec.TopologySpreadConstraints).To(HaveLen(1))
		Expect(spec.TopologySpreadConstraints[0].TopologyKey).To(Equal("rack"))
		Expect(spec.Containers[0].Lifecycle.PreStop.Exec.Command).To(Equal([]string{"nginx", "-s", "quit"}))
		Expect(spec.Containers[0].Lifecycle.PreStop.Sleep).To(BeNil())
	})

	It("leaves an unowned Deployment of the same name untouched and reports the conflict", func() {
		theirs := &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns, Labels: map[string]string{"owner": "someone-else"}},
			Spec: appsv1.DeploymentSpec{
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "theirs"}},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "theirs"}},
					Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox:1"}}},
				},
			},
		}
		Expect(k8sClient.Create(ctx, theirs)).To(Succeed())
		Expect(k8sClient.Get(ctx, key, theirs)).To(Succeed())
		Expect(k8sClient.Create(ctx, app)).To(Succeed())
		Eventually(func(g Gomega) {
			a := getApp(key)
			ready := condition(a, appsv1alpha1.ConditionReady)
			g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(ready.Reason).To(Equal(appsv1alpha1.ReasonConflict))
			g.Expect(ready.Message).To(ContainSubstring("Deployment web already exists"))
			g.Expect(condition(a, appsv1alpha1.ConditionStalled).Status).To(Equal(metav1.ConditionTrue))
		}, timeout, poll).Should(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(eventReasons(ns)).To(ContainElement(appsv1alpha1.ReasonConflict))
		}, timeout, poll).Should(Succeed())
		after := &appsv1.Deployment{}
		Expect(k8sClient.Get(ctx, key, after)).To(Succeed())
		Expect(after.ResourceVersion).To(Equal(theirs.ResourceVersion))
		Expect(after.OwnerReferences).To(BeEmpty())
		Expect(after.Spec.Template.Spec.Containers[0].Image).To(Equal("busybox:1"))
		// The Service and the budget, which nobody else owns, are still made.
		Eventually(func() error { return k8sClient.Get(ctx, key, &corev1.Service{}) }, timeout, poll).Should(Succeed())
	})
})
