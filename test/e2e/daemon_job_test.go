//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// jobAnnotation on a Job's pod template makes the local cluster end its pods otherwise than by
// completing: "fail" (exit code 1) or "run-forever" (hack/cluster/stages/pod-complete.yaml).
const jobAnnotation = "simulate.haoperator.dev/job"

// daemonApp is a node agent: one container serving metrics on 9100, on every node.
func daemonApp(ns, name, image string) *appsv1alpha1.HighlyAvailableApp {
	app := statelessApp(ns, name, image, 0)
	app.Spec.Type, app.Spec.Replicas = appsv1alpha1.Daemon, nil
	app.Spec.Template.Spec.Containers[0].Ports = []corev1.ContainerPort{{Name: "metrics", ContainerPort: 9100}}
	return app
}

// piApp is the pi sample (config/samples/apps_v1alpha1_highlyavailableapp_pi.yaml).
func piApp(ns, name string) *appsv1alpha1.HighlyAvailableApp {
	return &appsv1alpha1.HighlyAvailableApp{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1alpha1.HighlyAvailableAppSpec{
			Type: appsv1alpha1.Job,
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				RestartPolicy: corev1.RestartPolicyNever,
				Containers: []corev1.Container{{Name: "pi", Image: "perl", Command: []string{"perl"},
					Args: []string{"-Mbignum=bpi", "-wle", "print bpi(2000)"}}},
			}},
			Job: &appsv1alpha1.JobSpec{BackoffLimit: new(int32(4)), ActiveDeadlineSeconds: new(int64(20))},
		},
	}
}

// eligibleNodes are the nodes a daemon without a nodeSelector runs on: every node that is Ready.
func eligibleNodes(ctx context.Context) ([]string, error) {
	nodes := &corev1.NodeList{}
	if err := k8s.List(ctx, nodes); err != nil {
		return nil, err
	}
	var out []string
	for _, n := range nodes.Items {
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue && !n.Spec.Unschedulable {
				out = append(out, n.Name)
			}
		}
	}
	return out, nil
}

// sampleNodeCoverage samples the fewest serving daemon pods any of the given nodes has.
func sampleNodeCoverage(key types.NamespacedName, nodes []string) func(context.Context) (int, string, error) {
	return func(ctx context.Context) (int, string, error) {
		pods, err := servingPods(ctx, key)
		if err != nil {
			return 0, "", err
		}
		perNode := map[string]int{}
		for _, p := range pods {
			perNode[p.Spec.NodeName]++
		}
		fewest, bare := -1, ""
		for _, n := range nodes {
			if fewest < 0 || perNode[n] < fewest {
				fewest, bare = perNode[n], n
			}
		}
		at := time.Now().Format(time.StampMilli)
		return fewest, fmt.Sprintf("at %s: node %s has %d serving daemon pods", at, bare, fewest), nil
	}
}

// waitTrue waits for the app's condition to be True with the reason, and returns it.
func waitTrue(key types.NamespacedName, conditionType, reason string, timeout time.Duration) metav1.Condition {
	GinkgoHelper()
	var got metav1.Condition
	Eventually(func(g Gomega) {
		app := getApp(key)
		g.Expect(app.Status.ObservedGeneration).To(Equal(app.Generation))
		c := meta.FindStatusCondition(app.Status.Conditions, conditionType)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue), "%s: %s: %s", conditionType, c.Reason, c.Message)
		g.Expect(c.Reason).To(Equal(reason), "%s: %s", conditionType, c.Message)
		got = *c
	}).WithTimeout(timeout).Should(Succeed())
	return got
}

