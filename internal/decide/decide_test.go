package decide

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/kinds"
	"github.com/haoperator/ha-operator/internal/rollout"
	"github.com/haoperator/ha-operator/internal/workload"
)

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

const ns = "shop"

// world is a small simulated cluster for the decision: the app, and what its workload controller,
// its pods and the operator's own writes have made of it.
type world struct {
	app    *appsv1alpha1.HighlyAvailableApp
	now    time.Time
	objs   map[Ref]client.Object
	rs     []appsv1.ReplicaSet
	pods   []corev1.Pod
	revs   []appsv1.ControllerRevision
	claims map[string]*corev1.PersistentVolumeClaim
	class  []storagev1.StorageClass
	issued int64
	uid    int
	// draining are the cordoned nodes; down the zones whose nodes are gone.
	draining map[string]bool
	down     map[string]bool
	// options are the operator's: an older generation of defaults plays an older operator.
	options workload.Options
	// silent are the nodes that stopped renewing their Lease, when they did (nil: no Leases at all).
	silent map[string]time.Time
}

func newApp(typ appsv1alpha1.AppType, image string) *appsv1alpha1.HighlyAvailableApp {
	return &appsv1alpha1.HighlyAvailableApp{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns, UID: "app-uid", Generation: 1},
		Spec: appsv1alpha1.HighlyAvailableAppSpec{
			Type:     typ,
			Replicas: new(int32(3)),
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name: "web", Image: image, Ports: []corev1.ContainerPort{{ContainerPort: 80}}}}}},
		},
	}
}

func newWorld(app *appsv1alpha1.HighlyAvailableApp) *world {
	return &world{app: app, now: t0, objs: map[Ref]client.Object{}, claims: map[string]*corev1.PersistentVolumeClaim{}}
}

func (w *world) input() Input {
	zones := map[string]string{"node-a": "zone-a", "node-b": "zone-b", "node-c": "zone-c"}
	draining := map[string]bool{}
	var clusterZones []string
	for _, node := range []string{"node-a", "node-b", "node-c"} {
		if w.draining[node] {
			draining[node] = true
		} else if !w.down[zones[node]] {
			clusterZones = append(clusterZones, zones[node])
		}
	}
	in := Input{App: w.app.DeepCopy(), Options: w.options, Now: w.now, Objects: w.objs, ReplicaSets: w.rs, Pods: w.pods,
		Revisions: w.revs, Claims: w.claims, StorageClasses: w.class, IssuedRevision: w.issued,
		NodeZones: zones, DrainingNodes: draining, ClusterZones: clusterZones}
	if w.silent != nil {
		in.NodeLeases = map[string]NodeLease{}
		silent := 0
		for _, node := range []string{"node-a", "node-b", "node-c"} {
			last := w.now
			if since, ok := w.silent[node]; ok {
				last = since
				if w.now.Sub(since) >= 15*time.Second {
					silent++
				}
			}
			in.NodeLeases[node] = NodeLease{LastRenewal: last, RenewInterval: 10 * time.Second}
		}
		in.SilentShare = float64(silent) / 3
	}
	return in
}

// nextNode places a new pod on the first schedulable node with fewest pods of the app, as a zone
// spread would.
func (w *world) nextNode() string {
	zones := map[string]string{"node-a": "zone-a", "node-b": "zone-b", "node-c": "zone-c"}
	count := map[string]int{}
	for _, p := range w.pods {
		count[p.Spec.NodeName]++
	}
	best := ""
	for _, node := range []string{"node-a", "node-b", "node-c"} {
		if w.draining[node] || w.down[zones[node]] {
			continue
		}
		if best == "" || count[node] < count[best] {
			best = node
		}
	}
	return best
}

func (w *world) nextUID() types.UID {
	w.uid++
	return types.UID(fmt.Sprintf("uid-%d", w.uid))
}

// act applies a plan to the world the way the API server would (without the workload controller).
func (w *world) act(p Plan) {
	// The status is written with the plan's advice, silent nodes and revision.
	w.app.Status.Advice, w.app.Status.SilentNodes = p.Advice, p.SilentNodes
	w.app.Status.UpdateRevision = p.Rollout.UpdateRevision
	for _, m := range p.MarkPods {
		for i := range w.pods {
			if w.pods[i].UID == m.Pod.UID {
				setReady(&w.pods[i], false)
			}
		}
	}
	for _, rw := range p.Revisions {
		obj := rw.Object.DeepCopy()
		w.issued = max(w.issued, obj.Revision)
		replaced := false
		for i := range w.revs {
			if w.revs[i].Name == obj.Name {
				w.revs[i], replaced = *obj, true
			}
		}
		if !replaced {
			obj.UID = w.nextUID()
			obj.CreationTimestamp = metav1.NewTime(w.now)
			w.revs = append(w.revs, *obj)
		}
	}
	if p.RecreateStatefulSet != nil {
		delete(w.objs, Ref{kinds.StatefulSet, p.RecreateStatefulSet.Name})
		for i := range w.pods {
			w.pods[i].OwnerReferences = nil
		}
	}
	for _, c := range p.PodCosts {
		for i := range w.pods {
			if w.pods[i].UID != c.Pod.UID {
				continue
			}
			if c.Cost == "" {
				delete(w.pods[i].Annotations, AnnotationDeletionCost)
				continue
			}
			if w.pods[i].Annotations == nil {
				w.pods[i].Annotations = map[string]string{}
			}
			w.pods[i].Annotations[AnnotationDeletionCost] = c.Cost
		}
	}
	for _, d := range p.Apply {
		obj := d.Object.DeepCopyObject().(client.Object)
		if old := w.objs[d.Ref]; old != nil {
			obj.SetUID(old.GetUID())
			obj.SetCreationTimestamp(old.GetCreationTimestamp())
			obj.SetGeneration(old.GetGeneration() + 1)
			switch o := obj.(type) {
			case *appsv1.Deployment:
				o.Status = old.(*appsv1.Deployment).Status
				if o.Spec.Replicas == nil {
					o.Spec.Replicas = old.(*appsv1.Deployment).Spec.Replicas
				}
			case *appsv1.StatefulSet:
				o.Status = old.(*appsv1.StatefulSet).Status
				if o.Spec.Replicas == nil {
					o.Spec.Replicas = old.(*appsv1.StatefulSet).Spec.Replicas
				}
			}
		} else {
			obj.SetUID(w.nextUID())
			obj.SetGeneration(1)
			obj.SetCreationTimestamp(metav1.NewTime(w.now))
		}
		w.objs[d.Ref] = obj
	}
	for _, d := range p.Delete {
		delete(w.objs, d.Ref)
	}
	for _, d := range p.DeletePods {
		for i := range w.pods {
			if w.pods[i].UID == d.Pod.UID {
				w.pods = append(w.pods[:i], w.pods[i+1:]...)
				break
			}
		}
	}
	for _, cr := range p.Prune {
		for i := range w.revs {
			if w.revs[i].Name == cr.Name {
				w.revs = append(w.revs[:i], w.revs[i+1:]...)
				break
			}
		}
	}
}

