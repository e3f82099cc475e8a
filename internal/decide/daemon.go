package decide

import (
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1 "k8s.io/api/apps/v1"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/kinds"
	"github.com/haoperator/ha-operator/internal/rollout"
	"github.com/haoperator/ha-operator/internal/status"
	"github.com/haoperator/ha-operator/internal/workload"
)

// daemonDriver runs a Daemon app: a DaemonSet (one pod on every node its template selects, surge
// updates) and, when its containers declare ports, a Service that keeps traffic on the node
// (internalTrafficPolicy Local). It has no disruption budget and no autoscaler: a DaemonSet's pods go
// with their nodes. An update completes only once every pod runs the new revision and is ready
// (daemonPodsServe).
type daemonDriver struct{}

func (daemonDriver) workload(app *appsv1alpha1.HighlyAvailableApp) Ref {
	return Ref{kinds.DaemonSet, workload.WorkloadName(app)}
}

func (d daemonDriver) candidates(app *appsv1alpha1.HighlyAvailableApp) []Ref {
	// The budget and the autoscaler are candidates so that none is left behind.
	return []Ref{d.workload(app), {kinds.PDB, app.Name}, {kinds.HPA, app.Name}, {kinds.Service, app.Name}}
}

func (daemonDriver) observes() Observes { return Observes{} }

func (daemonDriver) clientService(app *appsv1alpha1.HighlyAvailableApp) *corev1.Service {
	return workload.DaemonService(app)
}

func (d daemonDriver) plan(p *planner) {
	app := p.app
	p.revisions(p.daemonPodsServe)
	ds := workload.DaemonSet(app, p.template)
	desired := map[Ref]client.Object{d.workload(app): ds}
	if svc := d.clientService(app); svc != nil {
		desired[Ref{kinds.Service, svc.Name}] = svc
	}
	p.reconcileObjects(desired)
	p.conflictRecheck()
}

func (daemonDriver) report(p *planner) status.Report {
	in := status.DaemonInput{Input: p.workloadReport()}
	if ds, ok := p.workload.(*appsv1.DaemonSet); ok {
		in.Misscheduled = ds.Status.NumberMisscheduled
	}
	return in
}

// daemonPodsServe tells whether the pods agree that the revision serves everywhere. A DaemonSet counts
// a node as ready and updated while a surge pod of the new revision fails next to the old one, so its
// figures alone cannot say that the new revision serves: no pod of the revision may be unready, and no
// pod of another revision may remain.
func (p *planner) daemonPodsServe(hash string) bool {
	for i := range p.pods {
		pod := &p.pods[i]
		if pod.DeletionTimestamp != nil {
			continue
		}
		if pod.Labels[rollout.LabelRevisionHash] != hash || !rollout.PodReady(pod) {
			return false
		}
	}
	return true
}
