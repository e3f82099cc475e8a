package decide

import (
	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/kinds"
	"github.com/haoperator/ha-operator/internal/workload"
)

// budgetAndAutoscaler adds the disruption budget and the autoscaler that a Stateless or Stateful app
// asks for to the desired objects.
func (p *planner) budgetAndAutoscaler(desired map[Ref]client.Object, target Ref) {
	if pdb := workload.PodDisruptionBudget(p.app); pdb != nil {
		p.drainBudget(pdb)
		desired[Ref{kinds.PDB, pdb.Name}] = pdb
	}
	if hpa := workload.HorizontalPodAutoscaler(p.app, target.Kind); hpa != nil {
		desired[Ref{kinds.HPA, hpa.Name}] = hpa
	}
}

// reconcileObjects applies the desired objects that differ from what exists and deletes the app's
// candidates that are not desired; an object of a desired name that the app does not control is a
// Conflict.
func (p *planner) reconcileObjects(desired map[Ref]client.Object) {
	app := p.app
	for _, ref := range p.driver.candidates(app) {
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
				if existing != nil && ref == p.driver.workload(app) {
					p.changingWorkload(want)
				}
			}
		}
	}
}

// autoscaledReplicas is the replica count the workload gets under an autoscaler: the operator does
// not own the count, so none is applied, and the live count is handed over to another field manager
// when the operator may still own it (the autoscaler is new), so that dropping the field from the
// apply resets nothing; a workload being created starts with the pods it will adopt (orphans of a
// re-created StatefulSet), or the autoscaler's minimum.
func (p *planner) autoscaledReplicas() *int32 {
	app := p.app
	ref := p.driver.workload(app)
	hpa := p.in.Objects[Ref{kinds.HPA, app.Name}]
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
