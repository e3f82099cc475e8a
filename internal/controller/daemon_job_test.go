package controller

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// agent is a Daemon app: one container serving on 9100 on every node.
func agent(ns, name string) *appsv1alpha1.HighlyAvailableApp {
	app := nginx(ns, name)
	app.Spec.Type = appsv1alpha1.Daemon
	app.Spec.Replicas = nil
	app.Spec.Template.Spec.Containers[0].Ports = []corev1.ContainerPort{{Name: "metrics", ContainerPort: 9100}}
	return app
}

// pi is the pi sample.
func pi(ns, name string) *appsv1alpha1.HighlyAvailableApp {
	app := nginx(ns, name)
	app.Spec.Type = appsv1alpha1.Job
	app.Spec.Replicas = nil
	app.Spec.Template.Spec.Containers = []corev1.Container{{Name: "pi", Image: "perl",
		Command: []string{"perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"}}}
	app.Spec.Job = &appsv1alpha1.JobSpec{ActiveDeadlineSeconds: ptr.To[int64](20)}
	return app
}

func getJob(ns, name string) (*batchv1.Job, error) {
	job := &batchv1.Job{}
	return job, k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, job)
}

// completeJob writes what the Job controller writes when a run succeeds.
func completeJob(ns, name string) {
	job, err := getJob(ns, name)
	Expect(err).NotTo(HaveOccurred())
	now := metav1.Now()
	start := metav1.NewTime(now.Add(-time.Second))
	job.Status.StartTime = &start
	job.Status.CompletionTime = &now
	job.Status.Succeeded = 1
	job.Status.Conditions = []batchv1.JobCondition{
		{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: now, LastProbeTime: now},
		{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: now, LastProbeTime: now},
	}
	Expect(k8sClient.Status().Update(ctx, job)).To(Succeed())
}

var _ = Describe("A Daemon app", func() {
	It("becomes a DaemonSet that surges one pod per node, a node-local Service and no disruption budget", func() {
		ns := newNamespace()
		app := agent(ns, "agent")
		Expect(k8sClient.Create(ctx, app)).To(Succeed())
		key := client.ObjectKeyFromObject(app)

		ds := &appsv1.DaemonSet{}
		Eventually(func() error { return k8sClient.Get(ctx, key, ds) }, timeout, poll).Should(Succeed())
		Expect(ds.Spec.UpdateStrategy.RollingUpdate.MaxSurge).To(Equal(new(intstr.FromInt32(1))))
		Expect(ds.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable).To(Equal(new(intstr.FromInt32(0))))
		Expect(ds.Spec.Template.Spec.Containers[0].Lifecycle.PreStop).NotTo(BeNil())
		Expect(metav1.IsControlledBy(ds, getApp(key))).To(BeTrue())

		svc := &corev1.Service{}
		Eventually(func() error { return k8sClient.Get(ctx, key, svc) }, timeout, poll).Should(Succeed())
		Expect(svc.Spec.InternalTrafficPolicy).To(Equal(ptr.To(corev1.ServiceInternalTrafficPolicyLocal)))
		Expect(apierrors.IsNotFound(k8sClient.Get(ctx, key, &policyv1.PodDisruptionBudget{}))).To(BeTrue())

		Eventually(func(g Gomega) {
			got := getApp(key)
			g.Expect(got.Status.Workload).To(Equal(&appsv1alpha1.WorkloadReference{Kind: "DaemonSet", Name: "agent"}))
			g.Expect(got.Status.Daemon).NotTo(BeNil())
			g.Expect(got.Status.UpdateRevision).To(Equal(int64(1)))
		}, timeout, poll).Should(Succeed())
	})
})

