package decide

import (
	corev1 "k8s.io/api/core/v1"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/status"
)

// driver is everything one app type does differently: the objects it may generate, the one that runs
// its pods, its Service, the steps of its plan and how its status is computed. Decide dispatches to
// the app's driver once; each type's driver is one file: stateless.go, stateful.go, daemon.go and
// job.go.
type driver interface {
	// workload names the object that runs the app's pods (for a Job app, its CronJob).
	workload(app *appsv1alpha1.HighlyAvailableApp) Ref
	// candidates are every object the app may generate, wanted or not: observe reads them all, and
	// the plan creates, keeps or deletes each.
	candidates(app *appsv1alpha1.HighlyAvailableApp) []Ref
	// observes says what observe reads for the type, beside what every type needs.
	observes() Observes
	// clientService is the Service clients use, nil when the type has none.
	clientService(app *appsv1alpha1.HighlyAvailableApp) *corev1.Service
	// plan decides the type's steps, once the policy allowed the app.
	plan(p *planner)
	// report is the status computation of the plan, also when the policy refused the app.
	report(p *planner) status.Report
}

// driverFor is the driver of the app's type.
func driverFor(app *appsv1alpha1.HighlyAvailableApp) driver {
	switch app.Spec.AppType() {
	case appsv1alpha1.Stateful:
		return statefulDriver{}
	case appsv1alpha1.Daemon:
		return daemonDriver{}
	case appsv1alpha1.Job:
		return jobDriver{}
	}
	return statelessDriver{}
}

// Observes says which of an app's objects observe reads for its type, beside its candidates, pods,
// revisions and nodes.
type Observes struct {
	// ReplicaSets: the Deployment's, which tell which pods are its.
	ReplicaSets bool
	// Runs: the app's Jobs, one per run.
	Runs bool
	// Storage: the claims of its volume claim templates and the StorageClasses.
	Storage bool
}

// ObservesOf says what observe reads for the app's type.
func ObservesOf(app *appsv1alpha1.HighlyAvailableApp) Observes { return driverFor(app).observes() }

// Candidates lists every object the app may generate, wanted or not, so that observe reads them all
// and decide can create, keep or delete each. A Job app's run Jobs are listed apart (Input.Jobs).
func Candidates(app *appsv1alpha1.HighlyAvailableApp) []Ref { return driverFor(app).candidates(app) }

// WorkloadRef names the app's workload: its Deployment, StatefulSet, DaemonSet or, for a scheduled Job
// app, its CronJob.
func WorkloadRef(app *appsv1alpha1.HighlyAvailableApp) Ref { return driverFor(app).workload(app) }

// ClientService is the Service clients use, as the app's type builds it; nil when it has none.
func ClientService(app *appsv1alpha1.HighlyAvailableApp) *corev1.Service {
	return driverFor(app).clientService(app)
}

// workloadReport is the status computation of an app run by a Deployment or a StatefulSet.
func (p *planner) workloadReport() status.Input {
	return status.Input{App: p.app, Workload: p.plan.Workload, ReadyPods: p.plan.ReadyPods,
		ClusterZones: p.plan.ClusterZones, Service: p.plan.Service, Rollout: p.plan.Rollout,
		VolumeZones: p.plan.VolumeZones, VolumeWaits: p.plan.VolumeWaits}
}
