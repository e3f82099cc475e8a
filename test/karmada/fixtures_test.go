package karmada

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	workv1alpha2 "github.com/karmada-io/karmada/pkg/apis/work/v1alpha2"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/status"
)

// now stamps the conditions the members' operators write.
var now = metav1.NewTime(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))

// The member clusters.
const (
	east = "member-east"
	west = "member-west"
	mid  = "member-mid"
)

const (
	namespace  = "shop"
	badImage   = "nginx:1.91"
	pullFailed = "pod web-7f9c-x2k container web: ImagePullBackOff: Back-off pulling image \"nginx:1.91\""
)

type appOption func(*appsv1alpha1.HighlyAvailableApp)

// newApp is an app on the Karmada control plane as the API server stores it (defaults applied), at the
// given generation: a Stateless app "web" unless an option says otherwise.
func newApp(generation int64, opts ...appOption) *appsv1alpha1.HighlyAvailableApp {
	app := &appsv1alpha1.HighlyAvailableApp{
		TypeMeta: metav1.TypeMeta{APIVersion: appsv1alpha1.GroupVersion.String(), Kind: "HighlyAvailableApp"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: namespace, Generation: generation,
			UID: "0c4b1a8e-2f1d-4d6e-9b7a-1f2e3d4c5b6a"},
		Spec: appsv1alpha1.HighlyAvailableAppSpec{
			Type: appsv1alpha1.Stateless,
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"tier": "frontend"}},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{
						Name: "web", Image: "nginx:1.27",
						Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 80}},
						Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
							corev1.ResourceCPU: mustQuantity("250m"), corev1.ResourceMemory: mustQuantity("128Mi")}},
						VolumeMounts: []corev1.VolumeMount{{Name: "cache", MountPath: "/cache"}},
					}},
					// An empty object, which a Lua table cannot tell from an empty list: the scripts
					// must give it back as it was.
					Volumes: []corev1.Volume{{Name: "cache",
						VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
				},
			},
			Availability: &appsv1alpha1.AvailabilitySpec{Spread: appsv1alpha1.SpreadZone},
			Rollout:      &appsv1alpha1.RolloutSpec{AutoRollback: new(true), ProgressDeadlineSeconds: new(int32(600))},
		},
	}
	for _, o := range opts {
		o(app)
	}
	return app
}

func replicas(n int32) appOption {
	return func(a *appsv1alpha1.HighlyAvailableApp) { a.Spec.Replicas = new(n) }
}

func image(ref string) appOption {
	return func(a *appsv1alpha1.HighlyAvailableApp) { a.Spec.Template.Spec.Containers[0].Image = ref }
}

func minAvailable(v string) appOption {
	return func(a *appsv1alpha1.HighlyAvailableApp) {
		m := intstr.Parse(v)
		a.Spec.Availability.MinAvailable = &m
	}
}

// autoscaled adds an autoscaler from 2 replicas up to 10.
func autoscaled(a *appsv1alpha1.HighlyAvailableApp) {
	a.Spec.Autoscaling = &appsv1alpha1.AutoscalingSpec{MinReplicas: new(int32(2)), MaxReplicas: 10}
}

func paused(a *appsv1alpha1.HighlyAvailableApp) { a.Spec.Rollout.Paused = true }

func stateful(a *appsv1alpha1.HighlyAvailableApp) {
	a.Name = "db"
	a.Spec.Type = appsv1alpha1.Stateful
	a.Spec.Storage = []appsv1alpha1.StorageSpec{{Name: "data", MountPath: "/var/lib/db", Size: mustQuantity("1Gi")}}
}

func daemon(a *appsv1alpha1.HighlyAvailableApp) {
	a.Name = "agent"
	a.Spec.Type = appsv1alpha1.Daemon
	a.Spec.Template.Spec.Containers[0].Ports = nil
}

func job(a *appsv1alpha1.HighlyAvailableApp) {
	a.Name = "pi"
	a.Spec.Type = appsv1alpha1.Job
	a.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever
	a.Spec.Template.Spec.Containers[0].Ports = nil
	a.Spec.Rollout = nil
	a.Spec.Job = &appsv1alpha1.JobSpec{Completions: new(int32(1)), BackoffLimit: new(int32(4)),
		ActiveDeadlineSeconds: new(int64(120))}
}

func schedule(cron string) appOption {
	return func(a *appsv1alpha1.HighlyAvailableApp) {
		a.Spec.Job.Schedule = cron
		a.Spec.Job.ConcurrencyPolicy = batchv1.ForbidConcurrent
	}
}

func mustQuantity(s string) resource.Quantity { return resource.MustParse(s) }

// reporter computes a member's status as the operator there does.
type reporter func(testing.TB, *appsv1alpha1.HighlyAvailableApp) appsv1alpha1.HighlyAvailableAppStatus