var _ = Describe("A Job app", func() {
	It("runs as Job <app>-1, and a template change starts run 2 only once run 1 has finished", func() {
		ns := newNamespace()
		app := pi(ns, "pi")
		Expect(k8sClient.Create(ctx, app)).To(Succeed())
		key := client.ObjectKeyFromObject(app)

		var job *batchv1.Job
		Eventually(func() (err error) { job, err = getJob(ns, "pi-1"); return err }, timeout, poll).Should(Succeed())
		Expect(job.Spec.ActiveDeadlineSeconds).To(Equal(ptr.To[int64](20)))
		Expect(job.Spec.Template.Spec.RestartPolicy).To(Equal(corev1.RestartPolicyOnFailure))
		Expect(apierrors.IsNotFound(k8sClient.Get(ctx, key, &corev1.Service{}))).To(BeTrue())
		Expect(apierrors.IsNotFound(k8sClient.Get(ctx, key, &policyv1.PodDisruptionBudget{}))).To(BeTrue())
		Eventually(func(g Gomega) {
			c := condition(getApp(key), appsv1alpha1.ConditionReconciling)
			g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(c.Reason).To(Equal(appsv1alpha1.ReasonRunning))
		}, timeout, poll).Should(Succeed())

		By("changing the template while run 1 is active: run 2 waits")
		updateApp(key, func(a *appsv1alpha1.HighlyAvailableApp) {
			a.Spec.Template.Spec.Containers[0].Command = []string{"perl", "-Mbignum=bpi", "-wle", "print bpi(3000)"}
		})
		Eventually(func(g Gomega) {
			c := condition(getApp(key), appsv1alpha1.ConditionReconciling)
			g.Expect(c.Reason).To(Equal(appsv1alpha1.ReasonWaitingForRun))
			g.Expect(c.Message).To(ContainSubstring("run 2 (Job pi-2) starts when Job pi-1"))
		}, timeout, poll).Should(Succeed())
		Consistently(func() bool { _, err := getJob(ns, "pi-2"); return apierrors.IsNotFound(err) }, time.Second, poll).Should(BeTrue())
		_, err := getJob(ns, "pi-1")
		Expect(err).NotTo(HaveOccurred(), "the active run is not deleted")

		By("run 1 completing: run 2 starts")
		completeJob(ns, "pi-1")
		Eventually(func() error { _, err := getJob(ns, "pi-2"); return err }, timeout, poll).Should(Succeed())

		By("run 2 completing: the app is Ready with reason Complete")
		completeJob(ns, "pi-2")
		Eventually(func(g Gomega) {
			got := getApp(key)
			c := condition(got, appsv1alpha1.ConditionReady)
			g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(c.Reason).To(Equal(appsv1alpha1.ReasonComplete))
			g.Expect(got.Status.Job.CurrentRun).To(Equal(ptr.To[int64](2)))
			g.Expect(got.Status.CurrentRevision).To(Equal(int64(2)))
		}, timeout, poll).Should(Succeed())

		By("a deleted finished run is not started again")
		job, err = getJob(ns, "pi-2")
		Expect(err).NotTo(HaveOccurred())
		Expect(k8sClient.Delete(ctx, job, client.PropagationPolicy(metav1.DeletePropagationBackground))).To(Succeed())
		Eventually(func() bool { _, err := getJob(ns, "pi-2"); return apierrors.IsNotFound(err) }, timeout, poll).Should(BeTrue())
		Consistently(func() bool {
			_, err := getJob(ns, "pi-2")
			return apierrors.IsNotFound(err) && condition(getApp(key), appsv1alpha1.ConditionReady).Reason == appsv1alpha1.ReasonComplete
		}, time.Second, poll).Should(BeTrue())
	})

	It("with a schedule, becomes a CronJob with concurrencyPolicy Forbid", func() {
		ns := newNamespace()
		app := pi(ns, "nightly")
		app.Spec.Job.Schedule = "0 3 * * *"
		Expect(k8sClient.Create(ctx, app)).To(Succeed())
		key := client.ObjectKeyFromObject(app)
		cj := &batchv1.CronJob{}
		Eventually(func() error { return k8sClient.Get(ctx, key, cj) }, timeout, poll).Should(Succeed())
		Expect(cj.Spec.Schedule).To(Equal("0 3 * * *"))
		Expect(cj.Spec.ConcurrencyPolicy).To(Equal(batchv1.ForbidConcurrent))
		Expect(cj.Spec.JobTemplate.Spec.ActiveDeadlineSeconds).To(Equal(ptr.To[int64](20)))
		Eventually(func(g Gomega) {
			c := condition(getApp(key), appsv1alpha1.ConditionReady)
			g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(c.Reason).To(Equal(appsv1alpha1.ReasonScheduled))
		}, timeout, poll).Should(Succeed())
	})
})

