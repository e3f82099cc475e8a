package gitops

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/rollout"
)

// daemonNodes is the number of eligible nodes the tests give a DaemonSet.
const daemonNodes int32 = 6

// daemonSetStatus plays the DaemonSet controller: once the DaemonSet runs image, it writes the
// figures for daemonNodes eligible nodes of which `ready` have a ready pod and `updated` run the
// current template, and returns the template's revision hash.
func daemonSetStatus(key client.ObjectKey, image string, ready, updated int32) string {
	nodes := daemonNodes
	var hash string
	EventuallyWithOffset(1, func(g Gomega) {
		ds := &appsv1.DaemonSet{}
		g.Expect(k8sClient.Get(ctx, key, ds)).To(Succeed())
		g.Expect(ds.Spec.Template.Spec.Containers[0].Image).To(Equal(image))
		ds.Status = appsv1.DaemonSetStatus{ObservedGeneration: ds.Generation, DesiredNumberScheduled: nodes,
			CurrentNumberScheduled: nodes, UpdatedNumberScheduled: updated, NumberReady: ready, NumberAvailable: ready,
			NumberUnavailable: nodes - ready}
		g.Expect(k8sClient.Status().Update(ctx, ds)).To(Succeed())
		hash = ds.Spec.Template.Labels[rollout.LabelRevisionHash]
	}, timeout, poll).Should(Succeed())
	return hash
}

// finishJob plays the Job controller: it writes the conditions of a run that completed, or that
// failed with reason.
func finishJob(key client.ObjectKey, failReason string) {
	EventuallyWithOffset(1, func(g Gomega) {
		job := &batchv1.Job{}
		g.Expect(k8sClient.Get(ctx, key, job)).To(Succeed())
		now := metav1.Now()
		start := metav1.NewTime(now.Add(-time.Second))
		job.Status.StartTime = &start
		if failReason == "" {
			job.Status.CompletionTime = &now
			job.Status.Succeeded = 1
			job.Status.Conditions = []batchv1.JobCondition{
				{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: now, LastProbeTime: now},
				{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: now, LastProbeTime: now},
			}
		} else {
			job.Status.Failed = 1
			job.Status.Conditions = []batchv1.JobCondition{
				{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue, Reason: failReason, Message: "the run failed",
					LastTransitionTime: now, LastProbeTime: now},
				{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: failReason, Message: "the run failed",
					LastTransitionTime: now, LastProbeTime: now},
			}
		}
		g.Expect(k8sClient.Status().Update(ctx, job)).To(Succeed())
	}, timeout, poll).Should(Succeed())
}

func jobApp(ns, name string) *appsv1alpha1.HighlyAvailableApp {
	app := webApp(ns, name, "perl")
	app.Spec.Type, app.Spec.Replicas = appsv1alpha1.Job, nil
	app.Spec.Template.Spec.Containers[0].Ports = nil
	app.Spec.Job = &appsv1alpha1.JobSpec{ActiveDeadlineSeconds: ptr.To[int64](20)}
	return app
}

var _ = Describe("What GitOps tools read from a Daemon or a Job app", func() {
	var ns string
	BeforeEach(func() { ns = newNamespace() })

	It("Daemon: in progress until every eligible node runs it, then current; "+
		"failed once a bad image is rolled back", func() {
		app := webApp(ns, "agent", "agent:1")
		app.Spec.Type, app.Spec.Replicas = appsv1alpha1.Daemon, nil
		Expect(k8sClient.Create(ctx, app)).To(Succeed())
		key := client.ObjectKeyFromObject(app)
		expectView(key, status.InProgressStatus, progressing)

		daemonSetStatus(key, "agent:1", 4, 6)
		expectView(key, status.InProgressStatus, progressing)
		daemonSetStatus(key, "agent:1", 6, 6)
		expectView(key, status.CurrentStatus, healthy)

		By("a bad image: the node being updated keeps its old pod (surge) while the new one cannot pull")
		setImage(key, "agent:broken")
		badHash := daemonSetStatus(key, "agent:broken", 6, 1)
		failingPod(key, badHash, "agent:broken")
		daemonSetStatus(key, "agent:1", 6, 6)
		v := expectView(key, status.FailedStatus, degraded)
		Expect(v.Message).To(ContainSubstring("rolled back"))
	})

	It("Job: in progress while the run is active, current once it completed", func() {
		Expect(k8sClient.Create(ctx, jobApp(ns, "pi"))).To(Succeed())
		key := client.ObjectKey{Namespace: ns, Name: "pi"}
		expectView(key, status.InProgressStatus, progressing)
		finishJob(client.ObjectKey{Namespace: ns, Name: "pi-1"}, "")
		v := expectView(key, status.CurrentStatus, healthy)
		Expect(v.Message).To(ContainSubstring("run 1 (Job pi-1) completed"))
	})

	It("Job: failed (Degraded) once the run failed, with the Job's reason", func() {
		Expect(k8sClient.Create(ctx, jobApp(ns, "pi"))).To(Succeed())
		key := client.ObjectKey{Namespace: ns, Name: "pi"}
		finishJob(client.ObjectKey{Namespace: ns, Name: "pi-1"}, "BackoffLimitExceeded")
		v := expectView(key, status.FailedStatus, degraded)
		Expect(v.Message).To(ContainSubstring("run 1 (Job pi-1) failed: the run failed"))
	})

	It("CronJob: current once scheduled", func() {
		app := jobApp(ns, "nightly")
		app.Spec.Job.Schedule = "0 3 * * *"
		Expect(k8sClient.Create(ctx, app)).To(Succeed())
		expectView(client.ObjectKeyFromObject(app), status.CurrentStatus, healthy)
	})
})