func (w *world) deployment() *appsv1.Deployment {
	d, _ := w.objs[Ref{kinds.Deployment, "web"}].(*appsv1.Deployment)
	return d
}

func (w *world) statefulSet() *appsv1.StatefulSet {
	s, _ := w.objs[Ref{kinds.StatefulSet, "web"}].(*appsv1.StatefulSet)
	return s
}

// podState is how a simulated pod behaves.
type podState int

const (
	podReady podState = iota
	podStarting
	podPullNotFound
	podPull429
	podCrash
)

func (w *world) newPod(name, hash string, owner metav1.Object, kind string, state podState) corev1.Pod {
	p := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: w.nextUID(), CreationTimestamp: metav1.NewTime(w.now),
			Labels: map[string]string{appsv1alpha1.LabelName: "web", appsv1alpha1.LabelInstance: "web",
				appsv1alpha1.LabelManagedBy: appsv1alpha1.ManagedByValue, rollout.LabelRevisionHash: hash},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: kind, Name: owner.GetName(), UID: owner.GetUID(), Controller: new(true)}}},
		Spec: corev1.PodSpec{NodeName: w.nextNode(), Containers: []corev1.Container{{Name: "web"}}},
	}
	setPodState(&p, state, w.now)
	return p
}

func setPodState(p *corev1.Pod, state podState, now time.Time) {
	ready := corev1.ConditionFalse
	st := corev1.ContainerStatus{Name: "web"}
	switch state {
	case podReady:
		ready = corev1.ConditionTrue
		st.Ready = true
		st.State.Running = &corev1.ContainerStateRunning{}
	case podStarting:
		st.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}
	case podPullNotFound:
		st.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ErrImagePull", Message: "nginx:1.91: not found"}
	case podPull429:
		st.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ErrImagePull", Message: "429 Too Many Requests"}
	case podCrash:
		st.RestartCount = 5
		st.State.Waiting = &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off"}
	}
	p.Status.ContainerStatuses = []corev1.ContainerStatus{st}
	p.Status.Conditions = []corev1.PodCondition{
		{Type: corev1.PodReady, Status: ready, LastTransitionTime: metav1.NewTime(now)},
		{Type: corev1.ContainersReady, Status: ready, LastTransitionTime: metav1.NewTime(now)},
	}
}

func hashOfTemplate(obj client.Object) string {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return o.Spec.Template.Labels[rollout.LabelRevisionHash]
	case *appsv1.StatefulSet:
		return o.Spec.Template.Labels[rollout.LabelRevisionHash]
	case *appsv1.DaemonSet:
		return o.Spec.Template.Labels[rollout.LabelRevisionHash]
	}
	return ""
}

// settleDeployment plays the Deployment controller: one ReplicaSet per template hash, the pods of the
// template in the given state, the old ones gone once the new ones are ready.
func (w *world) settleDeployment(state podState) {
	d := w.deployment()
	hash := hashOfTemplate(d)
	var rs *appsv1.ReplicaSet
	for i := range w.rs {
		if w.rs[i].Labels[rollout.LabelRevisionHash] == hash {
			rs = &w.rs[i]
		}
	}
	if rs == nil {
		w.rs = append(w.rs, appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web-" + hash, Namespace: ns, UID: w.nextUID(),
			Labels:          map[string]string{rollout.LabelRevisionHash: hash},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "web", UID: d.UID, Controller: new(true)}}}})
		rs = &w.rs[len(w.rs)-1]
	}
	want := *d.Spec.Replicas
	var kept []corev1.Pod
	var have int32
	// A scale-in removes the pods with the lowest deletion cost first.
	slices.SortStableFunc(w.pods, func(a, b corev1.Pod) int {
		return costOf(&b) - costOf(&a)
	})
	for _, p := range w.pods {
		if p.Labels[rollout.LabelRevisionHash] == hash {
			if have < want {
				kept = append(kept, p)
				have++
			}
		} else if state != podReady {
			kept = append(kept, p) // old pods stay while the new ones are not ready
		}
	}
	for have < want {
		w.pods = kept // a new pod is placed by the pods that stay
		kept = append(kept, w.newPod(fmt.Sprintf("web-%s-%d", hash, have), hash, rs, "ReplicaSet", state))
		have++
	}
	w.pods = kept
	ready := int32(0)
	updated := int32(0)
	for _, p := range w.pods {
		if rollout.PodReady(&p) {
			ready++
		}
		if p.Labels[rollout.LabelRevisionHash] == hash {
			updated++
		}
	}
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: int32(len(w.pods)),
		UpdatedReplicas: updated, ReadyReplicas: ready, AvailableReplicas: ready}
}

func costOf(p *corev1.Pod) int {
	if p.Annotations[AnnotationDeletionCost] == deletionCostFirst {
		return -1
	}
	return 0
}

func step(t *testing.T, w *world) Plan {
	t.Helper()
	p := Decide(w.input())
	w.act(p)
	return p
}

