package controller

import (
	"fmt"
	"time"

	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/rollout"
	"github.com/haoperator/ha-operator/internal/testenv"
)

const (
	timeout = 10 * time.Second
	poll    = 50 * time.Millisecond
)

func newNamespace() string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "test-" + rand.String(6)}}
	Expect(k8sClient.Create(ctx, ns)).To(Succeed())
	return ns.Name
}

// nginx is the nginx sample: 3 replicas of nginx:1.7.9 on port 80.
func nginx(ns, name string) *appsv1alpha1.HighlyAvailableApp {
	return &appsv1alpha1.HighlyAvailableApp{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1alpha1.HighlyAvailableAppSpec{
			Replicas: ptr.To[int32](3),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"tier": "frontend"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "nginx", Image: "nginx:1.7.9",
					Ports: []corev1.ContainerPort{{ContainerPort: 80}},
				}}},
			},
		},
	}
}

// cassandra is the Cassandra sample as a Stateful app.
func cassandra(ns, name string) *appsv1alpha1.HighlyAvailableApp {
	app := nginx(ns, name)
	app.Spec.Type = appsv1alpha1.Stateful
	app.Spec.Template.Spec.Containers = []corev1.Container{{
		Name: "cassandra", Image: "cassandra:3.11",
		Ports: []corev1.ContainerPort{{Name: "intra-node", ContainerPort: 7000}, {Name: "tls-intra-node", ContainerPort: 7001},
			{Name: "jmx", ContainerPort: 7199}, {Name: "cql", ContainerPort: 9042}},
		Env: []corev1.EnvVar{{Name: "MAX_HEAP_SIZE", Value: "512M"}, {Name: "POD_IP", Value: "set-by-user"}},
	}}
	app.Spec.Storage = []appsv1alpha1.StorageSpec{{Name: "cassandra-data", MountPath: "/cassandra_data", Size: resourceMust("1Gi")}}
	return app
}

func getApp(key client.ObjectKey) *appsv1alpha1.HighlyAvailableApp {
	app := &appsv1alpha1.HighlyAvailableApp{}
	ExpectWithOffset(1, k8sClient.Get(ctx, key, app)).To(Succeed())
	return app
}

func condition(app *appsv1alpha1.HighlyAvailableApp, t string) metav1.Condition {
	if c := meta.FindStatusCondition(app.Status.Conditions, t); c != nil {
		return *c
	}
	return metav1.Condition{}
}

// deployment waits for the app's Deployment.
func deployment(key client.ObjectKey) *appsv1.Deployment {
	d := &appsv1.Deployment{}
	EventuallyWithOffset(1, func() error { return k8sClient.Get(ctx, key, d) }, timeout, poll).Should(Succeed())
	return d
}

// settleDeployment plays the Deployment controller: every replica of the current template is
// updated, ready and available.
func settleDeployment(key client.ObjectKey) {
	EventuallyWithOffset(1, func() error {
		d := &appsv1.Deployment{}
		if err := k8sClient.Get(ctx, key, d); err != nil {
			return err
		}
		n := ptr.Deref(d.Spec.Replicas, 1)
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: n, UpdatedReplicas: n,
			ReadyReplicas: n, AvailableReplicas: n}
		return k8sClient.Status().Update(ctx, d)
	}, timeout, poll).Should(Succeed())
}

// startRollout plays the Deployment controller in the middle of an update of three replicas: it has
// seen the new template but no new pod is ready.
func startRollout(key client.ObjectKey) {
	const oldReady = 3
	EventuallyWithOffset(1, func() error {
		d := &appsv1.Deployment{}
		if err := k8sClient.Get(ctx, key, d); err != nil {
			return err
		}
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: oldReady + 1, UpdatedReplicas: 1,
			ReadyReplicas: oldReady, AvailableReplicas: oldReady}
		return k8sClient.Status().Update(ctx, d)
	}, timeout, poll).Should(Succeed())
}

// node creates a node in a zone.
func node(name, zone string) {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
		corev1.LabelTopologyZone: zone, corev1.LabelHostname: name}}}
	err := k8sClient.Create(ctx, n)
	if err != nil && !isAlreadyExists(err) {
		Expect(err).NotTo(HaveOccurred())
	}
}

