package gitops

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/rollout"
	"github.com/haoperator/ha-operator/internal/testenv"
)

// appName names the apps, and their one container, in the tests.
const appName = "web"

// gitopsView is what the two GitOps tools read from one fetch of an app.
type gitopsView struct {
	KStatus    status.Status
	ArgoCD     string
	Generation int64
	Observed   int64
	Message    string
}

// view fetches the app as the tools do (unstructured, straight from the API server) and runs kstatus
// and the shipped Argo CD health script on that same object.
func view(key client.ObjectKey) (gitopsView, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(appsv1alpha1.GroupVersion.WithKind("HighlyAvailableApp"))
	if err := k8sClient.Get(ctx, key, u); err != nil {
		return gitopsView{}, err
	}
	res, err := status.Compute(u)
	if err != nil {
		return gitopsView{}, fmt.Errorf("kstatus: %w", err)
	}
	script, err := loadHealthScript()
	if err != nil {
		return gitopsView{}, err
	}
	health, err := runHealthScript(script, u.Object)
	if err != nil {
		return gitopsView{}, err
	}
	observed, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
	return gitopsView{KStatus: res.Status, ArgoCD: health.Status, Generation: u.GetGeneration(),
		Observed: observed, Message: health.Message}, nil
}

// expectView waits until kstatus and Argo CD both read the expected state on the same object of the
// current generation.
func expectView(key client.ObjectKey, kstatus status.Status, argo string) gitopsView {
	var last gitopsView
	EventuallyWithOffset(1, func(g Gomega) {
		v, err := view(key)
		g.Expect(err).NotTo(HaveOccurred())
		last = v
		g.Expect(v.Observed).To(Equal(v.Generation), "the operator has not observed the latest generation")
		g.Expect(v.KStatus).To(Equal(kstatus), "kstatus")
		g.Expect(v.ArgoCD).To(Equal(argo), "Argo CD (message %q)", v.Message)
	}, timeout, poll).Should(Succeed())
	return last
}

func newNamespace() string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "gitops-" + rand.String(6)}}
	Expect(k8sClient.Create(ctx, ns)).To(Succeed())
	return ns.Name
}

func webApp(ns, name, image string) *appsv1alpha1.HighlyAvailableApp {
	return &appsv1alpha1.HighlyAvailableApp{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1alpha1.HighlyAvailableAppSpec{
			Replicas: ptr.To[int32](3),
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name: appName, Image: image, Ports: []corev1.ContainerPort{{ContainerPort: 80}},
			}}}},
		},
	}
}

// setImage changes the app's image.
func setImage(key client.ObjectKey, image string) {
	updateApp(key, func(app *appsv1alpha1.HighlyAvailableApp) { app.Spec.Template.Spec.Containers[0].Image = image })
}

// updateApp changes the app's spec, retrying on conflicts.
func updateApp(key client.ObjectKey, change func(*appsv1alpha1.HighlyAvailableApp)) {
	ExpectWithOffset(1, testenv.UpdateApp(ctx, k8sClient, key, change)).To(Succeed())
}

// deploymentStatus plays the Deployment controller: once the operator has given the Deployment what
// the test changed (the image, and what applied checks), it writes the status figures returned by
// figures (given spec replicas) for the Deployment's current generation. It returns the template's
// revision hash.
func deploymentStatus(key client.ObjectKey, image string, applied func(*appsv1.Deployment) bool,
	figures func(replicas int32) appsv1.DeploymentStatus) string {
	var hash string
	EventuallyWithOffset(1, func(g Gomega) {
		d := &appsv1.Deployment{}
		g.Expect(k8sClient.Get(ctx, key, d)).To(Succeed())
		g.Expect(d.Spec.Template.Spec.Containers[0].Image).To(Equal(image))
		g.Expect(applied(d)).To(BeTrue(), "the operator has not applied the change to the Deployment yet")
		st := figures(ptr.Deref(d.Spec.Replicas, 1))
		st.ObservedGeneration = d.Generation
		d.Status = st
		g.Expect(k8sClient.Status().Update(ctx, d)).To(Succeed())
		hash = d.Spec.Template.Labels[rollout.LabelRevisionHash]
	}, timeout, poll).Should(Succeed())
	return hash
}

// asIs accepts the Deployment as it is.
func asIs(*appsv1.Deployment) bool { return true }

// settled: every replica updated, ready and available.
func settled(n int32) appsv1.DeploymentStatus {
	return appsv1.DeploymentStatus{Replicas: n, UpdatedReplicas: n, ReadyReplicas: n, AvailableReplicas: n}
}

// rolling: one surge pod of the new template, not ready yet; the old pods all serve.
func rolling(n int32) appsv1.DeploymentStatus {
	return appsv1.DeploymentStatus{Replicas: n + 1, UpdatedReplicas: 1, ReadyReplicas: n, AvailableReplicas: n}
}

