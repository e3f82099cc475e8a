package decide

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/kinds"
	"github.com/haoperator/ha-operator/internal/rollout"
	"github.com/haoperator/ha-operator/internal/status"
	"github.com/haoperator/ha-operator/internal/workload"
)

// statefulDriver runs a Stateful app: a StatefulSet with its volume claim templates, the headless
// Service that gives its pods their stable names, a client Service <app>-client, a disruption budget
// and, when asked, an autoscaler. Its storage decision (storage.go) may grow claims and re-create the
// StatefulSet with its pods and claims orphaned, which it then adopts (orphans); after a failed update
// it deletes the stuck pods the StatefulSet will not replace by itself (stuckPods); with the
// ZoneByZone strategy it replaces pods one zone at a time (zones.go).
type statefulDriver struct{}

func (statefulDriver) workload(app *appsv1alpha1.HighlyAvailableApp) Ref {
	return Ref{kinds.StatefulSet, workload.WorkloadName(app)}
}

func (d statefulDriver) candidates(app *appsv1alpha1.HighlyAvailableApp) []Ref {
	return []Ref{d.workload(app), {kinds.PDB, app.Name}, {kinds.HPA, app.Name},
		{kinds.Service, workload.HeadlessServiceName(app)}, {kinds.Service, workload.ServiceName(app)}}
}

func (statefulDriver) observes() Observes { return Observes{Storage: true} }

func (statefulDriver) clientService(app *appsv1alpha1.HighlyAvailableApp) *corev1.Service {
	return workload.Service(app)
}

func (d statefulDriver) plan(p *planner) {
	app := p.app
	p.collectOrphans()
	p.volumes()
	p.revisions(nil)
	ref := d.workload(app)
	// A storage change that cannot be made safely changes nothing (the problem says why).
	if step := p.storage(); step != storageRefused {
		desired := map[Ref]client.Object{}
		if step == storageWait {
			p.requeue(RecreatePoll)
		} else {
			sts := workload.StatefulSet(app, p.template, p.partition())
			if app.Spec.Autoscaling == nil {
				sts.Spec.Replicas = new(app.Spec.DesiredReplicas())
			} else {
				sts.Spec.Replicas = p.autoscaledReplicas()
			}
			p.zoneByZoneStrategy(sts)
			desired[ref] = sts
		}
		desired[Ref{kinds.Service, workload.HeadlessServiceName(app)}] = workload.HeadlessService(app)
		if svc := d.clientService(app); svc != nil {
			desired[Ref{kinds.Service, svc.Name}] = svc
		}
		p.budgetAndAutoscaler(desired, ref)
		p.reconcileObjects(desired)
	}
	p.stuckPods()
	p.zoneByZone()
	p.conflictRecheck()
}

func (statefulDriver) report(p *planner) status.Report { return p.workloadReport() }

// collectOrphans finds the pods of a StatefulSet deleted for re-creation (no controller, an ordinal of
// the app's), which the new StatefulSet adopts.
func (p *planner) collectOrphans() {
	p.orphans = map[int32]*corev1.Pod{}
	for i := range p.in.Pods {
		pod := &p.in.Pods[i]
		if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
			continue
		}
		if ord, ok := Ordinal(p.app, pod.Name); ok {
			p.orphans[ord] = pod
		}
	}
}

// partition is the StatefulSet's partition: the spec's, or, while the update is paused, the lowest
// ordinal already on the new template, so that no further pod is replaced.
func (p *planner) partition() int32 {
	app := p.app
	partition := app.Spec.Partition()
	if !app.Spec.Paused() {
		return partition
	}
	replicas := ObservedWorkload(p.workload).Desired
	if p.workload == nil {
		replicas = app.Spec.DesiredReplicas()
	}
	hashByOrdinal := map[int32]string{}
	for i := range p.pods {
		if ord, ok := Ordinal(app, p.pods[i].Name); ok {
			hashByOrdinal[ord] = p.pods[i].Labels[rollout.LabelRevisionHash]
		}
	}
	held := replicas
	target := p.template.Labels[rollout.LabelRevisionHash]
	for ord := replicas - 1; ord >= 0 && hashByOrdinal[ord] == target; ord-- {
		held = ord
	}
	return max(partition, held)
}