// pod creates a pod of the app's revision on a node, ready or not, with an optional waiting reason.
func pod(app *appsv1alpha1.HighlyAvailableApp, name, hash, nodeName string, ready bool, waiting string) *corev1.Pod {
	labels := map[string]string{
		appsv1alpha1.LabelName: app.Name, appsv1alpha1.LabelInstance: app.Name,
		appsv1alpha1.LabelManagedBy: appsv1alpha1.ManagedByValue, rollout.LabelRevisionHash: hash,
	}
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: app.Namespace, Labels: labels,
			OwnerReferences: []metav1.OwnerReference{podOwner(app, hash, labels)}},
		Spec: corev1.PodSpec{NodeName: nodeName, Containers: []corev1.Container{{Name: app.Spec.Template.Spec.Containers[0].Name,
			Image: app.Spec.Template.Spec.Containers[0].Image}}},
	}
	ExpectWithOffset(1, k8sClient.Create(ctx, p)).To(Succeed())
	readyStatus := corev1.ConditionFalse
	if ready {
		readyStatus = corev1.ConditionTrue
	}
	p.Status = corev1.PodStatus{Phase: corev1.PodRunning,
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: readyStatus}}}
	cs := corev1.ContainerStatus{Name: p.Spec.Containers[0].Name, Image: p.Spec.Containers[0].Image, Ready: ready}
	if waiting != "" {
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: waiting,
			Message: fmt.Sprintf("Back-off pulling image %q: not found", p.Spec.Containers[0].Image)}
	} else {
		cs.State.Running = &corev1.ContainerStateRunning{}
	}
	p.Status.ContainerStatuses = []corev1.ContainerStatus{cs}
	ExpectWithOffset(1, k8sClient.Status().Update(ctx, p)).To(Succeed())
	return p
}

// podOwner is the controller a pod of the app's revision has: its StatefulSet, or a ReplicaSet of
// its Deployment (created here, as the Deployment controller would).
func podOwner(app *appsv1alpha1.HighlyAvailableApp, hash string, labels map[string]string) metav1.OwnerReference {
	key := client.ObjectKey{Namespace: app.Namespace, Name: app.Name}
	if app.Spec.AppType() == appsv1alpha1.Stateful {
		sts := statefulSet(key)
		return metav1.OwnerReference{APIVersion: "apps/v1", Kind: "StatefulSet", Name: sts.Name, UID: sts.UID, Controller: new(true)}
	}
	d := deployment(key)
	rs := &appsv1.ReplicaSet{}
	rsKey := client.ObjectKey{Namespace: app.Namespace, Name: app.Name + "-" + hash}
	if err := k8sClient.Get(ctx, rsKey, rs); apierrors.IsNotFound(err) {
		rs = &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Name: rsKey.Name, Namespace: app.Namespace, Labels: labels,
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: d.Name, UID: d.UID, Controller: new(true)}}},
			Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](0), Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "c"}}}}},
		}
		ExpectWithOffset(2, k8sClient.Create(ctx, rs)).To(Succeed())
	}
	// The operator's cache must have seen the ReplicaSet before it judges the pod.
	return metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: new(true)}
}

// templateHash is the revision hash the operator put on the workload's template.
func templateHash(tpl corev1.PodTemplateSpec) string {
	return tpl.Labels[rollout.LabelRevisionHash]
}

// writesSettle waits until the operator has sent no write to the namespace's objects for a while and
// returns their count.
func writesSettle(ns string) int64 {
	var last int64 = -1
	EventuallyWithOffset(1, func() bool {
		n := writes.in(ns)
		settled := n == last
		last = n
		return settled
	}, 20*time.Second, 1500*time.Millisecond).Should(BeTrue())
	return last
}

func advanceClock(d time.Duration) {
	t := clock.Load().Add(d)
	clock.Store(&t)
}

// updateApp changes the app's spec or metadata as a user would.
func updateApp(key client.ObjectKey, change func(*appsv1alpha1.HighlyAvailableApp)) {
	ExpectWithOffset(1, testenv.UpdateApp(ctx, k8sClient, key, change)).To(Succeed())
}
