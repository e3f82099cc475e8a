// Package decide is the operator's decision core: from everything observed about one app and the
// clock, it returns the whole plan of one reconcile — revision records to write, objects to apply and
// delete, pods to delete, the storage decision, the problem to report, the requeue, and the Events
// and metrics to emit once the status is written. It reads nothing and writes nothing: the controller
// observes before and acts after.
package decide

import (
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/advice"
	"github.com/haoperator/ha-operator/internal/check"
	"github.com/haoperator/ha-operator/internal/rollout"
	"github.com/haoperator/ha-operator/internal/status"
	"github.com/haoperator/ha-operator/internal/workload"
)

// Input is everything observed about one app.
type Input struct {
	App     *appsv1alpha1.HighlyAvailableApp
	Options workload.Options
	Now     time.Time
	// Objects are the objects found under the names of Candidates(App), owned by the app or not;
	// a name with no object is absent.
	Objects map[Ref]client.Object
	// ReplicaSets are the ReplicaSets carrying the app's labels; only those its Deployment controls
	// count.
	ReplicaSets []appsv1.ReplicaSet
	// Pods are the pods carrying the app's labels; only those its workload controls count.
	Pods []corev1.Pod
	// Jobs are the Jobs carrying the app's labels (a Job app's runs, and those its CronJob started).
	Jobs []batchv1.Job
	// Revisions are the ControllerRevisions the app controls.
	Revisions []appsv1.ControllerRevision
	// Claims are the claims under the names the app's StatefulSet uses or will use, owned or not.
	Claims map[string]*corev1.PersistentVolumeClaim
	// Volumes are the volumes bound to Claims, by claim name.
	Volumes map[string]*corev1.PersistentVolume
	// StorageClasses are the cluster's StorageClasses.
	StorageClasses []storagev1.StorageClass
	// NodeLeases are, for the nodes of the app's pods, when the operator last saw each renew its Lease
	// and how often it renews it; nodes without a Lease are absent.
	NodeLeases map[string]NodeLease
	// SilentShare is the share of the cluster's nodes whose Lease has not been renewed for one and a
	// half renew intervals.
	SilentShare float64
	// NodeZones maps a node name to its zone label ("" when it has none).
	NodeZones map[string]string
	// DrainingNodes are the nodes of the app's pods that are being drained (see Draining).
	DrainingNodes map[string]bool
	// ClusterZones are the zones that have at least one schedulable node (see Schedulable), sorted;
	// nil when unknown.
	ClusterZones []string
	// FailedCreate is the message of the StatefulSet controller's latest FailedCreate Event, while the
	// StatefulSet has fewer pods than it wants; "" otherwise.
	FailedCreate string
	// IssuedRevision is the highest revision number this operator has issued for the app, which the
	// cache may not show yet; new numbers are above it, so that they never repeat.
	IssuedRevision int64
	// ObservingSince is when the operator began to watch the cluster: its start. Before it, nobody
	// saw whether an update progressed (the operator was down, or the API server was), so the
	// progress deadline counts from it at the earliest. Zero: from the update's own record alone.
	ObservingSince time.Time
}

// Event is one Event to record on the app, once its status is written: Normal or Warning.
type Event struct {
	Type    string
	Reason  string
	Action  string
	Message string
}

// MetricKind is what a metric observation records.
type MetricKind int

// The metric observations a plan can carry.
const (
	MetricRolloutStarted MetricKind = iota
	MetricRolloutCompleted
	MetricRolledBack
	MetricFailureDetection
	MetricRollbackDuration
)

// Metric is one metric observation.
type Metric struct {
	Kind MetricKind
	// Reason labels MetricRolledBack.
	Reason string
	// Seconds is the duration MetricFailureDetection and MetricRollbackDuration observe.
	Seconds float64
}

// RevisionWrite creates or updates one ControllerRevision.
type RevisionWrite struct {
	// Before is the revision as observed; nil to create Object.
	Before *appsv1.ControllerRevision
	Object *appsv1.ControllerRevision
}

// ClaimGrowth patches one claim's requested size.
type ClaimGrowth struct {
	Claim *corev1.PersistentVolumeClaim
	Size  string
}

// HandOver keeps a workload's replica count when the operator stops setting it (an autoscaler takes
// over): another field manager applies the live count first, so that the operator's apply without
// the field does not reset it.
type HandOver struct {
	Ref      Ref
	Replicas int32
}