func eventReasons(p Plan) []string {
	out := make([]string, 0, len(p.Events))
	for _, e := range p.Events {
		out = append(out, e.Reason)
	}
	return out
}

func TestNewStatelessAppCreatesEverything(t *testing.T) {
	w := newWorld(newApp(appsv1alpha1.Stateless, "nginx:1.7.9"))
	p := step(t, w)
	// The first revision is told, and written once its rollout ends.
	if len(p.Revisions) != 0 || p.Rollout.UpdateRevision != 1 || !slices.Contains(eventReasons(p), appsv1alpha1.ReasonRolloutStarted) {
		t.Fatalf("revisions %+v, update revision %d, events %v", p.Revisions, p.Rollout.UpdateRevision, eventReasons(p))
	}
	applied := make([]string, 0, len(p.Apply))
	for _, d := range p.Apply {
		applied = append(applied, d.Kind)
	}
	if got := strings.Join(applied, ","); got != "Deployment,PodDisruptionBudget,Service" {
		t.Errorf("applied %s", got)
	}
	if p.Problem != nil {
		t.Errorf("problem %+v", p.Problem)
	}
	w.settleDeployment(podReady)
	p = step(t, w)
	if len(p.Revisions) != 1 || p.Revisions[0].Before != nil || p.Revisions[0].Object.Revision != 1 ||
		rollout.ReadRecord(p.Revisions[0].Object).Outcome != rollout.OutcomeComplete {
		t.Fatalf("completion wrote revisions %+v, want revision 1 created complete", p.Revisions)
	}
	// Nothing changed: the next decision sends nothing.
	p = step(t, w)
	if len(p.Apply)+len(p.Revisions)+len(p.Delete)+len(p.DeletePods)+len(p.Prune) != 0 {
		t.Errorf("a settled app writes: %+v", p)
	}
}

func TestSeedStory(t *testing.T) {
	w := newWorld(newApp(appsv1alpha1.Stateless, "nginx:1.7.9"))
	step(t, w)
	w.settleDeployment(podReady)
	p := step(t, w)
	if p.Rollout.CurrentRevision != 1 || !contains(eventReasons(p), appsv1alpha1.ReasonRolloutComplete) {
		t.Fatalf("revision 1 not complete: %+v %v", p.Rollout, eventReasons(p))
	}
	// 1.7.9 → 1.9.1 completes.
	w.app.Spec.Template.Spec.Containers[0].Image = "nginx:1.9.1"
	w.now = w.now.Add(time.Minute)
	step(t, w)
	w.settleDeployment(podReady)
	p = step(t, w)
	if p.Rollout.CurrentRevision != 2 || p.Rollout.UpdateRevision != 2 {
		t.Fatalf("1.9.1: %+v", p.Rollout)
	}
	// 1.91 does not exist: rolled back at once, the spec untouched.
	w.app.Spec.Template.Spec.Containers[0].Image = "nginx:1.91"
	w.now = w.now.Add(time.Minute)
	step(t, w)
	w.settleDeployment(podPullNotFound)
	w.now = w.now.Add(2 * time.Second)
	p = step(t, w)
	if !contains(eventReasons(p), appsv1alpha1.ReasonRolledBack) || p.Rollout.Failure == "" {
		t.Fatalf("1.91 not rolled back: %+v %v", p.Rollout, eventReasons(p))
	}
	if got := w.deployment().Spec.Template.Spec.Containers[0].Image; got != "nginx:1.9.1" {
		t.Errorf("workload image %s, want nginx:1.9.1", got)
	}
	if w.app.Spec.Template.Spec.Containers[0].Image != "nginx:1.91" {
		t.Error("the spec was changed")
	}
}

func TestTransientPullErrorIsTolerated(t *testing.T) {
	w := newWorld(newApp(appsv1alpha1.Stateless, "nginx:1.7.9"))
	step(t, w)
	w.settleDeployment(podReady)
	step(t, w)
	w.app.Spec.Template.Spec.Containers[0].Image = "nginx:1.9.1"
	step(t, w)
	w.settleDeployment(podPull429)
	w.now = w.now.Add(5 * time.Second)
	p := step(t, w)
	if p.Rollout.Failure != "" {
		t.Fatalf("a 429 failed the update: %s", p.Rollout.Failure)
	}
	if p.Requeue <= 0 || p.Requeue > 30*time.Second {
		t.Errorf("requeue %v: the grace period's end must be looked at", p.Requeue)
	}
	w.now = w.now.Add(40 * time.Second)
	p = step(t, w)
	if p.Rollout.FailureReason != appsv1alpha1.ReasonRolledBack {
		t.Errorf("a pull error lasting past the grace period did not roll back: %+v", p.Rollout)
	}
}

func TestSlowHealthyRolloutIsNotFailed(t *testing.T) {
	app := newApp(appsv1alpha1.Stateless, "nginx:1.7.9")
	app.Spec.Replicas = new(int32(4))
	app.Spec.Rollout = &appsv1alpha1.RolloutSpec{ProgressDeadlineSeconds: new(int32(20))}
	w := newWorld(app)
	step(t, w)
	w.settleDeployment(podReady)
	step(t, w)
	w.app.Spec.Template.Spec.Containers[0].Image = "nginx:1.9.1"
	step(t, w)
	hash := hashOfTemplate(w.deployment())
	rs := appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web-new", UID: w.nextUID(), Labels: map[string]string{rollout.LabelRevisionHash: hash},
		OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", Name: "web", UID: w.deployment().UID, Controller: new(true)}}}}
	w.rs = append(w.rs, rs)
	// A new pod becomes ready every 8 s; 40 s in all, twice the deadline.
	for i := range 5 {
		w.now = w.now.Add(8 * time.Second)
		w.pods = append(w.pods, w.newPod(fmt.Sprintf("web-new-%d", i), hash, &rs, "ReplicaSet", podReady))
		p := step(t, w)
		if p.Rollout.Failure != "" {
			t.Fatalf("after %d s: a progressing update failed: %s", (i+1)*8, p.Rollout.Failure)
		}
	}
	// Then nothing for longer than the deadline.
	w.now = w.now.Add(21 * time.Second)
	if p := step(t, w); p.Rollout.FailureReason == "" {
		t.Error("no progress past the deadline did not fail")
	}
}