var _ = Describe("A Job app whose schedule is removed", func() {
	It("keeps the CronJob, suspended, until its active run finished, and only then starts run 1", func() {
		ns := newNamespace()
		app := pi(ns, "nightly")
		app.Spec.Job.Schedule = "0 3 * * *"
		Expect(k8sClient.Create(ctx, app)).To(Succeed())
		key := client.ObjectKeyFromObject(app)
		cj := &batchv1.CronJob{}
		Eventually(func() error { return k8sClient.Get(ctx, key, cj) }, timeout, poll).Should(Succeed())

		By("a run the CronJob started, still active")
		scheduled := &batchv1.Job{
			ObjectMeta: metav1.ObjectMeta{Name: "nightly-29000000", Namespace: ns, Labels: cj.Spec.JobTemplate.Labels,
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "CronJob", Name: cj.Name,
					UID: cj.UID, Controller: new(true)}}},
			Spec: *cj.Spec.JobTemplate.Spec.DeepCopy(),
		}
		Expect(k8sClient.Create(ctx, scheduled)).To(Succeed())
		cj.Status.Active = []corev1.ObjectReference{{APIVersion: "batch/v1", Kind: "Job", Namespace: ns,
			Name: scheduled.Name, UID: scheduled.UID}}
		Expect(k8sClient.Status().Update(ctx, cj)).To(Succeed())

		By("removing the schedule")
		updateApp(key, func(a *appsv1alpha1.HighlyAvailableApp) { a.Spec.Job.Schedule = "" })
		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, key, cj)).To(Succeed())
			g.Expect(cj.Spec.Suspend).To(Equal(new(true)))
			c := condition(getApp(key), appsv1alpha1.ConditionReconciling)
			g.Expect(c.Reason).To(Equal(appsv1alpha1.ReasonWaitingForRun))
			g.Expect(c.Message).To(ContainSubstring("starts when Job nightly-29000000"))
		}, timeout, poll).Should(Succeed())
		Consistently(func() bool { _, err := getJob(ns, "nightly-1"); return apierrors.IsNotFound(err) }, time.Second, poll).
			Should(BeTrue())

		By("the scheduled run finishing")
		Expect(k8sClient.Get(ctx, key, cj)).To(Succeed())
		cj.Status.Active = nil
		Expect(k8sClient.Status().Update(ctx, cj)).To(Succeed())
		Eventually(func() bool { return apierrors.IsNotFound(k8sClient.Get(ctx, key, &batchv1.CronJob{})) }, timeout, poll).
			Should(BeTrue())
		Eventually(func() error { _, err := getJob(ns, "nightly-1"); return err }, timeout, poll).Should(Succeed())
	})
})