// member is one member cluster's copy of the app and what the operator running there reports on it.
type member struct {
	cluster string
	// share is what Karmada's scheduler gave the cluster (ReviseReplica); -1 for an app that is not
	// divided.
	share int64
	// report computes the member's status with internal/status from what the operator there observed;
	// nil while it has not reported.
	report reporter
	// behind: the copy changed after the operator last reported on it.
	behind bool
	// notApplied is Karmada's message when it could not apply the copy to the cluster.
	notApplied string
	// copyOf, when set, is the template the copy was made from (an older generation of the app).
	copyOf *appsv1alpha1.HighlyAvailableApp
}

// memberGeneration is the generation of every member's copy in the tests: a copy's generation counts
// its own changes and has nothing to do with the control plane's.
const memberGeneration = 3

// memberCopy makes the copy Karmada applies to a member cluster, the way its binding controller does:
// the replica revision for a divided app, the status dropped, the template's generation annotated;
// then the member's API server gives it its own generation.
func (in *interpreter) memberCopy(template *appsv1alpha1.HighlyAvailableApp, m member) *unstructured.Unstructured {
	in.t.Helper()
	source := template
	if m.copyOf != nil {
		source = m.copyOf
	}
	obj := toUnstructured(in.t, source)
	unstructured.RemoveNestedField(obj.Object, "status")
	if m.share >= 0 {
		obj = in.reviseReplica(obj, m.share)
	}
	annotations := obj.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[annotationTemplateGeneration] = strconv.FormatInt(source.Generation, 10)
	obj.SetAnnotations(annotations)
	obj.SetGeneration(memberGeneration)
	return obj
}

// items runs the members through the customization as Karmada does: each member's copy, its status
// as the operator there computes it, ReflectStatus and InterpretHealth into the binding's aggregated
// status items.
func (in *interpreter) items(template *appsv1alpha1.HighlyAvailableApp,
	members ...member) []workv1alpha2.AggregatedStatusItem {
	in.t.Helper()
	out := make([]workv1alpha2.AggregatedStatusItem, 0, len(members))
	for _, m := range members {
		if m.notApplied != "" {
			out = append(out, workv1alpha2.AggregatedStatusItem{ClusterName: m.cluster, AppliedMessage: m.notApplied,
				Health: workv1alpha2.ResourceUnknown})
			continue
		}
		obj := in.withReport(template, m)
		health := workv1alpha2.ResourceUnhealthy
		if in.interpretHealth(obj) {
			health = workv1alpha2.ResourceHealthy
		}
		out = append(out, workv1alpha2.AggregatedStatusItem{ClusterName: m.cluster, Applied: true,
			Status: in.reflectStatus(obj), Health: health})
	}
	return out
}

// withReport is the member's copy with the status the operator there wrote.
func (in *interpreter) withReport(template *appsv1alpha1.HighlyAvailableApp, m member) *unstructured.Unstructured {
	in.t.Helper()
	obj := in.memberCopy(template, m)
	if m.report == nil {
		return obj
	}
	app := toApp(in.t, obj)
	if m.behind {
		app.Generation--
	}
	st := m.report(in.t, app)
	obj.Object["status"] = toUnstructured(in.t, &appsv1alpha1.HighlyAvailableApp{Status: st}).Object["status"]
	return obj
}

// deployment is a Deployment as its controller reports it.
type deployment struct {
	replicas, ready, updated, available int32
	// desired is the Deployment's spec.replicas; the app's replica count when 0 (an autoscaler's count
	// otherwise).
	desired int32
	// generation and observed are the Deployment's; observed < generation while its controller has
	// not seen the operator's last change.
	generation, observed int64
}

// settledDeployment runs n available replicas of its template.
func settledDeployment(n int32) deployment {
	return deployment{replicas: n, ready: n, updated: n, available: n, generation: 2, observed: 2}
}

// stateless reports a Stateless (or, with statefulSet, a Stateful) app with internal/status.Compute
// from the workload object and the ready pods spread over the cluster's zones.
func stateless(d deployment, rollout status.Rollout, problem *status.Problem) reporter {
	return func(t testing.TB, app *appsv1alpha1.HighlyAvailableApp) appsv1alpha1.HighlyAvailableAppStatus {
		desired := d.desired
		if desired == 0 {
			desired = app.Spec.DesiredReplicas()
		}
		meta := metav1.ObjectMeta{Name: app.Name, Namespace: app.Namespace, Generation: d.generation}
		var w status.Workload
		if app.Spec.AppType() == appsv1alpha1.Stateful {
			w = status.FromStatefulSet(&appsv1.StatefulSet{ObjectMeta: meta,
				Spec: appsv1.StatefulSetSpec{Replicas: new(desired)},
				Status: appsv1.StatefulSetStatus{ObservedGeneration: d.observed, Replicas: d.replicas, ReadyReplicas: d.ready,
					UpdatedReplicas: d.updated, AvailableReplicas: d.available}})
		} else {
			w = status.FromDeployment(&appsv1.Deployment{ObjectMeta: meta, Spec: appsv1.DeploymentSpec{Replicas: new(desired)},
				Status: appsv1.DeploymentStatus{ObservedGeneration: d.observed, Replicas: d.replicas, ReadyReplicas: d.ready,
					UpdatedReplicas: d.updated, AvailableReplicas: d.available}})
		}
		service := app.Name
		if app.Spec.AppType() == appsv1alpha1.Stateful {
			service = app.Name + "-client"
		}
		return status.Compute(status.Input{App: app, Workload: w, Service: service, ReadyPods: spreadPods(t, d.ready),
			ClusterZones: []string{"zone-a", "zone-b"}, Rollout: rollout, Problem: problem, Now: now})
	}
}