func TestPauseLongerThanDeadline(t *testing.T) {
	app := newApp(appsv1alpha1.Stateless, "nginx:1.7.9")
	app.Spec.Rollout = &appsv1alpha1.RolloutSpec{ProgressDeadlineSeconds: new(int32(20))}
	w := newWorld(app)
	step(t, w)
	w.settleDeployment(podReady)
	step(t, w)
	w.app.Spec.Template.Spec.Containers[0].Image = "nginx:1.9.1"
	w.app.Spec.Rollout.Paused = true
	step(t, w)
	w.now = w.now.Add(10 * time.Minute)
	step(t, w)
	w.app.Spec.Rollout.Paused = false
	p := step(t, w)
	if p.Rollout.Failure != "" {
		t.Fatalf("resumed update failed at once: %s", p.Rollout.Failure)
	}
	w.now = w.now.Add(10 * time.Second)
	if p := step(t, w); p.Rollout.Failure != "" {
		t.Fatalf("10 s after the resume: %s", p.Rollout.Failure)
	}
}

func TestAutoscalingHandsOverTheLiveCount(t *testing.T) {
	app := newApp(appsv1alpha1.Stateless, "nginx:1.7.9")
	app.Spec.Replicas = new(int32(5))
	w := newWorld(app)
	step(t, w)
	w.settleDeployment(podReady)
	step(t, w)
	w.app.Spec.Autoscaling = &appsv1alpha1.AutoscalingSpec{MinReplicas: new(int32(2)), MaxReplicas: 10}
	w.app.Generation++
	p := Decide(w.input())
	if p.HandOverBefore == nil || p.HandOverBefore.Replicas != 5 {
		t.Fatalf("hand-over %+v, want the live 5", p.HandOverBefore)
	}
	for _, d := range p.Apply {
		if d.Kind == kinds.Deployment {
			if _, set := d.Apply.Object["spec"].(map[string]any)["replicas"]; set {
				t.Error("the operator still applies replicas under an autoscaler")
			}
		}
	}
	w.act(p)
	w.objs[Ref{kinds.HPA, "web"}].(*autoscalingv2.HorizontalPodAutoscaler).OwnerReferences = []metav1.OwnerReference{ownerReference(w.app)}
	if p := Decide(w.input()); p.HandOverBefore != nil {
		t.Error("hand-over repeated once the autoscaler exists")
	}
}

func TestScaleIsNotARevision(t *testing.T) {
	w := newWorld(newApp(appsv1alpha1.Stateful, "cassandra:3"))
	step(t, w)
	sts := w.statefulSet()
	before := sts.Spec.Template.DeepCopy()
	w.app.Spec.Replicas = new(int32(4))
	p := step(t, w)
	if len(p.Revisions) != 0 {
		t.Fatalf("a scale wrote revisions: %+v", p.Revisions)
	}
	if got := w.statefulSet(); *got.Spec.Replicas != 4 || !equalTemplates(before, &got.Spec.Template) {
		t.Errorf("a scale changed the template or not the count: replicas %d", *got.Spec.Replicas)
	}
}

func equalTemplates(a, b *corev1.PodTemplateSpec) bool {
	return rollout.Hash(a) == rollout.Hash(b)
}

func TestLookAlikePodIsIgnored(t *testing.T) {
	w := newWorld(newApp(appsv1alpha1.Stateful, "cassandra:3"))
	step(t, w)
	w.app.Spec.Template.Spec.Containers[0].Image = "cassandra:4"
	step(t, w)
	hash := hashOfTemplate(w.statefulSet())
	fake := w.newPod("web-0", hash, &metav1.ObjectMeta{Name: "intruder", UID: "other"}, "ReplicaSet", podCrash)
	w.pods = append(w.pods, fake)
	w.now = w.now.Add(time.Minute)
	p := step(t, w)
	if p.Rollout.Failure != "" || len(p.DeletePods) != 0 {
		t.Errorf("a look-alike pod failed the update or was deleted: %+v %+v", p.Rollout, p.DeletePods)
	}
}