// held: the new template is known but no pod of it was made (a paused Deployment).
func held(n int32) appsv1.DeploymentStatus {
	return appsv1.DeploymentStatus{Replicas: n, UpdatedReplicas: 0, ReadyReplicas: n, AvailableReplicas: n}
}

// failingPod creates a pod of the revision hash whose container cannot pull its image, as the kubelet
// reports it.
func failingPod(app client.ObjectKey, hash, image string) {
	labels := map[string]string{
		appsv1alpha1.LabelName: app.Name, appsv1alpha1.LabelInstance: app.Name,
		appsv1alpha1.LabelManagedBy: appsv1alpha1.ManagedByValue, rollout.LabelRevisionHash: hash,
	}
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: app.Name + "-" + rand.String(5), Namespace: app.Namespace, Labels: labels,
			OwnerReferences: []metav1.OwnerReference{podOwner(app, hash, labels)}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: appName, Image: image}}},
	}
	ExpectWithOffset(1, k8sClient.Create(ctx, p)).To(Succeed())
	p.Status = corev1.PodStatus{Phase: corev1.PodPending,
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse}},
		ContainerStatuses: []corev1.ContainerStatus{{Name: appName, Image: image, State: corev1.ContainerState{
			Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff",
				Message: fmt.Sprintf("Back-off pulling image %q: ErrImagePull: %s: not found", image, image)},
		}}}}
	ExpectWithOffset(1, k8sClient.Status().Update(ctx, p)).To(Succeed())
}

// podOwner is the controller a pod of the app's revision has, as the operator only counts those: its
// DaemonSet, or a ReplicaSet of its Deployment (created here, as the Deployment controller would).
func podOwner(app client.ObjectKey, hash string, labels map[string]string) metav1.OwnerReference {
	ds := &appsv1.DaemonSet{}
	if err := k8sClient.Get(ctx, app, ds); err == nil {
		return controllerRef("DaemonSet", ds.Name, ds.UID)
	}
	d := &appsv1.Deployment{}
	ExpectWithOffset(2, k8sClient.Get(ctx, app, d)).To(Succeed())
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: app.Name + "-" + hash, Namespace: app.Namespace, Labels: labels,
			OwnerReferences: []metav1.OwnerReference{controllerRef("Deployment", d.Name, d.UID)}},
		Spec: appsv1.ReplicaSetSpec{Replicas: new(int32(0)), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "c"}}}}},
	}
	ExpectWithOffset(2, k8sClient.Create(ctx, rs)).To(Succeed())
	return controllerRef("ReplicaSet", rs.Name, rs.UID)
}

func controllerRef(kind, name string, uid types.UID) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: "apps/v1", Kind: kind, Name: name, UID: uid, Controller: new(true)}
}

// kubectlWait runs `kubectl wait --for=condition=Ready` on the app, as a user or a CI job would.
func kubectlWait(kubeconfig string, key client.ObjectKey, timeout string) error {
	out, err := exec.Command("kubectl", "--kubeconfig", kubeconfig, "-n", key.Namespace, "wait",
		"--for=condition=Ready", "haapp/"+key.Name, "--timeout="+timeout).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: %s", err, out)
	}
	return nil
}