// Removal deletes an object the app controls and no longer needs (with its UID as precondition).
type Removal struct {
	Ref    Ref
	Object client.Object
	// Background deletes the object's dependents too (a Job's pods): a Job is orphaning by default.
	Background bool
	// Why is said in the Event.
	Why string
}

// PodDelete deletes one pod (with its UID as precondition), for the reason given in its Event.
type PodDelete struct {
	Pod   *corev1.Pod
	Event Event
}

// Plan is everything one reconcile does, in the order act carries it out.
type Plan struct {
	// MarkPods mark pods of silent nodes not ready (nodeloss.go): first, as traffic is at stake.
	MarkPods  []PodMark
	Revisions []RevisionWrite
	// GrowClaims, then RecreateStatefulSet (deleted with its pods and claims orphaned).
	GrowClaims          []ClaimGrowth
	RecreateStatefulSet *appsv1.StatefulSet
	// HandOverBefore runs before the applies (the workload exists), HandOverAfter after (it is
	// being created).
	HandOverBefore *HandOver
	// PodCosts run before the applies: a scale-in is applied once the pods carry them.
	PodCosts      []PodCost
	Apply         []Desired
	HandOverAfter *HandOver
	Delete        []Removal
	DeletePods    []PodDelete
	Prune         []*appsv1.ControllerRevision

	// Problem blocks the app; nil when none.
	Problem *status.Problem
	// Report is the app's status computation, as its type computes it (its driver's report): once
	// the plan is carried out, with the problem act may have met.
	Report status.Report
	// Advice is what the app does not follow of the practices of highly available apps.
	Advice []appsv1alpha1.Advice
	// SilentNodes are the nodes of the app's pods that have gone silent (nodeloss.go).
	SilentNodes []appsv1alpha1.SilentNode
	// The status inputs of an app run by a workload, which Report reads.
	Rollout   status.Rollout
	Workload  status.Workload
	ReadyPods []status.PodPlace
	// ClusterZones are Input.ClusterZones, for the zone-loss headroom.
	ClusterZones []string
	Service      string
	// VolumeZones and VolumeWaits are where a Stateful app's data lives, and its pods that wait for
	// the zone of their volume.
	VolumeZones map[string]int32
	VolumeWaits []status.VolumeWait
	// Requeue is when to look again with no watch event; 0 for never.
	Requeue time.Duration
	// Events and Metrics go out after the status is written.
	Events  []Event
	Metrics []Metric
}

// Timing of re-checks.
const (
	// ConflictRecheck is how often a Conflict is looked at again (plus up to 50% jitter): the other
	// object may be removed without any event that reaches the app.
	ConflictRecheck = 30 * time.Second
	// WorkloadRecheck is how soon an app whose workload was just changed is looked at again, in case
	// the change turned out to be none.
	WorkloadRecheck = time.Second
	// RecreatePoll is how often a StatefulSet being re-created for new storage is looked at.
	RecreatePoll = 2 * time.Second
)

// Decide returns the plan for one app: what every type shares (the workload and pods observed, the
// policy), then the steps of the app's type (driver).
func Decide(in Input) Plan {
	app := in.App
	d := driverFor(app)
	p := &planner{in: in, app: app, driver: d}
	ref := d.workload(app)
	p.observeWorkload(ref)
	p.ownedPods()
	p.plan.Workload = ObservedWorkload(p.workload)
	if !p.plan.Workload.Found {
		p.plan.Workload.Kind, p.plan.Workload.Name = ref.Kind, ref.Name
	}
	if p.plan.Workload.ReplicaFailure == "" {
		p.plan.Workload.ReplicaFailure = in.FailedCreate
	}
	p.plan.ReadyPods = p.readyPods(nil)
	p.plan.ClusterZones = in.ClusterZones
	p.nodeLoss()
	if svc := d.clientService(app); svc != nil {
		p.plan.Service = svc.Name
	}
	if reason, msg, refused := p.policy(); refused {
		p.plan.Problem = &status.Problem{Reason: reason, Message: msg}
	} else {
		d.plan(p)
	}
	p.advise()
	p.plan.Report = common{Report: d.report(p), advice: p.plan.Advice, silentNodes: p.plan.SilentNodes}
	return p.plan
}

// maxAdvice is the most advice the status holds (status.advice's MaxItems).
const maxAdvice = 64