func TestStorageRefusals(t *testing.T) {
	class := "fast"
	base := func() *world {
		app := newApp(appsv1alpha1.Stateful, "cassandra:3")
		app.Spec.Storage = []appsv1alpha1.StorageSpec{{Name: "data", MountPath: "/data", Size: resource.MustParse("1Gi")}}
		w := newWorld(app)
		w.class = []storagev1.StorageClass{{ObjectMeta: metav1.ObjectMeta{Name: "standard",
			Annotations: map[string]string{annotationDefaultClass: "true"}}, AllowVolumeExpansion: new(true)}}
		step(t, w)
		for ord := range int32(3) {
			name := workload.ClaimName(app, "data", ord)
			w.claims[name] = &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: workload.Labels(app)},
				Spec: corev1.PersistentVolumeClaimSpec{Resources: corev1.VolumeResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}
		}
		return w
	}
	tests := []struct {
		name   string
		change func(*world)
		reason string
		grow   int
	}{
		{"shrink", func(w *world) { w.app.Spec.Storage[0].Size = resource.MustParse("512Mi") }, appsv1alpha1.ReasonStorageChangeRefused, 0},
		{"class change", func(w *world) { w.app.Spec.Storage[0].StorageClassName = &class }, appsv1alpha1.ReasonStorageChangeRefused, 0},
		{"access mode", func(w *world) {
			w.app.Spec.Storage[0].AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}
		}, appsv1alpha1.ReasonStorageChangeRefused, 0},
		{"removed entry", func(w *world) { w.app.Spec.Storage = nil }, appsv1alpha1.ReasonStorageChangeRefused, 0},
		{"no expansion", func(w *world) {
			w.class[0].AllowVolumeExpansion = nil
			w.app.Spec.Storage[0].Size = resource.MustParse("2Gi")
		}, appsv1alpha1.ReasonStorageChangeRefused, 0},
		{"zero size", func(w *world) { w.app.Spec.Storage[0].Size = resource.MustParse("0") }, appsv1alpha1.ReasonInvalidStorage, 0},
		{"grow by exact name", func(w *world) {
			w.app.Spec.Storage[0].Size = resource.MustParse("2Gi")
			other := "data-web-web-0" // another storage entry's claim with a look-alike prefix
			w.claims[other] = &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: other}}
		}, "", 3},
		{"claim of another app", func(w *world) {
			w.app.Spec.Replicas = new(int32(4))
			name := workload.ClaimName(w.app, "data", 3)
			w.claims[name] = &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: name,
				Labels: map[string]string{appsv1alpha1.LabelInstance: "other", appsv1alpha1.LabelManagedBy: appsv1alpha1.ManagedByValue}}}
		}, appsv1alpha1.ReasonConflict, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := base()
			tt.change(w)
			p := Decide(w.input())
			got := ""
			if p.Problem != nil {
				got = p.Problem.Reason
			}
			if got != tt.reason {
				t.Fatalf("problem %q (%+v), want %q", got, p.Problem, tt.reason)
			}
			if len(p.GrowClaims) != tt.grow {
				t.Errorf("grows %d claims, want %d", len(p.GrowClaims), tt.grow)
			}
			if tt.reason != "" && (len(p.Apply) != 0 || p.RecreateStatefulSet != nil || len(p.DeletePods) != 0) {
				t.Errorf("a refusal changed something: %+v", p)
			}
		})
	}
}

func TestMissingStorageClassIsCheckedOnlyForNewClaims(t *testing.T) {
	class := "gone"
	app := newApp(appsv1alpha1.Stateful, "db:1")
	app.Spec.Storage = []appsv1alpha1.StorageSpec{{Name: "data", MountPath: "/data", Size: resource.MustParse("1Gi"), StorageClassName: &class}}
	w := newWorld(app)
	if p := Decide(w.input()); p.Problem == nil || p.Problem.Reason != appsv1alpha1.ReasonStorageClassNotFound {
		t.Fatalf("a new app with a missing class: %+v", p.Problem)
	}
	for ord := range int32(3) {
		w.claims[workload.ClaimName(app, "data", ord)] = &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Labels: workload.Labels(app)}}
	}
	if p := Decide(w.input()); p.Problem != nil {
		t.Errorf("claims that exist need no class: %+v", p.Problem)
	}
}

func TestConflictIsRequeuedWithJitter(t *testing.T) {
	w := newWorld(newApp(appsv1alpha1.Stateless, "nginx:1"))
	w.objs[Ref{kinds.Service, "web"}] = &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns}}
	p := Decide(w.input())
	if p.Problem == nil || p.Problem.Reason != appsv1alpha1.ReasonConflict {
		t.Fatalf("problem %+v", p.Problem)
	}
	if p.Requeue < ConflictRecheck || p.Requeue > ConflictRecheck*3/2 {
		t.Errorf("requeue %v", p.Requeue)
	}
	for _, d := range p.Apply {
		if d.Ref == (Ref{kinds.Service, "web"}) {
			t.Error("applied over an object the app does not own")
		}
	}
}

func TestRevisionNumbersNeverRepeatUnderCacheLag(t *testing.T) {
	w := newWorld(newApp(appsv1alpha1.Stateless, "nginx:1"))
	step(t, w)
	w.settleDeployment(podReady)
	p := Decide(w.input())
	w.issued = p.Revisions[0].Object.Revision // written, but the cache does not show it yet
	w.app.Spec.Template.Spec.Containers[0].Image = "nginx:2"
	p = Decide(w.input())
	if got := p.Revisions[0].Object.Revision; got != 2 {
		t.Errorf("revision %d, want 2", got)
	}
}

func TestServiceTypePolicy(t *testing.T) {
	app := newApp(appsv1alpha1.Stateless, "nginx:1")
	app.Spec.Service = &appsv1alpha1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer}
	w := newWorld(app)
	in := w.input()
	in.Options.AllowedServiceTypes = []corev1.ServiceType{corev1.ServiceTypeClusterIP}
	p := Decide(in)
	if p.Problem == nil || p.Problem.Reason != appsv1alpha1.ReasonInvalidSpec || !strings.Contains(p.Problem.Message, "spec.service.type") {
		t.Fatalf("problem %+v", p.Problem)
	}
	if len(p.Apply)+len(p.Revisions) != 0 {
		t.Error("a refused spec created objects")
	}
}

func TestStatefulRollbackDeletesStuckPodsOnlyOnceApplied(t *testing.T) {
	w := newWorld(newApp(appsv1alpha1.Stateful, "cassandra:3"))
	step(t, w)
	sts := w.statefulSet()
	good := hashOfTemplate(sts)
	for i := range 3 {
		w.pods = append(w.pods, w.newPod(fmt.Sprintf("web-%d", i), good, sts, "StatefulSet", podReady))
	}
	sts.Status = appsv1.StatefulSetStatus{ObservedGeneration: sts.Generation, Replicas: 3, ReadyReplicas: 3, AvailableReplicas: 3, UpdatedReplicas: 3}
	step(t, w)
	w.app.Spec.Template.Spec.Containers[0].Image = "cassandra:does-not-exist"
	step(t, w)
	bad := hashOfTemplate(w.statefulSet())
	w.pods[2] = w.newPod("web-2", bad, w.statefulSet(), "StatefulSet", podPullNotFound)
	w.now = w.now.Add(2 * time.Second)
	p := Decide(w.input())
	if p.Rollout.FailureReason != appsv1alpha1.ReasonRolledBack {
		t.Fatalf("not rolled back: %+v", p.Rollout)
	}
	if len(p.DeletePods) != 0 {
		t.Fatal("a stuck pod was deleted before the rollback was applied")
	}
	w.act(p)
	// The StatefulSet carries the good template, but its controller has not observed it: a pod
	// deleted now would come back on the failed template.
	w.statefulSet().Status.ObservedGeneration = w.statefulSet().Generation - 1
	w.now = w.now.Add(time.Second)
	if p = Decide(w.input()); len(p.DeletePods) != 0 {
		t.Fatal("a stuck pod was deleted before the StatefulSet controller observed the good template")
	}
	w.statefulSet().Status.ObservedGeneration = w.statefulSet().Generation
	p = step(t, w)
	if len(p.DeletePods) != 1 || p.DeletePods[0].Pod.Name != "web-2" {
		t.Fatalf("deletes %+v, want web-2 once the StatefulSet controller observed the good template", p.DeletePods)
	}
}