var _ = Describe("A Daemon app, the weave-net node-agent sample", Label("daemon"), func() {
	var key types.NamespacedName

	BeforeEach(func() {
		key = types.NamespacedName{Namespace: testNamespace("daemon"), Name: "agent"}
	})

	It("runs one ready pod on each of the 6 nodes, behind a node-local Service, without a disruption budget", func() {
		app := createApp(daemonApp(key.Namespace, key.Name, imageV1))
		Expect(app.Status.Daemon).NotTo(BeNil())
		Expect(app.Status.Daemon.DesiredNumberScheduled).To(BeEquivalentTo(6))
		Expect(app.Status.Daemon.CoveredPercent).To(HaveValue(BeEquivalentTo(100)))
		Expect(conditionStatus(app, appsv1alpha1.ConditionHighlyAvailable)).To(Equal(metav1.ConditionTrue))

		pods, err := servingPods(ctx, key)
		Expect(err).NotTo(HaveOccurred())
		perNode := map[string]int{}
		for _, p := range pods {
			perNode[p.Spec.NodeName]++
		}
		Expect(perNode).To(HaveLen(6), "pods on %v", perNode)
		for node, n := range perNode {
			Expect(n).To(Equal(1), "node %s", node)
		}

		svc := &corev1.Service{}
		Expect(k8s.Get(ctx, key, svc)).To(Succeed())
		Expect(svc.Spec.InternalTrafficPolicy).To(HaveValue(Equal(corev1.ServiceInternalTrafficPolicyLocal)))
		Expect(apierrors.IsNotFound(k8s.Get(ctx, key, &policyv1.PodDisruptionBudget{}))).To(BeTrue())
	})

	It("never leaves a node without a ready daemon pod during an update, "+
		"and rolls a bad image back within seconds", func() {
		createApp(daemonApp(key.Namespace, key.Name, imageV1))
		nodes, err := eligibleNodes(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(nodes).To(HaveLen(6))
		covered := startSampling(100*time.Millisecond, sampleNodeCoverage(key, nodes))

		By("a good update: each node gets its new pod before its old one stops")
		setImage(key, imageV2)
		app := waitSettled(key)
		Expect(app.Status.CurrentRevision).To(BeEquivalentTo(2))
		Eventually(func(g Gomega) {
			pods, err := servingPods(ctx, key)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(images(pods)).To(Equal([]string{imageV2}))
			g.Expect(pods).To(HaveLen(6))
		}).Should(Succeed())

		By("a bad image: rolled back by itself")
		broken := setImage(key, missingImage)
		updated := time.Now()
		stalled := waitTrue(key, appsv1alpha1.ConditionStalled, appsv1alpha1.ReasonRolledBack, 90*time.Second)
		took := time.Since(updated)
		AddReportEntry("from the bad daemon image to the rollback", took.Round(100*time.Millisecond).String())
		Expect(stalled.Message).To(SatisfyAny(ContainSubstring("ErrImagePull"), ContainSubstring("ImagePullBackOff")))
		Expect(took).To(BeNumerically("<", 30*time.Second), "the rollback took %s", took)
		Eventually(func(g Gomega) {
			ds := &appsv1.DaemonSet{}
			g.Expect(k8s.Get(ctx, key, ds)).To(Succeed())
			g.Expect(ds.Spec.Template.Spec.Containers[0].Image).To(Equal(imageV2))
			pods, err := appPods(ctx, key)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(images(pods)).To(Equal([]string{imageV2}), "the bad image's pods are gone")
			g.Expect(countServing(ctx, key)).To(Equal(6))
		}).Should(Succeed())
		Expect(getApp(key).Spec.Template.Spec.Containers[0].Image).To(Equal(broken.Spec.Template.Spec.Containers[0].Image),
			"the operator did not write the spec")

		fewest, samples, lowest := covered.stop()
		Expect(samples).To(BeNumerically(">=", 10), "the updates were sampled")
		Expect(fewest).To(BeNumerically(">=", 1), "a node was left without a ready daemon pod, %s", lowest)
	})

	It("gives a node added later its pod", func() {
		createApp(daemonApp(key.Namespace, key.Name, imageV1))
		node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{
			Name: "late-" + rand.String(5),
			Labels: map[string]string{"kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", "type": "kwok",
				"topology.kubernetes.io/region": "local", zoneLabel: "zone-a"},
			Annotations: map[string]string{"node.alpha.kubernetes.io/ttl": "0", "kwok.x-k8s.io/node": "fake"},
		}}
		node.Labels["kubernetes.io/hostname"] = node.Name
		Expect(k8s.Create(ctx, node)).To(Succeed())
		DeferCleanup(func() { Expect(client.IgnoreNotFound(k8s.Delete(ctx, node))).To(Succeed()) })

		Eventually(func(g Gomega) {
			pods, err := servingPods(ctx, key)
			g.Expect(err).NotTo(HaveOccurred())
			onNode := 0
			for _, p := range pods {
				if p.Spec.NodeName == node.Name {
					onNode++
				}
			}
			g.Expect(onNode).To(Equal(1), "serving daemon pods on %s", node.Name)
		}).WithTimeout(2 * time.Minute).Should(Succeed())
		Eventually(func(g Gomega) {
			app := getApp(key)
			g.Expect(app.Status.Daemon).NotTo(BeNil())
			g.Expect(app.Status.Daemon.DesiredNumberScheduled).To(BeEquivalentTo(7))
			g.Expect(app.Status.ReadySummary).To(Equal("7/7"))
			g.Expect(conditionStatus(app, appsv1alpha1.ConditionHighlyAvailable)).To(Equal(metav1.ConditionTrue))
		}).Should(Succeed())
	})
})