// advise finds the practices of highly available apps that the app does not follow (internal/advice),
// for the status, with a Warning Event for each that starts to apply. Advice blocks nothing.
func (p *planner) advise() {
	all := advice.For(advice.Input{App: p.app, StorageClasses: p.in.StorageClasses})
	p.plan.Advice = all[:min(len(all), maxAdvice)]
	had := map[[2]string]bool{}
	for _, a := range p.app.Status.Advice {
		had[[2]string{a.Rule, a.Container}] = true
	}
	for _, a := range p.plan.Advice {
		if !had[[2]string{a.Rule, a.Container}] {
			p.event(corev1.EventTypeWarning, appsv1alpha1.ReasonAdvice, "Observe", "%s%s: %s", a.Rule, inContainer(a.Container), a.Message)
		}
	}
}

func inContainer(name string) string {
	if name == "" {
		return ""
	}
	return " (container " + name + ")"
}

// common is a type's status computation with what every type reports alike: the app's advice and
// its silent nodes.
type common struct {
	status.Report
	advice      []appsv1alpha1.Advice
	silentNodes []appsv1alpha1.SilentNode
}

// Status is the type's status with status.advice and status.silentNodes.
func (c common) Status(problem *status.Problem, now metav1.Time) appsv1alpha1.HighlyAvailableAppStatus {
	st := c.Report.Status(problem, now)
	st.Advice, st.SilentNodes = c.advice, c.silentNodes
	return st
}

type planner struct {
	in     Input
	app    *appsv1alpha1.HighlyAvailableApp
	driver driver
	plan   Plan

	// workload is the app's Deployment, StatefulSet or DaemonSet; nil when none exists that the app
	// controls.
	workload client.Object
	// pods are the pods the workload controls; orphans are pods of a StatefulSet deleted for
	// re-creation, by ordinal (stateful.go).
	pods    []corev1.Pod
	orphans map[int32]*corev1.Pod

	// template is what the workload gets; updateHash the revision the spec asks for; rollbackTo the
	// revision it is held on after a failure.
	template   corev1.PodTemplateSpec
	updateHash string
	rollbackTo *rollout.Record
	failed     bool

	// job and cronJob are the status inputs of a Job app's run or CronJob (job.go).
	jobIn     *status.JobInput
	cronJobIn *status.CronJobInput
}

// conflictRecheck looks at a Conflict again now and then: the other object may be removed without any
// event that reaches the app.
func (p *planner) conflictRecheck() {
	if p.plan.Problem != nil && p.plan.Problem.Reason == appsv1alpha1.ReasonConflict {
		p.requeue(ConflictRecheck + jitter(string(p.app.UID), ConflictRecheck/2))
	}
}

func (p *planner) requeue(d time.Duration) {
	if d > 0 && (p.plan.Requeue == 0 || d < p.plan.Requeue) {
		p.plan.Requeue = d
	}
}

func (p *planner) event(eventType, reason, action, format string, args ...any) {
	p.plan.Events = append(p.plan.Events, Event{Type: eventType, Reason: reason, Action: action, Message: fmt.Sprintf(format, args...)})
}

func (p *planner) problem(reason, format string, args ...any) {
	if p.plan.Problem == nil {
		p.plan.Problem = &status.Problem{Reason: reason, Message: fmt.Sprintf(format, args...)}
	}
}

// policy refuses specs the operator will not run: a Service type the cluster does not allow (when the
// type has a client Service), and what the CRD cannot refuse within the API server's CEL cost budget
// (workload.SpecChecks).
func (p *planner) policy() (reason, message string, refused bool) {
	chain := check.Chain[*appsv1alpha1.HighlyAvailableApp]{}
	if p.driver.clientService(p.app) != nil {
		chain = append(chain, workload.ServiceTypeCheck(p.in.Options))
	}
	return append(chain, workload.SpecChecks...).First(p.app)
}

func (p *planner) observeWorkload(ref Ref) {
	obj := p.in.Objects[ref]
	if obj != nil && IsControlledBy(obj, p.app) {
		p.workload = obj
	}
}

