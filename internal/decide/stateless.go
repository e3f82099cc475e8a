package decide

import (
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/kinds"
	"github.com/haoperator/ha-operator/internal/status"
	"github.com/haoperator/ha-operator/internal/workload"
)

// statelessDriver runs a Stateless app: a Deployment behind a Service, with a disruption budget and,
// when asked, an autoscaler. Its replica count follows drains (a surge pod before an eviction) and
// scale-ins by zone (zones.go); with availability.rebalance, pods move back to a zone that returns.
type statelessDriver struct{}

func (statelessDriver) workload(app *appsv1alpha1.HighlyAvailableApp) Ref {
	return Ref{kinds.Deployment, workload.WorkloadName(app)}
}

func (d statelessDriver) candidates(app *appsv1alpha1.HighlyAvailableApp) []Ref {
	return []Ref{d.workload(app), {kinds.PDB, app.Name}, {kinds.HPA, app.Name}, {kinds.Service, app.Name}}
}

func (statelessDriver) observes() Observes { return Observes{ReplicaSets: true} }

func (statelessDriver) clientService(app *appsv1alpha1.HighlyAvailableApp) *corev1.Service {
	return workload.Service(app)
}

func (d statelessDriver) plan(p *planner) {
	app := p.app
	p.revisions(nil)
	deployment := workload.Deployment(app, p.template)
	if app.Spec.Autoscaling == nil {
		deployment.Spec.Replicas = new(p.statelessReplicas())
	} else {
		deployment.Spec.Replicas = p.autoscaledReplicas()
	}
	ref := d.workload(app)
	desired := map[Ref]client.Object{ref: deployment}
	if svc := d.clientService(app); svc != nil {
		desired[Ref{kinds.Service, svc.Name}] = svc
	}
	p.budgetAndAutoscaler(desired, ref)
	p.reconcileObjects(desired)
	p.rebalance()
	p.conflictRecheck()
}

func (statelessDriver) report(p *planner) status.Report { return p.workloadReport() }