var _ = Describe("Bad Daemon and Job apps", func() {
	var ns string
	BeforeEach(func() { ns = newNamespace() })

	DescribeTable("are refused by the API server, naming the field",
		func(app func(ns string) *appsv1alpha1.HighlyAvailableApp, change func(*appsv1alpha1.HighlyAvailableApp), field, message string) {
			a := app(ns)
			change(a)
			err := k8sClient.Create(ctx, a)
			Expect(err).To(HaveOccurred())
			Expect(err.Error()).To(ContainSubstring(field))
			Expect(err.Error()).To(ContainSubstring(message))
		},
		Entry("replicas on a Daemon", func(ns string) *appsv1alpha1.HighlyAvailableApp { return agent(ns, "bad") },
			func(a *appsv1alpha1.HighlyAvailableApp) { a.Spec.Replicas = ptr.To[int32](3) },
			"spec.replicas", "replicas is not allowed when type is Daemon"),
		Entry("autoscaling on a Daemon", func(ns string) *appsv1alpha1.HighlyAvailableApp { return agent(ns, "bad") },
			func(a *appsv1alpha1.HighlyAvailableApp) {
				a.Spec.Autoscaling = &appsv1alpha1.AutoscalingSpec{MaxReplicas: 5}
			}, "spec.autoscaling", "autoscaling is not allowed when type is Daemon"),
		Entry("storage on a Daemon", func(ns string) *appsv1alpha1.HighlyAvailableApp { return agent(ns, "bad") },
			func(a *appsv1alpha1.HighlyAvailableApp) {
				a.Spec.Storage = []appsv1alpha1.StorageSpec{{Name: "data", MountPath: "/data", Size: resourceMust("1Gi")}}
			}, "spec.storage", "storage is only allowed when type is Stateful"),
		Entry("a partition on a Daemon", func(ns string) *appsv1alpha1.HighlyAvailableApp { return agent(ns, "bad") },
			func(a *appsv1alpha1.HighlyAvailableApp) {
				a.Spec.Rollout = &appsv1alpha1.RolloutSpec{Partition: ptr.To[int32](1)}
			}, "spec.rollout.partition", "partition is only allowed when type is Stateful"),
		Entry("maxSurge and maxUnavailable both 0 on a Daemon", func(ns string) *appsv1alpha1.HighlyAvailableApp { return agent(ns, "bad") },
			func(a *appsv1alpha1.HighlyAvailableApp) {
				a.Spec.Rollout = &appsv1alpha1.RolloutSpec{MaxSurge: new(intstr.FromString("0%"))}
			}, "spec.rollout.maxSurge", "maxSurge and maxUnavailable cannot both be 0"),
		Entry("restartPolicy Always on a Job", func(ns string) *appsv1alpha1.HighlyAvailableApp { return pi(ns, "bad") },
			func(a *appsv1alpha1.HighlyAvailableApp) {
				a.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways
			},
			"spec.template.spec.restartPolicy", "restartPolicy Always is not allowed when type is Job"),
		Entry("replicas on a Job", func(ns string) *appsv1alpha1.HighlyAvailableApp { return pi(ns, "bad") },
			func(a *appsv1alpha1.HighlyAvailableApp) { a.Spec.Replicas = ptr.To[int32](2) },
			"spec.replicas", "replicas is not allowed when type is Job"),
		Entry("a podFailurePolicy without restartPolicy Never", func(ns string) *appsv1alpha1.HighlyAvailableApp { return pi(ns, "bad") },
			func(a *appsv1alpha1.HighlyAvailableApp) {
				a.Spec.Job.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{
					Action:      batchv1.PodFailurePolicyActionFailJob,
					OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{42}},
				}}}
			}, "spec.template.spec.restartPolicy", "job.podFailurePolicy needs restartPolicy Never"),
		Entry("job on a Stateless app", func(ns string) *appsv1alpha1.HighlyAvailableApp { return nginx(ns, "bad") },
			func(a *appsv1alpha1.HighlyAvailableApp) {
				a.Spec.Job = &appsv1alpha1.JobSpec{Parallelism: ptr.To[int32](2)}
			},
			"spec.job", "job is only allowed when type is Job"),
		Entry("an unknown concurrencyPolicy", func(ns string) *appsv1alpha1.HighlyAvailableApp { return pi(ns, "bad") },
			func(a *appsv1alpha1.HighlyAvailableApp) {
				a.Spec.Job.Schedule, a.Spec.Job.ConcurrencyPolicy = "* * * * *", "Sometimes"
			},
			"spec.job.concurrencyPolicy", "Unsupported value"),
	)

	It("accepts a Daemon with maxSurge 0 when maxUnavailable is not", func() {
		app := agent(ns, "ok")
		app.Spec.Rollout = &appsv1alpha1.RolloutSpec{MaxSurge: new(intstr.FromInt32(0)),
			MaxUnavailable: new(intstr.FromInt32(1))}
		Expect(k8sClient.Create(ctx, app)).To(Succeed())
	})
})