// ownedPods keeps the pods that the app's workload controls: a look-alike pod with the app's labels is
// never counted, judged or deleted.
func (p *planner) ownedPods() {
	owners := map[string]bool{}
	switch w := p.workload.(type) {
	case *appsv1.StatefulSet:
		owners[string(w.UID)] = true
	case *appsv1.DaemonSet:
		owners[string(w.UID)] = true
	case *appsv1.Deployment:
		for i := range p.in.ReplicaSets {
			if rs := &p.in.ReplicaSets[i]; metav1.IsControlledBy(rs, w) {
				owners[string(rs.UID)] = true
			}
		}
	}
	for i := range p.in.Pods {
		pod := &p.in.Pods[i]
		ref := metav1.GetControllerOfNoCopy(pod)
		if ref != nil && owners[string(ref.UID)] {
			p.pods = append(p.pods, *pod)
		}
	}
}

// ObservedWorkload reads the figures of a Deployment, StatefulSet or DaemonSet, the status's view of the
// workload; the zero Workload for anything else.
func ObservedWorkload(obj client.Object) status.Workload {
	switch w := obj.(type) {
	case *appsv1.Deployment:
		return status.FromDeployment(w)
	case *appsv1.StatefulSet:
		return status.FromStatefulSet(w)
	case *appsv1.DaemonSet:
		return status.FromDaemonSet(w)
	}
	return status.Workload{}
}

// readyPods tells on which node and in which zone each ready pod of the workload runs.
// zoneOf, when set, is the zone a pod counts in (its volume's, for a Stateful app); the zone of its
// node otherwise.
func (p *planner) readyPods(zoneOf func(*corev1.Pod) string) []status.PodPlace {
	var out []status.PodPlace
	for i := range p.pods {
		pod := &p.pods[i]
		if !rollout.PodReady(pod) || pod.Spec.NodeName == "" || pod.DeletionTimestamp != nil {
			continue
		}
		zone := p.in.NodeZones[pod.Spec.NodeName]
		if zoneOf != nil {
			if z := zoneOf(pod); z != "" {
				zone = z
			}
		}
		out = append(out, status.PodPlace{Node: pod.Spec.NodeName, Zone: zone})
	}
	return out
}

// Ordinal is the StatefulSet ordinal in a pod's name, if it is one of the app's.
func Ordinal(app *appsv1alpha1.HighlyAvailableApp, podName string) (int32, bool) {
	prefix := app.Name + "-"
	if len(podName) <= len(prefix) || podName[:len(prefix)] != prefix {
		return 0, false
	}
	var n int32
	for _, c := range podName[len(prefix):] {
		if c < '0' || c > '9' || n > (1<<30) {
			return 0, false
		}
		n = n*10 + c - '0'
	}
	if s := podName[len(prefix):]; len(s) > 1 && s[0] == '0' {
		return 0, false
	}
	return n, true
}

// jitter is a stable spread of up to max for a key, so that many apps re-checking the same thing do
// not all come at once, and a decision stays a function of its input.
func jitter(key string, maxJitter time.Duration) time.Duration {
	if maxJitter <= 0 {
		return 0
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(key))
	return time.Duration(h.Sum64() % uint64(maxJitter))
}

// sortedRevisions returns a copy of the revisions, oldest first.
func sortedRevisions(revs []appsv1.ControllerRevision) []appsv1.ControllerRevision {
	out := slices.Clone(revs)
	slices.SortStableFunc(out, func(a, b appsv1.ControllerRevision) int {
		if a.Revision != b.Revision {
			if a.Revision < b.Revision {
				return -1
			}
			return 1
		}
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return out
}

// FailedCreateWindow is how recent a FailedCreate Event must be to count: the StatefulSet controller
// repeats it (with back-off) while it keeps failing, so an older one is about a cause that went away.
const FailedCreateWindow = 2 * time.Minute

// LatestFailedCreate is the message of the newest FailedCreate Event of the StatefulSet seen within
// FailedCreateWindow before now, "" when there is none.
func LatestFailedCreate(events []corev1.Event, sts *appsv1.StatefulSet, now time.Time) string {
	var latest *corev1.Event
	for i := range events {
		e := &events[i]
		if e.Reason != "FailedCreate" || e.InvolvedObject.UID != sts.UID || now.Sub(eventTime(e)) > FailedCreateWindow {
			continue
		}
		if latest == nil || eventTime(e).After(eventTime(latest)) {
			latest = e
		}
	}
	if latest == nil {
		return ""
	}
	return latest.Message
}

func eventTime(e *corev1.Event) time.Time {
	if !e.LastTimestamp.IsZero() {
		return e.LastTimestamp.Time
	}
	if !e.EventTime.IsZero() {
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}
