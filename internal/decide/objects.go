package decide

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/rollout"
	"github.com/haoperator/ha-operator/internal/workload"
)

// objects decides what to apply and what to delete. An object of the same name that the app does
// not control is left alone and reported as a Conflict.
func (p *planner) objects() {
	app := p.app
	desired := map[Ref]client.Object{}
	if p.stateful {
		step := p.storage()
		switch step {
		case storageRefused:
			return
		case storageWait:
			p.requeue(RecreatePoll)
		case storageApply:
			sts := workload.StatefulSet(app, p.template, p.partition())
			sts.Spec.Replicas = p.replicas()
			p.zoneByZoneStrategy(sts)
			desired[Ref{KindStatefulSet, sts.Name}] = sts
		}
		desired[Ref{KindService, workload.HeadlessServiceName(app)}] = workload.HeadlessService(app)
	} else if app.Spec.AppType() == appsv1alpha1.Daemon {
		ds := workload.DaemonSet(app, p.template)
		desired[Ref{KindDaemonSet, ds.Name}] = ds
	} else {
		d := workload.Deployment(app, p.template)
		d.Spec.Replicas = p.replicas()
		desired[Ref{KindDeployment, d.Name}] = d
	}
	if svc := ClientService(app); svc != nil {
		desired[Ref{KindService, svc.Name}] = svc
	}
	if app.Spec.AppType() != appsv1alpha1.Daemon {
		if pdb := workload.PodDisruptionBudget(app); pdb != nil {
			p.drainBudget(pdb)
			desired[Ref{KindPDB, pdb.Name}] = pdb
		}
		if hpa := workload.HorizontalPodAutoscaler(app); hpa != nil {
			desired[Ref{KindHPA, hpa.Name}] = hpa
		}
	}
	p.reconcileObjects(desired)
}

// reconcileObjects applies the desired objects that differ from what exists and deletes the app's
// candidates that are not desired; an object of a desired name that the app does not control is a
// Conflict.
func (p *planner) reconcileObjects(desired map[Ref]client.Object) {
	app := p.app
	for _, ref := range Candidates(app) {
		existing := p.in.Objects[ref]
		want, wanted := desired[ref]
		switch {
		case !wanted:
			if existing != nil && IsControlledBy(existing, app) && existing.GetDeletionTimestamp() == nil {
				p.plan.Delete = append(p.plan.Delete, Removal{Ref: ref, Object: existing, Why: "no longer needed"})
			}
		case existing != nil && !IsControlledBy(existing, app):
			p.problem(appsv1alpha1.ReasonConflict, "%s", ConflictMessage(ref.Kind, ref.Name, existing))
		default:
			d, same, err := prepare(app, want, existing)
			if err != nil {
				p.problem(appsv1alpha1.ReasonInvalidSpec, "%s: %v", ref, err)
				continue
			}
			if !same {
				p.plan.Apply = append(p.plan.Apply, d)
				if existing != nil && ref == p.workloadRef() {
					p.changingWorkload(want)
				}
			}
		}
	}
}

// replicas is the replica count the workload gets. Without an autoscaler, the spec's. With one, the
// operator does not own the count: none is applied, and the live count is handed over to another
// field manager when the operator may still own it (the autoscaler is new) so that dropping the field
// from the apply resets nothing; a workload being created starts with the pods it will adopt, or the
// autoscaler's minimum.
func (p *planner) replicas() *int32 {
	app := p.app
	if app.Spec.Autoscaling == nil {
		if !p.stateful {
			return new(p.statelessReplicas())
		}
		return new(app.Spec.DesiredReplicas())
	}
	ref := p.workloadRef()
	hpa := p.in.Objects[Ref{KindHPA, app.Name}]
	hpaOwned := hpa != nil && IsControlledBy(hpa, app)
	if p.workload != nil {
		live := ObservedWorkload(p.workload).Desired
		if !hpaOwned {
			p.plan.HandOverBefore = &HandOver{Ref: ref, Replicas: live}
		}
		return nil
	}
	start := workload.MinimumReplicas(app)
	for ord := range p.orphans {
		start = max(start, ord+1)
	}
	p.plan.HandOverAfter = &HandOver{Ref: ref, Replicas: start}
	return new(start)
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
	if !p.stateful || p.workload == nil || p.plan.Problem != nil {
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
	tol := tolerances(p.app)
	for i := range p.pods {
		pod := &p.pods[i]
		hash := pod.Labels[rollout.LabelRevisionHash]
		if hash == want || IsPodReady(pod) || pod.DeletionTimestamp != nil {
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
			Type: corev1.EventTypeNormal, Reason: ReasonPodReplaced, Action: "Delete",
			Message: "deleted pod " + pod.Name + ": " + why + "; it comes back on the workload's template, its volumes are kept",
		}})
	}
}

// changingWorkload makes the status see the workload as its controller will: a new generation it has
// not observed yet, with the replica count just asked for. Without it, the status computed from the
// workload read before the change would call the app settled on a spec its workload has not taken.
//
// Should the write turn out to change nothing (the API server's defaults already said the same), no
// watch event would come to correct that: so the app is looked at again shortly.
func (p *planner) changingWorkload(want client.Object) {
	w := &p.plan.Workload
	w.Generation++
	p.requeue(WorkloadRecheck)
	switch o := want.(type) {
	case *appsv1.Deployment:
		if o.Spec.Replicas != nil {
			w.Desired = *o.Spec.Replicas
		}
	case *appsv1.StatefulSet:
		if o.Spec.Replicas != nil {
			w.Desired = *o.Spec.Replicas
		}
	}
}