var _ = Describe("What GitOps tools read from a HighlyAvailableApp", Ordered, func() {
	var (
		ns         string
		key        client.ObjectKey
		kubeconfig string
	)

	BeforeAll(func() {
		ns = newNamespace()
		key = client.ObjectKey{Namespace: ns, Name: appName}
		if _, err := exec.LookPath("kubectl"); err == nil {
			user, err := testEnv.AddUser(envtest.User{Name: "gitops", Groups: []string{"system:masters"}}, nil)
			Expect(err).NotTo(HaveOccurred())
			config, err := user.KubeConfig()
			Expect(err).NotTo(HaveOccurred())
			kubeconfig = filepath.Join(GinkgoT().TempDir(), "kubeconfig")
			Expect(os.WriteFile(kubeconfig, config, 0o600)).To(Succeed())
		}
	})

	It("is in progress while the workload is created, and current once it serves", func() {
		Expect(k8sClient.Create(ctx, webApp(ns, appName, "nginx:1.7.9"))).To(Succeed())
		expectView(key, status.InProgressStatus, progressing)

		deploymentStatus(key, "nginx:1.7.9", asIs, settled)
		expectView(key, status.CurrentStatus, healthy)
		if kubeconfig == "" {
			AddReportEntry("kubectl is not on PATH: kubectl wait was not checked")
			return
		}
		Expect(kubectlWait(kubeconfig, key, "10s")).To(Succeed())
	})

	It("is in progress while scaling, and current when scaled", func() {
		updateApp(key, func(app *appsv1alpha1.HighlyAvailableApp) { app.Spec.Replicas = ptr.To[int32](5) })
		scaled := func(d *appsv1.Deployment) bool { return ptr.Deref(d.Spec.Replicas, 1) == 5 }
		deploymentStatus(key, "nginx:1.7.9", scaled, func(n int32) appsv1.DeploymentStatus {
			return appsv1.DeploymentStatus{Replicas: n, UpdatedReplicas: n, ReadyReplicas: 3, AvailableReplicas: 3}
		})
		expectView(key, status.InProgressStatus, progressing)

		deploymentStatus(key, "nginx:1.7.9", asIs, settled)
		expectView(key, status.CurrentStatus, healthy)
	})

	It("is in progress while rolling out a new image, and current when it serves everywhere", func() {
		setImage(key, "nginx:1.9.1")
		deploymentStatus(key, "nginx:1.9.1", asIs, rolling)
		expectView(key, status.InProgressStatus, progressing)

		deploymentStatus(key, "nginx:1.9.1", asIs, settled)
		expectView(key, status.CurrentStatus, healthy)
	})

	It("is suspended for Argo CD and in progress for kstatus while an update is paused", func() {
		updateApp(key, func(app *appsv1alpha1.HighlyAvailableApp) {
			app.Spec.Rollout = &appsv1alpha1.RolloutSpec{Paused: true}
			app.Spec.Template.Spec.Containers[0].Image = "nginx:1.10"
		})
		paused := func(d *appsv1.Deployment) bool { return d.Spec.Paused }
		deploymentStatus(key, "nginx:1.10", paused, held)
		expectView(key, status.InProgressStatus, suspended)

		updateApp(key, func(app *appsv1alpha1.HighlyAvailableApp) { app.Spec.Rollout.Paused = false })
		deploymentStatus(key, "nginx:1.10", func(d *appsv1.Deployment) bool { return !d.Spec.Paused }, settled)
		expectView(key, status.CurrentStatus, healthy)
	})

	It("is failed (Degraded) after a failed update is rolled back, with the spec untouched", func() {
		setImage(key, "nginx:1.91")
		badHash := deploymentStatus(key, "nginx:1.91", asIs, rolling)
		failingPod(key, badHash, "nginx:1.91")

		By("the operator puts the Deployment back on nginx:1.10; while its pods come back kstatus still sees progress")
		deploymentStatus(key, "nginx:1.10", asIs, rolling)
		v := expectView(key, status.InProgressStatus, degraded)
		Expect(v.Message).To(ContainSubstring("ImagePullBackOff"))

		By("once the rollback has settled, kstatus reports the failure too")
		deploymentStatus(key, "nginx:1.10", asIs, settled)
		v = expectView(key, status.FailedStatus, degraded)
		Expect(v.Message).To(ContainSubstring("rolled back"))

		app := &appsv1alpha1.HighlyAvailableApp{}
		Expect(k8sClient.Get(ctx, key, app)).To(Succeed())
		Expect(app.Spec.Template.Spec.Containers[0].Image).To(Equal("nginx:1.91"), "the operator must not write the spec")
		if kubeconfig != "" {
			Expect(kubectlWait(kubeconfig, key, "1s")).NotTo(Succeed(), "kubectl wait must not see a rolled-back app as Ready")
		}
	})

	It("is failed (Degraded) when the first revision fails and there is nothing to roll back to", func() {
		first := client.ObjectKey{Namespace: ns, Name: "first"}
		Expect(k8sClient.Create(ctx, webApp(ns, first.Name, "nginx:does-not-exist"))).To(Succeed())
		hash := deploymentStatus(first, "nginx:does-not-exist", asIs, func(n int32) appsv1.DeploymentStatus {
			return appsv1.DeploymentStatus{Replicas: n, UpdatedReplicas: n}
		})
		failingPod(first, hash, "nginx:does-not-exist")
		v := expectView(first, status.FailedStatus, degraded)
		Expect(v.Message).To(ContainSubstring("nothing to roll back to"))
	})

	It("is in progress while the operator has not observed the latest generation", func() {
		By("stopping the operator, as during an upgrade or an outage, and changing the spec")
		stopOperator()
		DeferCleanup(startOperator)
		setImage(key, "nginx:1.11")

		v, err := view(key)
		Expect(err).NotTo(HaveOccurred())
		Expect(v.Observed).To(BeNumerically("<", v.Generation))
		Expect(v.KStatus).To(Equal(status.InProgressStatus), "kstatus")
		Expect(v.ArgoCD).To(Equal(progressing), "Argo CD")
		Expect(v.Message).To(Equal(fmt.Sprintf("waiting for the operator to observe generation %d", v.Generation)))
	})
})