func contains(list []string, s string) bool { return slices.Contains(list, s) }

var _ = intstr.FromInt32

func TestLatestFailedCreate(t *testing.T) {
	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{UID: "sts"}}
	ev := func(uid types.UID, reason, msg string, at time.Time) corev1.Event {
		return corev1.Event{InvolvedObject: corev1.ObjectReference{UID: uid}, Reason: reason, Message: msg, LastTimestamp: metav1.NewTime(at)}
	}
	events := []corev1.Event{
		ev("sts", "FailedCreate", "old quota", t0.Add(-10*time.Minute)),
		ev("sts", "FailedCreate", `pods "web-3" is forbidden: exceeded quota`, t0.Add(-10*time.Second)),
		ev("other", "FailedCreate", "another StatefulSet", t0),
		ev("sts", "SuccessfulCreate", "created", t0),
	}
	if got := LatestFailedCreate(events, sts, t0); got != `pods "web-3" is forbidden: exceeded quota` {
		t.Errorf("got %q", got)
	}
	if got := LatestFailedCreate(events[:1], sts, t0); got != "" {
		t.Errorf("a stale event counted: %q", got)
	}
	w := newWorld(newApp(appsv1alpha1.Stateful, "db:1"))
	in := w.input()
	in.FailedCreate = "exceeded quota"
	if p := Decide(in); p.Workload.ReplicaFailure != "exceeded quota" {
		t.Errorf("ReplicaFailure %q", p.Workload.ReplicaFailure)
	}
}

func TestResizeFailuresReachTheStatus(t *testing.T) {
	app := newApp(appsv1alpha1.Stateful, "db:1")
	app.Spec.Storage = []appsv1alpha1.StorageSpec{{Name: "data", MountPath: "/data", Size: resource.MustParse("1Gi")}}
	for _, tt := range []struct {
		name string
		cond corev1.PersistentVolumeClaimCondition
		want bool
		// recheck is the requeue the plan asks for at most: a resize in progress is looked at again
		// once it has waited FileSystemResizeTimeout, with no event needed.
		recheck time.Duration
	}{
		{"controller resize error", corev1.PersistentVolumeClaimCondition{Type: corev1.PersistentVolumeClaimControllerResizeError,
			Status: corev1.ConditionTrue, Message: "quota"}, true, 0},
		{"file system pending a moment", corev1.PersistentVolumeClaimCondition{Type: corev1.PersistentVolumeClaimFileSystemResizePending,
			Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(t0.Add(-time.Minute))}, false,
			FileSystemResizeTimeout - time.Minute + time.Second},
		{"file system pending too long", corev1.PersistentVolumeClaimCondition{Type: corev1.PersistentVolumeClaimFileSystemResizePending,
			Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(t0.Add(-time.Hour))}, true, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(app.DeepCopy())
			for ord := range int32(3) {
				name := workload.ClaimName(app, "data", ord)
				w.claims[name] = &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: workload.Labels(app)}}
			}
			w.claims["data-web-1"].Status.Conditions = []corev1.PersistentVolumeClaimCondition{tt.cond}
			p := Decide(w.input())
			got := p.Problem != nil && p.Problem.Reason == appsv1alpha1.ReasonStorageResizeFailed &&
				strings.Contains(p.Problem.Message, "data-web-1")
			if got != tt.want {
				t.Errorf("reported %v (%+v), want %v", got, p.Problem, tt.want)
			}
			if tt.recheck > 0 && (p.Requeue == 0 || p.Requeue > tt.recheck) {
				t.Errorf("requeue %s, want at most %s: the timeout needs a look with no event", p.Requeue, tt.recheck)
			}
		})
	}
}

func TestStatusDoesNotCallAChangingWorkloadSettled(t *testing.T) {
	w := newWorld(newApp(appsv1alpha1.Stateless, "nginx:1"))
	step(t, w)
	w.settleDeployment(podReady)
	step(t, w)
	w.app.Spec.Replicas = new(int32(4))
	w.app.Generation++
	p := Decide(w.input())
	if p.Workload.ObservedGeneration >= p.Workload.Generation || p.Workload.Desired != 4 {
		t.Errorf("workload seen as %+v while its scale to 4 is applied", p.Workload)
	}
	if p.Requeue <= 0 || p.Requeue > WorkloadRecheck {
		t.Errorf("requeue %v: a change that turns out to be none must be looked at again", p.Requeue)
	}
}

func TestSpecsTheCRDCannotRefuseAreRefusedWithTheirField(t *testing.T) {
	app := newApp(appsv1alpha1.Stateful, "db:1")
	app.Spec.Storage = []appsv1alpha1.StorageSpec{{Name: "data", MountPath: "/data", Size: resource.MustParse("1Gi"),
		Containers: []string{"nope"}}}
	p := Decide(newWorld(app).input())
	if p.Problem == nil || p.Problem.Reason != appsv1alpha1.ReasonInvalidSpec || !strings.Contains(p.Problem.Message, "spec.storage") {
		t.Fatalf("problem %+v", p.Problem)
	}
	if len(p.Apply)+len(p.Revisions) != 0 {
		t.Error("an invalid spec created objects")
	}
}

