package main

import (
	"bytes"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/rollout"
	"github.com/haoperator/ha-operator/internal/status"
)

// The names and images of the nginx sample's story.
const (
	testNamespace = "shop"
	appName       = "web"
	imageOld      = "nginx:1.7.9"
	imageGood     = "nginx:1.9.1"
	imageBad      = "nginx:1.91"
	imageOther    = "nginx:1.27"
)

// stuckPodFailure is the verdict on the failed revision's pod in the nginx sample's story.
const stuckPodFailure = `pod web-5d7b9-x2lzq container web: ImagePullBackOff: Back-off pulling image "nginx:1.91"`

// now is the fixed clock of every plugin test.
var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) metav1.Time { return metav1.NewTime(now.Add(-d)) }

func userTemplate(image string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"tier": "frontend"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: appName, Image: image, Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 80}},
		}}},
	}
}

// webApp is the nginx sample's story after `nginx:1.91` was rolled back: revision 2 (nginx:1.9.1) serves,
// the spec still asks for revision 3.
func webApp() *appsv1alpha1.HighlyAvailableApp {
	return &appsv1alpha1.HighlyAvailableApp{
		ObjectMeta: metav1.ObjectMeta{
			Name: appName, Namespace: testNamespace, UID: types.UID("app-uid"), Generation: 5,
			CreationTimestamp: ago(72 * time.Hour),
		},
		Spec: appsv1alpha1.HighlyAvailableAppSpec{
			Type:     appsv1alpha1.Stateless,
			Replicas: ptr.To[int32](3),
			Template: userTemplate(imageBad),
			Rollout:  &appsv1alpha1.RolloutSpec{ProgressDeadlineSeconds: ptr.To[int32](600)},
		},
		Status: appsv1alpha1.HighlyAvailableAppStatus{
			ObservedGeneration: 5,
			Conditions: []metav1.Condition{
				{Type: appsv1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: appsv1alpha1.ReasonRolledBack,
					Message: "revision 3 failed and revision 2 serves"},
				{Type: appsv1alpha1.ConditionReconciling, Status: metav1.ConditionFalse, Reason: appsv1alpha1.ReasonRolledBack},
				{Type: appsv1alpha1.ConditionStalled, Status: metav1.ConditionTrue, Reason: appsv1alpha1.ReasonRolledBack,
					Message: "rolled back to revision 2: " + stuckPodFailure},
				{Type: appsv1alpha1.ConditionAvailable, Status: metav1.ConditionTrue, Reason: appsv1alpha1.ReasonMinimumAvailable},
				{Type: appsv1alpha1.ConditionHighlyAvailable, Status: metav1.ConditionTrue,
					Reason: appsv1alpha1.ReasonZoneRedundant},
			},
			Workload:           &appsv1alpha1.WorkloadReference{Kind: "Deployment", Name: appName},
			Replicas:           3,
			ReadyReplicas:      3,
			UpdatedReplicas:    0,
			AvailableReplicas:  3,
			ReadySummary:       "3/3",
			CurrentRevision:    2,
			UpdateRevision:     3,
			LastFailedRevision: 3,
			Resilience:         appsv1alpha1.ZoneRedundant,
			Zones:              3,
			Nodes:              3,
			ZoneLoss:           &appsv1alpha1.ZoneLoss{Tolerated: true, WorstZone: "zone-a", RemainingReady: 2, MinimumReady: 2},
		},
	}
}

// revision builds a stored revision of app the way the controller does.
func revision(t *testing.T, app *appsv1alpha1.HighlyAvailableApp, number int64, image string,
	outcome rollout.Outcome, failure string, created time.Duration) *appsv1.ControllerRevision {
	t.Helper()
	user := userTemplate(image)
	hash := rollout.Hash(&user)
	built := *user.DeepCopy()
	built.Labels[appsv1alpha1.LabelName] = app.Name
	built.Labels[appsv1alpha1.LabelInstance] = app.Name
	built.Labels[rollout.LabelRevisionHash] = hash
	cr, err := rollout.NewRevision(app, hash, number, rollout.RevisionData{Template: user, PodTemplate: built})
	if err != nil {
		t.Fatal(err)
	}
	cr.CreationTimestamp = ago(created)
	cr.OwnerReferences = []metav1.OwnerReference{{
		APIVersion: appsv1alpha1.GroupVersion.String(), Kind: "HighlyAvailableApp", Name: app.Name, UID: app.UID,
		Controller: new(true),
	}}
	rec := rollout.ReadRecord(cr)
	rec.Outcome = outcome
	if outcome == rollout.OutcomeFailed {
		rec.Failure = failure
	}
	cr, _ = rec.WriteTo(cr)
	return cr
}