var _ = Describe("A Job app, the pi sample", Label("job"), func() {
	var ns string

	BeforeEach(func() { ns = testNamespace("job") })

	It("completes, and a template change starts run 2, which completes too", func() {
		key := types.NamespacedName{Namespace: ns, Name: "pi"}
		Expect(k8s.Create(ctx, piApp(ns, key.Name))).To(Succeed())
		ready := waitTrue(key, appsv1alpha1.ConditionReady, appsv1alpha1.ReasonComplete, 90*time.Second)
		Expect(ready.Message).To(ContainSubstring("run 1 (Job pi-1) completed"))
		app := getApp(key)
		Expect(app.Status.Job).NotTo(BeNil())
		Expect(app.Status.Job.Succeeded).To(BeEquivalentTo(1))
		Expect(app.Status.ReadySummary).To(Equal("1/1"))

		By("changing the template: run 2")
		updateApp(key, func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Template.Spec.Containers[0].Args = []string{"-Mbignum=bpi", "-wle", "print bpi(3000)"}
		})
		ready = waitTrue(key, appsv1alpha1.ConditionReady, appsv1alpha1.ReasonComplete, 90*time.Second)
		Expect(ready.Message).To(ContainSubstring("run 2 (Job pi-2) completed"))
		job := &batchv1.Job{}
		Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "pi-2"}, job)).To(Succeed())
		Expect(job.Spec.Template.Spec.Containers[0].Args).To(ContainElement("print bpi(3000)"))
		Expect(k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: "pi-1"}, job)).To(Succeed(), "run 1 is kept as history")
		out, err := kubectlOutput("get", "controllerrevisions", "-n", ns,
			"-l", appsv1alpha1.LabelInstance+"=pi", "-o", "name")
		Expect(err).NotTo(HaveOccurred(), out)
		Expect(strings.Fields(out)).To(HaveLen(2), "one revision per run")
	})

	It("is Stalled with BackoffLimitExceeded and the failing pod's message when its pods fail", func() {
		key := types.NamespacedName{Namespace: ns, Name: "failing"}
		app := piApp(ns, key.Name)
		app.Spec.Template.Annotations = map[string]string{jobAnnotation: "fail"}
		app.Spec.Job.BackoffLimit = new(int32(1))
		Expect(k8s.Create(ctx, app)).To(Succeed())
		stalled := waitTrue(key, appsv1alpha1.ConditionStalled, "BackoffLimitExceeded", 2*time.Minute)
		Expect(stalled.Message).To(ContainSubstring("exit code 1"))
		Expect(conditionStatus(getApp(key), appsv1alpha1.ConditionReady)).To(Equal(metav1.ConditionFalse))
	})

	It("is Stalled with DeadlineExceeded when a run outlasts activeDeadlineSeconds", func() {
		key := types.NamespacedName{Namespace: ns, Name: "slow"}
		app := piApp(ns, key.Name)
		app.Spec.Template.Annotations = map[string]string{jobAnnotation: "run-forever"}
		app.Spec.Job.ActiveDeadlineSeconds = new(int64(5))
		Expect(k8s.Create(ctx, app)).To(Succeed())
		waitTrue(key, appsv1alpha1.ConditionReconciling, appsv1alpha1.ReasonRunning, time.Minute)
		stalled := waitTrue(key, appsv1alpha1.ConditionStalled, "DeadlineExceeded", time.Minute)
		Expect(stalled.Message).To(ContainSubstring("run 1 (Job slow-1) failed"))
	})

	It("with a schedule, starts runs as a CronJob and reports the last schedule and the last successful run", func() {
		key := types.NamespacedName{Namespace: ns, Name: "every-minute"}
		app := piApp(ns, key.Name)
		app.Spec.Job.Schedule = "* * * * *"
		Expect(k8s.Create(ctx, app)).To(Succeed())
		waitTrue(key, appsv1alpha1.ConditionReady, appsv1alpha1.ReasonScheduled, time.Minute)
		Eventually(func(g Gomega) {
			app := getApp(key)
			g.Expect(app.Status.Job).NotTo(BeNil())
			g.Expect(app.Status.Job.LastScheduleTime).NotTo(BeNil())
			g.Expect(app.Status.Job.LastSuccessfulRun).To(HavePrefix("every-minute-"))
		}).WithTimeout(150 * time.Second).Should(Succeed())
	})
})