func TestCachedStatefulSetWithoutClaimTypeMetaIsNotAppliedAgain(t *testing.T) {
	app := newApp(appsv1alpha1.Stateful, "db:1")
	app.Spec.Storage = []appsv1alpha1.StorageSpec{{Name: "data", MountPath: "/data", Size: resource.MustParse("1Gi")}}
	w := newWorld(app)
	step(t, w)
	// A cached StatefulSet, decoded from protobuf, has no apiVersion and kind on its claim templates.
	sts := w.statefulSet()
	for i := range sts.Spec.VolumeClaimTemplates {
		sts.Spec.VolumeClaimTemplates[i].TypeMeta = metav1.TypeMeta{}
	}
	for _, d := range Decide(w.input()).Apply {
		if d.Kind == kinds.StatefulSet {
			t.Fatal("the StatefulSet is applied again although nothing changed")
		}
	}
}

func TestFailedFirstRevisionThatBecomesReadyIsRecovered(t *testing.T) {
	w := newWorld(newApp(appsv1alpha1.Stateless, "nginx:1"))
	step(t, w)
	w.settleDeployment(podPullNotFound)
	w.now = w.now.Add(2 * time.Second)
	p := step(t, w)
	if p.Rollout.FailureReason != appsv1alpha1.ReasonRolloutFailed || !strings.Contains(p.Rollout.Failure, "nothing to roll back to") {
		t.Fatalf("first revision: %+v", p.Rollout)
	}
	// The registry had the image after all: every replica becomes ready.
	w.rs, w.pods = nil, nil
	w.settleDeployment(podReady)
	p = step(t, w)
	if p.Rollout.Failure != "" || !contains(eventReasons(p), appsv1alpha1.ReasonRecovered) || p.Rollout.CurrentRevision != 1 {
		t.Errorf("not recovered: %+v %v", p.Rollout, eventReasons(p))
	}
}

func TestReturnedToRevisionIsJudgedAgain(t *testing.T) {
	w := newWorld(newApp(appsv1alpha1.Stateless, "nginx:1"))
	step(t, w)
	w.settleDeployment(podReady)
	step(t, w)
	w.app.Spec.Template.Spec.Containers[0].Image = "nginx:2"
	step(t, w)
	w.settleDeployment(podReady)
	step(t, w)
	// Undo to nginx:1 (revision 1 becomes revision 3), whose pods now fail.
	w.app.Spec.Template.Spec.Containers[0].Image = "nginx:1"
	p := step(t, w)
	if p.Rollout.UpdateRevision != 3 {
		t.Fatalf("undo is revision %d, want 3", p.Rollout.UpdateRevision)
	}
	w.settleDeployment(podCrash)
	w.now = w.now.Add(time.Second)
	p = step(t, w)
	if p.Rollout.FailureReason != appsv1alpha1.ReasonRolledBack || p.Rollout.LastFailedRevision != 3 {
		t.Errorf("the returned-to revision was not judged: %+v", p.Rollout)
	}
}

func TestStatefulRollForwardReplacesStuckPodsOfAnOlderRevision(t *testing.T) {
	w := newWorld(newApp(appsv1alpha1.Stateful, "db:1"))
	step(t, w)
	sts := w.statefulSet()
	old := hashOfTemplate(sts)
	for i := range 3 {
		w.pods = append(w.pods, w.newPod(fmt.Sprintf("web-%d", i), old, sts, "StatefulSet", podReady))
	}
	// web-2 of the old revision is stuck (crash-looping), so the StatefulSet would never move on.
	w.pods[2] = w.newPod("web-2", old, sts, "StatefulSet", podCrash)
	sts.Status = appsv1.StatefulSetStatus{ObservedGeneration: sts.Generation, Replicas: 3, ReadyReplicas: 2, AvailableReplicas: 2, UpdatedReplicas: 3}
	w.app.Spec.Template.Spec.Containers[0].Image = "db:2"
	p := step(t, w)
	if len(p.DeletePods) != 0 {
		t.Fatal("a stuck pod was deleted before the StatefulSet carries the new template")
	}
	if p = Decide(w.input()); len(p.DeletePods) != 0 {
		t.Fatal("a stuck pod was deleted before the StatefulSet controller observed the new template")
	}
	w.statefulSet().Status.ObservedGeneration = w.statefulSet().Generation
	p = step(t, w)
	if len(p.DeletePods) != 1 || p.DeletePods[0].Pod.Name != "web-2" {
		t.Fatalf("deletes %+v, want the stuck web-2", p.DeletePods)
	}
	for _, d := range p.DeletePods {
		if rollout.PodReady(d.Pod) {
			t.Errorf("ready pod %s deleted", d.Pod.Name)
		}
	}
}