// spreadPods places n ready pods over two zones, one node each.
func spreadPods(_ testing.TB, n int32) []status.PodPlace {
	out := make([]status.PodPlace, 0, n)
	for i := range n {
		zone := "zone-a"
		if i%2 == 1 {
			zone = "zone-b"
		}
		out = append(out, status.PodPlace{Zone: zone, Node: fmt.Sprintf("node-%d", i)})
	}
	return out
}

// onRevision is a rollout settled on revision n.
func onRevision(n int64) status.Rollout {
	return status.Rollout{CurrentRevision: n, UpdateRevision: n, OnUpdateRevision: true}
}

// rolledBack: revision 2 failed and the workload went back to revision 1.
var rolledBack = status.Rollout{CurrentRevision: 1, UpdateRevision: 2, LastFailedRevision: 2,
	Failure: pullFailed, FailureReason: appsv1alpha1.ReasonRolledBack}

// daemonSet reports a Daemon app with internal/status.ComputeDaemon from a DaemonSet on `eligible`
// nodes, `ready` of them with a ready pod.
func daemonSet(eligible, ready int32) reporter {
	return func(t testing.TB, app *appsv1alpha1.HighlyAvailableApp) appsv1alpha1.HighlyAvailableAppStatus {
		ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: app.Name, Namespace: app.Namespace, Generation: 1},
			Status: appsv1.DaemonSetStatus{ObservedGeneration: 1, DesiredNumberScheduled: eligible,
				CurrentNumberScheduled: eligible, NumberReady: ready, UpdatedNumberScheduled: eligible, NumberAvailable: ready}}
		return status.ComputeDaemon(status.Input{App: app, Workload: status.FromDaemonSet(ds),
			ReadyPods: spreadPods(t, ready), ClusterZones: []string{"zone-a", "zone-b"}, Rollout: onRevision(1), Now: now}, 0)
	}
}

// jobRun reports a one-off Job app with internal/status.ComputeJob from the Job of run 1.
func jobRun(state status.RunState, finished time.Time) reporter {
	return func(_ testing.TB, app *appsv1alpha1.HighlyAvailableApp) appsv1alpha1.HighlyAvailableAppStatus {
		run := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: app.Name + "-1", Namespace: app.Namespace}}
		switch state {
		case status.RunComplete:
			at := metav1.NewTime(finished)
			run.Status = batchv1.JobStatus{Succeeded: 1, CompletionTime: &at, Conditions: []batchv1.JobCondition{
				{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}}
		case status.RunFailed:
			run.Status = batchv1.JobStatus{Failed: 5, Conditions: []batchv1.JobCondition{{Type: batchv1.JobFailed,
				Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded",
				Message: "Job has reached the specified backoff limit"}}}
		default:
			run.Status = batchv1.JobStatus{Active: 1}
		}
		return status.ComputeJob(status.JobInput{App: app, Run: 1, RunName: run.Name, Job: run, Started: true, Now: now})
	}
}

// cronJob reports a scheduled Job app with internal/status.ComputeCronJob, its last run completed.
func cronJob(lastRun string, finished time.Time) reporter {
	return func(_ testing.TB, app *appsv1alpha1.HighlyAvailableApp) appsv1alpha1.HighlyAvailableAppStatus {
		at := metav1.NewTime(finished)
		cj := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: app.Name, Namespace: app.Namespace},
			Spec:   batchv1.CronJobSpec{Schedule: app.Spec.Job.Schedule},
			Status: batchv1.CronJobStatus{LastScheduleTime: &at, LastSuccessfulTime: &at}}
		runs := []batchv1.Job{{ObjectMeta: metav1.ObjectMeta{Name: lastRun, Namespace: app.Namespace, CreationTimestamp: at},
			Status: batchv1.JobStatus{Succeeded: 1, CompletionTime: &at,
				Conditions: []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}}}}
		return status.ComputeCronJob(status.CronJobInput{App: app, CronJob: cj, Runs: runs, Now: now})
	}
}