func appPod(name, hash, node string, created time.Duration, mutate ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: testNamespace, CreationTimestamp: ago(created),
			Labels: map[string]string{
				appsv1alpha1.LabelName: appName, appsv1alpha1.LabelInstance: appName, rollout.LabelRevisionHash: hash,
			},
		},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: appName}}},
		Status: corev1.PodStatus{
			Phase:      corev1.PodRunning,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
			ContainerStatuses: []corev1.ContainerStatus{{
				Name: appName, Ready: true, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
			}},
		},
	}
	for _, m := range mutate {
		m(p)
	}
	return p
}

func zoneNode(name, zone string) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{
		Name: name, Labels: map[string]string{corev1.LabelTopologyZone: zone},
	}}
}

// world is the cluster of the nginx sample's story: revisions 1–3, the Deployment back on revision 2 with
// three ready pods over three zones, and the failed revision's pod stuck pulling its image.
func world(t *testing.T) []client.Object {
	app := webApp()
	rev1 := revision(t, app, 1, imageOld, rollout.OutcomeComplete, "", 72*time.Hour)
	rev2 := revision(t, app, 2, imageGood, rollout.OutcomeComplete, "", 2*time.Hour)
	rev3 := revision(t, app, 3, imageBad, rollout.OutcomeFailed, stuckPodFailure, 5*time.Minute)
	h2, h3 := rollout.RevisionHash(rev2), rollout.RevisionHash(rev3)
	deploy := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{
			Name: appName, Namespace: testNamespace, Generation: 9, CreationTimestamp: ago(72 * time.Hour),
		},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](3)},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 9, Replicas: 3, ReadyReplicas: 3, UpdatedReplicas: 3,
			AvailableReplicas: 3},
	}
	stuck := appPod("web-5d7b9-x2lzq", h3, "node-a", 4*time.Minute, func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodPending
		p.Status.Conditions[0].Status = corev1.ConditionFalse
		p.Status.ContainerStatuses[0].Ready = false
		p.Status.ContainerStatuses[0].State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
			Reason: "ImagePullBackOff", Message: `Back-off pulling image "nginx:1.91"`,
		}}
	})
	return []client.Object{
		app, rev1, rev2, rev3, deploy,
		appPod("web-7f9c6-abcde", h2, "node-a", 2*time.Hour),
		appPod("web-7f9c6-fghij", h2, "node-b", 2*time.Hour, func(p *corev1.Pod) {
			p.Status.ContainerStatuses[0].RestartCount = 1
		}),
		appPod("web-7f9c6-klmno", h2, "node-c", 2*time.Hour),
		stuck,
		zoneNode("node-a", "zone-a"), zoneNode("node-b", "zone-b"), zoneNode("node-c", "zone-c"),
	}
}

// newSession is a session on a fake cluster holding objs, writing to the returned buffer.
func newSession(t *testing.T, funcs *interceptor.Funcs, objs ...client.Object) (
	*session, *bytes.Buffer, client.Client) {
	t.Helper()
	for _, obj := range objs {
		if app, ok := obj.(*appsv1alpha1.HighlyAvailableApp); ok {
			withPhase(app)
		}
	}
	b := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).
		WithStatusSubresource(&appsv1alpha1.HighlyAvailableApp{})
	if funcs != nil {
		b = b.WithInterceptorFuncs(*funcs)
	}
	c := b.Build()
	out := &bytes.Buffer{}
	return &session{
		client: c, namespace: testNamespace, out: out, width: 100,
		now: func() time.Time { return now }, interval: time.Millisecond,
	}, out, c
}

// withPhase writes the phase of the app's conditions on its status, as the operator writes them
// together.
func withPhase(app *appsv1alpha1.HighlyAvailableApp) *appsv1alpha1.HighlyAvailableApp {
	if len(app.Status.Conditions) > 0 {
		app.Status.Phase = status.PhaseOf(app.Status.Conditions).Phase
	}
	return app
}