// A settled StatefulSet read back from the cache is not applied again, whatever the decoding left
// out of the claim templates' type fields: an apply the API server takes as a no-op would leave the
// app waiting for a generation that never comes.
func TestSettledStatefulSetIsNotReapplied(t *testing.T) {
	for _, tc := range []struct {
		name string
		read func(*appsv1.StatefulSet)
	}{
		{"as applied", func(*appsv1.StatefulSet) {}},
		{"claim templates without apiVersion and kind", func(s *appsv1.StatefulSet) {
			for i := range s.Spec.VolumeClaimTemplates {
				s.Spec.VolumeClaimTemplates[i].TypeMeta = metav1.TypeMeta{}
			}
		}},
		{"no type fields at all", func(s *appsv1.StatefulSet) {
			s.TypeMeta = metav1.TypeMeta{}
			for i := range s.Spec.VolumeClaimTemplates {
				s.Spec.VolumeClaimTemplates[i].TypeMeta = metav1.TypeMeta{}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(newApp(appsv1alpha1.Stateful, "cassandra:4.1"))
			w.app.Spec.Storage = []appsv1alpha1.StorageSpec{{Name: "data", MountPath: "/data", Size: resource.MustParse("1Gi")}}
			w.class = []storagev1.StorageClass{{ObjectMeta: metav1.ObjectMeta{Name: "standard",
				Annotations: map[string]string{annotationDefaultClass: "true"}}}}
			step(t, w)
			sts := w.statefulSet()
			if sts == nil || len(sts.Spec.VolumeClaimTemplates) != 1 {
				t.Fatalf("no StatefulSet with one claim template: %+v", sts)
			}
			tc.read(sts)
			for _, d := range Decide(w.input()).Apply {
				if d.Kind == kinds.StatefulSet {
					t.Errorf("the unchanged StatefulSet is applied again")
				}
			}
		})
	}
}

// The progress deadline counts only the time the operator watched: an update that made no progress
// while the operator (or the API server) was down is given its full deadline from the operator's
// start, and fails once that passes without progress.
func TestDeadlineCountsFromWhenTheOperatorWatches(t *testing.T) {
	for _, tc := range []struct {
		name           string
		observingSince time.Duration // after the update started; 0: before it
		after          time.Duration // after the update started
		fails          bool
	}{
		{"watched all along, past the deadline", 0, 61 * time.Second, true},
		{"watched all along, within the deadline", 0, 29 * time.Second, false},
		{"started 60 s into the update, 1 s later", 60 * time.Second, 61 * time.Second, false},
		{"started 60 s into the update, 29 s later", 60 * time.Second, 89 * time.Second, false},
		{"started 60 s into the update, 31 s later", 60 * time.Second, 91 * time.Second, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := newApp(appsv1alpha1.Stateless, "nginx:1.7.9")
			app.Spec.Rollout = &appsv1alpha1.RolloutSpec{ProgressDeadlineSeconds: new(int32(30))}
			w := newWorld(app)
			step(t, w)
			w.settleDeployment(podReady)
			step(t, w)
			w.app.Spec.Template.Spec.Containers[0].Image = "nginx:1.9.1"
			step(t, w)
			started := w.now
			w.now = started.Add(tc.after)
			in := w.input()
			if tc.observingSince > 0 {
				in.ObservingSince = started.Add(tc.observingSince)
			}
			p := Decide(in)
			if failed := p.Rollout.FailureReason != ""; failed != tc.fails {
				t.Errorf("failed = %v (%s), want %v", failed, p.Rollout.Failure, tc.fails)
			}
		})
	}
}

// An operator that adds a default (the readiness probe) restarts no pod when it is upgraded: the
// revision the app runs keeps the defaults it was built with, until the template changes.
func TestAnUpgradeRestartsNoPod(t *testing.T) {
	for _, typ := range []appsv1alpha1.AppType{appsv1alpha1.Stateless, appsv1alpha1.Stateful} {
		t.Run(string(typ), func(t *testing.T) {
			w := newWorld(newApp(typ, "nginx:1"))
			w.options.Defaults = workload.DefaultsOriginal
			step(t, w)
			w.simulate(podReady)
			step(t, w)
			w.simulate(podReady)
			step(t, w)

			w.options.Defaults = 0
			p := step(t, w)
			if len(p.Revisions) != 0 || len(p.Apply) != 0 || len(p.DeletePods) != 0 {
				t.Fatalf("the upgraded operator writes revisions %d, objects %v, pod deletions %d", len(p.Revisions), p.Apply, len(p.DeletePods))
			}

			w.app.Spec.Template.Spec.Containers[0].Image = "nginx:2"
			w.app.Generation++
			p = step(t, w)
			if len(p.Revisions) != 1 || p.Revisions[0].Before != nil {
				t.Fatalf("a new template made revisions %+v, want one new", p.Revisions)
			}
			if rec := rollout.ReadRecord(p.Revisions[0].Object); rec.Defaults != workload.DefaultsCurrent {
				t.Errorf("the new revision has defaults %d, want %d", rec.Defaults, workload.DefaultsCurrent)
			}
			var probe *corev1.Probe
			for _, d := range p.Apply {
				switch o := d.Object.(type) {
				case *appsv1.Deployment:
					probe = o.Spec.Template.Spec.Containers[0].ReadinessProbe
				case *appsv1.StatefulSet:
					probe = o.Spec.Template.Spec.Containers[0].ReadinessProbe
				}
			}
			if probe == nil || probe.TCPSocket == nil {
				t.Errorf("the new revision's template has readiness probe %+v, want the default", probe)
			}
		})
	}
}

// Advice reaches the status, with a Warning Event when a rule starts to apply, and never blocks.
func TestAdviceReachesTheStatusOnce(t *testing.T) {
	w := newWorld(newApp(appsv1alpha1.Stateless, "nginx:latest"))
	p := step(t, w)
	if len(p.Apply) == 0 {
		t.Fatal("advice blocked the app")
	}
	rules := rulesOf(p)
	if !contains(rules, "MutableImage") {
		t.Fatalf("advice %v, want MutableImage for nginx:latest", rules)
	}
	st := p.Report.Status(nil, metav1.NewTime(w.now))
	if len(st.Advice) != len(p.Advice) {
		t.Errorf("status advice %v, want %v", st.Advice, p.Advice)
	}
	countAdvice := func(p Plan) int {
		n := 0
		for _, e := range p.Events {
			if e.Reason == appsv1alpha1.ReasonAdvice && e.Type == corev1.EventTypeWarning {
				n++
			}
		}
		return n
	}
	if countAdvice(p) != len(p.Advice) {
		t.Errorf("%d Advice Events for %d rules", countAdvice(p), len(p.Advice))
	}
	if p = step(t, w); countAdvice(p) != 0 {
		t.Errorf("advice told again: %v", eventReasons(p))
	}
	w.app.Spec.Template.Spec.Containers[0].Image = "nginx:1.27"
	if p = step(t, w); countAdvice(p) != 0 || contains(rulesOf(p), "MutableImage") {
		t.Errorf("advice after the tag was set: %v", rulesOf(p))
	}
}

func rulesOf(p Plan) []string {
	out := make([]string, 0, len(p.Advice))
	for _, a := range p.Advice {
		out = append(out, a.Rule)
	}
	return out
}