// stuckPods replaces the pods a StatefulSet will not replace by itself: it waits for a pod that is
// not ready to become ready before it moves on (kubernetes#67250). Once the workload's template is
// the one it should run — the rollback target after a failure, or the spec's revision when the spec
// moved on — its pods of any other revision that are not ready and show a failure are deleted, and
// come back on that template; their claims stay. A ready pod is never deleted, and only pods the
// StatefulSet controls are, once its controller has observed the template.
func (p *planner) stuckPods() {
	if p.workload == nil || p.plan.Problem != nil {
		return
	}
	w := ObservedWorkload(p.workload)
	want := p.template.Labels[rollout.LabelRevisionHash]
	if w.Hash != want || w.ObservedGeneration < w.Generation {
		// The StatefulSet does not carry the template yet (it is applied in this reconcile), or its
		// controller has not observed it: a pod deleted now would come back on the template the
		// controller last saw, the failed one, and be deleted again. The pods are looked at once the
		// controller has seen the template.
		return
	}
	tol := rollout.TolerancesOf(&p.app.Spec)
	for i := range p.pods {
		pod := &p.pods[i]
		hash := pod.Labels[rollout.LabelRevisionHash]
		if hash == want || rollout.PodReady(pod) || pod.DeletionTimestamp != nil {
			continue
		}
		failedPod := p.rollbackTo != nil && hash == p.updateHash
		verdict := rollout.PodFailure(pod, p.in.Now, tol)
		if !failedPod && !verdict.Failed {
			continue
		}
		why := "it is stuck on an older revision"
		if failedPod {
			why = "it runs the failed revision"
		}
		if verdict.Failed {
			why += " (" + verdict.String() + ")"
		}
		p.plan.DeletePods = append(p.plan.DeletePods, PodDelete{Pod: pod, Event: Event{
			Type: corev1.EventTypeNormal, Reason: appsv1alpha1.ReasonPodReplaced, Action: "Delete",
			Message: "deleted pod " + pod.Name + ": " + why + "; it comes back on the workload's template, its volumes are kept",
		}})
	}
}

// volumes finds where the app's data lives: the zone of each ordinal's volumes (their node affinity),
// counted in the status; the ready pods count in the zone of their volume (a zone's loss takes the
// pods whose data is there); and the pods that wait for the zone of their volume (lost, or without
// room), reported at once.
func (p *planner) volumes() {
	zones := map[int32]string{}
	for _, st := range p.app.Spec.Storage {
		for name, pv := range p.in.Volumes {
			zone := VolumeZone(pv)
			if zone == "" || !strings.HasPrefix(name, st.Name+"-") {
				continue
			}
			if ord, ok := Ordinal(p.app, strings.TrimPrefix(name, st.Name+"-")); ok && zones[ord] == "" {
				zones[ord] = zone
			}
		}
	}
	if len(zones) == 0 {
		return
	}
	p.plan.VolumeZones = map[string]int32{}
	for _, zone := range zones {
		p.plan.VolumeZones[zone]++
	}
	zoneOf := func(pod *corev1.Pod) string {
		ord, _ := Ordinal(p.app, pod.Name)
		return zones[ord]
	}
	p.plan.ReadyPods = p.readyPods(zoneOf)
	for i := range p.pods {
		pod := &p.pods[i]
		if pod.DeletionTimestamp == nil && rollout.WaitsForVolumeZone(pod) {
			p.plan.VolumeWaits = append(p.plan.VolumeWaits, status.VolumeWait{Pod: pod.Name, Zone: zoneOf(pod),
				Message: rollout.SchedulingMessage(pod)})
		}
	}
	slices.SortFunc(p.plan.VolumeWaits, func(a, b status.VolumeWait) int { return strings.Compare(a.Pod, b.Pod) })
}

// VolumeZone is the zone a volume's node affinity pins it to, as a cloud block volume's does; "" when
// it names no single zone.
func VolumeZone(pv *corev1.PersistentVolume) string {
	if pv.Spec.NodeAffinity == nil || pv.Spec.NodeAffinity.Required == nil {
		return ""
	}
	zone := ""
	for _, term := range pv.Spec.NodeAffinity.Required.NodeSelectorTerms {
		for _, e := range term.MatchExpressions {
			if e.Key != corev1.LabelTopologyZone || e.Operator != corev1.NodeSelectorOpIn || len(e.Values) != 1 {
				continue
			}
			if zone != "" && zone != e.Values[0] {
				return ""
			}
			zone = e.Values[0]
		}
	}
	return zone
}
