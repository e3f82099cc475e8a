// Package status computes a HighlyAvailableApp's status from what the operator observed: the
// workload, where the ready pods run, the rollout's state and any problem that blocks the app. It is
// pure: the controller gathers the observations and patches the result.
package status

import (
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/rollout"
	"github.com/haoperator/ha-operator/internal/workload"
)

// Workload is what the operator observed of the Deployment or StatefulSet.
type Workload struct {
	Kind string
	Name string
	// Found is false until the workload exists.
	Found bool
	// Generation and ObservedGeneration tell whether the workload's controller has seen its spec.
	Generation         int64
	ObservedGeneration int64
	// Desired is the workload's spec.replicas.
	Desired           int32
	Replicas          int32
	ReadyReplicas     int32
	UpdatedReplicas   int32
	AvailableReplicas int32
	// Partition is the StatefulSet's partition: ordinals below it keep the old revision.
	Partition int32
	// Hash is the revision hash of the workload's pod template (rollout.LabelRevisionHash).
	Hash string
	// ReplicaFailure is the workload controller's message when it cannot create pods (quota, Pod
	// Security, a missing ServiceAccount): its ReplicaFailure condition.
	ReplicaFailure string
}

// Settled tells whether the workload's controller has observed its spec and every replica that the
// spec updates runs it and is available: the one definition of "settled" that the decision, the
// status and the kubectl plugin share. A partition canary is settled once every ordinal at or above
// the partition is updated and available: it is never judged for holding there.
func Settled(w Workload) bool {
	return w.Found && w.ObservedGeneration >= w.Generation && !moving(w, w.Desired)
}

// Complete tells whether the workload is settled with every replica on its template: nothing held
// back by a partition.
func Complete(w Workload) bool {
	return Settled(w) && w.UpdatedReplicas >= w.Desired
}

// moving tells whether pods still come, go or update, against the desired count.
func moving(w Workload, desired int32) bool {
	wantUpdated := max(desired-w.Partition, 0)
	return w.Replicas != desired || w.UpdatedReplicas < wantUpdated || w.ReadyReplicas < desired || w.AvailableReplicas < desired
}

// FromDeployment reads a Deployment's figures.
func FromDeployment(d *appsv1.Deployment) Workload {
	w := Workload{Kind: "Deployment", Name: d.Name, Found: true, Generation: d.Generation,
		ObservedGeneration: d.Status.ObservedGeneration, Desired: 1,
		Replicas: d.Status.Replicas, ReadyReplicas: d.Status.ReadyReplicas,
		UpdatedReplicas: d.Status.UpdatedReplicas, AvailableReplicas: d.Status.AvailableReplicas}
	if d.Spec.Replicas != nil {
		w.Desired = *d.Spec.Replicas
	}
	w.Hash = d.Spec.Template.Labels[rollout.LabelRevisionHash]
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentReplicaFailure && c.Status == corev1.ConditionTrue {
			w.ReplicaFailure = c.Message
		}
	}
	return w
}

// FromStatefulSet reads a StatefulSet's figures.
func FromStatefulSet(s *appsv1.StatefulSet) Workload {
	w := Workload{Kind: "StatefulSet", Name: s.Name, Found: true, Generation: s.Generation,
		ObservedGeneration: s.Status.ObservedGeneration, Desired: 1,
		Replicas: s.Status.Replicas, ReadyReplicas: s.Status.ReadyReplicas,
		UpdatedReplicas: s.Status.UpdatedReplicas, AvailableReplicas: s.Status.AvailableReplicas}
	if s.Spec.Replicas != nil {
		w.Desired = *s.Spec.Replicas
	}
	if ru := s.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil {
		w.Partition = *ru.Partition
	}
	w.Hash = s.Spec.Template.Labels[rollout.LabelRevisionHash]
	return w
}

// PodPlace is where one ready pod runs.
type PodPlace struct {
	Node string
	Zone string
}

// Rollout is the state of the app's revisions.
type Rollout struct {
	CurrentRevision    int64
	UpdateRevision     int64
	LastFailedRevision int64
	// OnUpdateRevision is true when the workload's template is the revision the spec asks for (false
	// while it is held on an older one after a rollback).
	OnUpdateRevision bool
	// Failure describes why the update revision failed; empty while it has not.
	Failure string
	// FailureReason is the condition reason of a failure: RolledBack, RolloutFailed or
	// ProgressDeadlineExceeded.
	FailureReason string
	// Paused is true while spec.rollout.paused holds the update.
	Paused bool
	// UpdatingZone is the zone whose pods a ZoneByZone update is replacing now.
	UpdatingZone string
}

// Problem is something that keeps the operator from running the app as asked, and that a person has
// to resolve: an object of the same name it does not own, a spec it cannot build.
type Problem struct {
	Reason  string
	Message string
}

// VolumeWait is a pod that the scheduler cannot place because no node of the zone its volume lives in
// can take it (the zone is lost, or has no room).
type VolumeWait struct {
	Pod  string
	Zone string
	// Message is the scheduler's.
	Message string
}

// Report is an app type's status computation, as one reconcile's decision prepared it: it is
// computed once the reconcile's outcome is known, the problem act may have met included.
type Report interface {
	Status(problem *Problem, now metav1.Time) appsv1alpha1.HighlyAvailableAppStatus
}

// Input is everything Compute needs.
type Input struct {
	App      *appsv1alpha1.HighlyAvailableApp
	Workload Workload
	// Service is the name of the client Service, empty when the app has none.
	Service   string
	ReadyPods []PodPlace
	// ClusterZones are the zones that have schedulable nodes; nil when unknown.
	ClusterZones []string
	Rollout      Rollout
	// VolumeZones counts, for a Stateful app with zonal volumes, the ordinals whose volumes live in
	// each zone; nil otherwise.
	VolumeZones map[string]int32
	// VolumeWaits are the pods that wait for the zone their volume lives in.
	VolumeWaits []VolumeWait
	// Problem, when set, blocks the app.
	Problem *Problem
	// Now stamps new conditions.
	Now metav1.Time
}

// Compute returns a Stateless or Stateful app's new status. Conditions keep their last transition
// time when their status does not change, so an unchanged world computes an unchanged status.
func Compute(in Input) appsv1alpha1.HighlyAvailableAppStatus {
	return withPhase(workloadStatus(in, true))
}

// Status is the app's status, given the reconcile's problem and time (Report).
func (in Input) Status(problem *Problem, now metav1.Time) appsv1alpha1.HighlyAvailableAppStatus {
	in.Problem, in.Now = problem, now
	return Compute(in)
}

// workloadStatus computes the status of an app run by a workload; zoneLoss says whether the loss of a
// zone applies to it.
func workloadStatus(in Input, zoneLoss bool) appsv1alpha1.HighlyAvailableAppStatus {
	app := in.App
	w := in.Workload
	desired := w.Desired
	if !w.Found {
		desired = workload.MinimumReplicas(app)
		if app.Spec.Autoscaling == nil {
			desired = app.Spec.DesiredReplicas()
		}
	}
	out := appsv1alpha1.HighlyAvailableAppStatus{
		ObservedGeneration: app.Generation,
		Conditions:         copyConditions(app.Status.Conditions),
		Service:            in.Service,
		Replicas:           w.Replicas,
		ReadyReplicas:      w.ReadyReplicas,
		UpdatedReplicas:    w.UpdatedReplicas,
		AvailableReplicas:  w.AvailableReplicas,
		ReadySummary:       fmt.Sprintf("%d/%d", w.ReadyReplicas, desired),
		Selector:           workload.SelectorString(app),
		CurrentRevision:    in.Rollout.CurrentRevision,
		UpdateRevision:     in.Rollout.UpdateRevision,
		LastFailedRevision: in.Rollout.LastFailedRevision,
		UpdatingZone:       in.Rollout.UpdatingZone,
	}
	if w.Found {
		out.Workload = &appsv1alpha1.WorkloadReference{Kind: w.Kind, Name: w.Name}
	}
	zones, nodes := placement(in.ReadyPods)
	out.Zones, out.Nodes = int32(zones), int32(nodes)
	minimum := minimumReady(app, desired)
	clusterZones := in.ClusterZones
	if clusterZones == nil {
		// Unknown: the zones the ready pods run in are known to have nodes.
		clusterZones = podZones(in.ReadyPods)
	}
	if zoneLoss {
		out.ZoneLoss = ZoneLoss(in.ReadyPods, clusterZones, minimum)
	}
	out.Resilience = resilience(len(in.ReadyPods), zones, nodes, out.ZoneLoss)

	set := func(t string, s metav1.ConditionStatus, reason, msg string) {
		meta.SetStatusCondition(&out.Conditions, metav1.Condition{Type: t, Status: s, Reason: reason,
			Message: msg, ObservedGeneration: app.Generation, LastTransitionTime: in.Now})
	}
	ready, reconciling, stalled := progress(in, desired)
	set(appsv1alpha1.ConditionReady, ready.status, ready.reason, ready.message)
	set(appsv1alpha1.ConditionReconciling, reconciling.status, reconciling.reason, reconciling.message)
	set(appsv1alpha1.ConditionStalled, stalled.status, stalled.reason, stalled.message)

	switch {
	case w.ReadyReplicas >= minimum && (w.ReadyReplicas > 0 || desired == 0):
		set(appsv1alpha1.ConditionAvailable, metav1.ConditionTrue, appsv1alpha1.ReasonMinimumAvailable,
			fmt.Sprintf("%d of %d pods ready; the disruption budget needs %d", w.ReadyReplicas, desired, minimum))
	default:
		set(appsv1alpha1.ConditionAvailable, metav1.ConditionFalse, appsv1alpha1.ReasonBelowMinimum,
			fmt.Sprintf("%d of %d pods ready; the disruption budget needs %d", w.ReadyReplicas, desired, max(minimum, 1)))
	}
	ha := highAvailability(app, desired, in.ReadyPods, zones, nodes, out.ZoneLoss, in.ClusterZones, clusterZones)
	set(appsv1alpha1.ConditionHighlyAvailable, ha.status, ha.reason, ha.message)
	out.VolumeZones = in.VolumeZones
	if len(in.VolumeWaits) > 0 {
		// Said at once, not left to a deadline: the pods cannot run elsewhere, and come back with
		// their zone.
		msg := volumeWaitMessage(in.VolumeWaits)
		available := meta.FindStatusCondition(out.Conditions, appsv1alpha1.ConditionAvailable)
		set(appsv1alpha1.ConditionAvailable, available.Status, appsv1alpha1.ReasonVolumeZoneUnavailable, available.Message+"; "+msg)
		set(appsv1alpha1.ConditionHighlyAvailable, metav1.ConditionFalse, appsv1alpha1.ReasonVolumeZoneUnavailable, msg)
	}
	return out
}

// volumeWaitMessage names the first pod that waits for its volume's zone, with the scheduler's words.
func volumeWaitMessage(waits []VolumeWait) string {
	w := waits[0]
	msg := fmt.Sprintf("pod %s waits for zone %s, where its volume lives: %s", w.Pod, orNone(w.Zone), w.Message)
	if len(waits) > 1 {
		msg += fmt.Sprintf(" (and %d more pods)", len(waits)-1)
	}
	return msg
}

func orNone(zone string) string {
	if zone == "" {
		return "(unknown)"
	}
	return zone
}

type condition struct {
	status  metav1.ConditionStatus
	reason  string
	message string
}

var (
	conditionFalse = func(reason, msg string) condition { return condition{metav1.ConditionFalse, reason, msg} }
	conditionTrue  = func(reason, msg string) condition { return condition{metav1.ConditionTrue, reason, msg} }
)

// progress decides Ready, Reconciling and Stalled, following the kstatus rules: Reconciling while
// anything moves, Stalled when nothing will move without a change of spec, Ready only when the revision
// the spec asks for serves on every replica.
func progress(in Input, desired int32) (ready, reconciling, stalled condition) {
	w, r := in.Workload, in.Rollout
	notStalled := conditionFalse(appsv1alpha1.ReasonRolloutComplete, "")
	if p := in.Problem; p != nil {
		return conditionFalse(p.Reason, p.Message), conditionFalse(p.Reason, ""), conditionTrue(p.Reason, p.Message)
	}
	if w.ReplicaFailure != "" && r.Failure == "" {
		msg := fmt.Sprintf("the %s controller cannot create pods: %s", w.Kind, w.ReplicaFailure)
		return conditionFalse(appsv1alpha1.ReasonReplicaFailure, msg), conditionTrue(appsv1alpha1.ReasonReplicaFailure, msg), notStalled
	}
	if r.Failure != "" {
		reason := r.FailureReason
		if reason == "" {
			reason = appsv1alpha1.ReasonRolloutFailed
		}
		msg := fmt.Sprintf("revision %d failed: %s", r.UpdateRevision, r.Failure)
		if reason == appsv1alpha1.ReasonRolledBack {
			msg = fmt.Sprintf("revision %d failed and was rolled back to revision %d: %s", r.UpdateRevision, r.CurrentRevision, r.Failure)
			if moving, why := inMotion(w, desired); moving {
				return conditionFalse(reason, msg), conditionTrue(appsv1alpha1.ReasonRollingOut, "rolling back: "+why), conditionTrue(reason, msg)
			}
		}
		return conditionFalse(reason, msg), conditionFalse(reason, ""), conditionTrue(reason, msg)
	}
	if !w.Found {
		msg := fmt.Sprintf("creating %s %s", w.Kind, w.Name)
		return conditionFalse(appsv1alpha1.ReasonCreating, msg), conditionTrue(appsv1alpha1.ReasonCreating, msg), notStalled
	}
	if w.ObservedGeneration < w.Generation {
		msg := fmt.Sprintf("waiting for the %s controller to observe generation %d", w.Kind, w.Generation)
		return conditionFalse(appsv1alpha1.ReasonObservingGeneration, msg), conditionTrue(appsv1alpha1.ReasonObservingGeneration, msg), notStalled
	}
	moving, why := inMotion(w, desired)
	// A partition only holds pods back while some are on an older revision: when every replica is
	// updated (a StatefulSet created with a partition, say), the spec's revision serves everywhere.
	if !moving && r.OnUpdateRevision && (w.Partition == 0 || w.UpdatedReplicas >= desired) {
		return conditionTrue(appsv1alpha1.ReasonRolloutComplete,
				fmt.Sprintf("revision %d serves on %d of %d replicas", r.UpdateRevision, w.AvailableReplicas, desired)),
			conditionFalse(appsv1alpha1.ReasonRolloutComplete, ""), notStalled
	}
	if r.Paused {
		msg := "update paused by spec.rollout.paused: " + why
		if !moving {
			msg = "update paused by spec.rollout.paused"
		}
		return conditionFalse(appsv1alpha1.ReasonPaused, msg), conditionTrue(appsv1alpha1.ReasonPaused, msg), notStalled
	}
	if !moving && w.Partition > 0 {
		msg := fmt.Sprintf("partition %d: ordinals below it keep the previous revision", w.Partition)
		return conditionFalse(appsv1alpha1.ReasonRollingOut, msg), conditionTrue(appsv1alpha1.ReasonRollingOut, msg), notStalled
	}
	reason := appsv1alpha1.ReasonRollingOut
	// The template is not changing (the serving revision is the one asked for): pods come and go
	// because the replica count changed.
	sameRevision := r.OnUpdateRevision && r.CurrentRevision != 0 && r.CurrentRevision == r.UpdateRevision
	if w.Replicas != desired && (sameRevision || w.UpdatedReplicas >= desired) {
		reason = appsv1alpha1.ReasonScaling
	}
	if why == "" {
		why = fmt.Sprintf("rolling out revision %d", r.UpdateRevision)
	}
	return conditionFalse(reason, why), conditionTrue(reason, why), notStalled
}

// inMotion tells whether the workload is still changing pods, and how far it is.
func inMotion(w Workload, desired int32) (bool, string) {
	if !moving(w, desired) {
		return false, ""
	}
	return true, fmt.Sprintf("%d of %d replicas updated, %d ready, %d available, %d in total",
		w.UpdatedReplicas, desired, w.ReadyReplicas, w.AvailableReplicas, w.Replicas)
}

// podZones are the zones of the pods, each once.
func podZones(pods []PodPlace) []string {
	out := []string{}
	for _, p := range pods {
		if p.Zone != "" && !slices.Contains(out, p.Zone) {
			out = append(out, p.Zone)
		}
	}
	return out
}

func placement(pods []PodPlace) (zones, nodes int) {
	zoneSet, nodeSet := map[string]bool{}, map[string]bool{}
	for _, p := range pods {
		if p.Zone != "" {
			zoneSet[p.Zone] = true
		}
		if p.Node != "" {
			nodeSet[p.Node] = true
		}
	}
	return len(zoneSet), len(nodeSet)
}

// resilience is honest about zones: ZoneRedundant only when the loss of the zone with most ready pods
// leaves the disruption budget's minimum.
func resilience(ready, zones, nodes int, zl *appsv1alpha1.ZoneLoss) appsv1alpha1.Resilience {
	switch {
	case ready == 0:
		return appsv1alpha1.Unavailable
	case zones >= 2 && (zl == nil || zl.WorstZone != "" && zl.Tolerated):
		return appsv1alpha1.ZoneRedundant
	case nodes >= 2:
		return appsv1alpha1.NodeRedundant
	default:
		return appsv1alpha1.SinglePointOfFailure
	}
}

// evenNote ends a ZoneSkewed message when the placement is not the cause.
const evenNote = "; the pods are already spread evenly over the zones: only more replicas or a looser disruption budget make a zone loss tolerable"

func highAvailability(app *appsv1alpha1.HighlyAvailableApp, desired int32, readyPods []PodPlace, zones, nodes int,
	zl *appsv1alpha1.ZoneLoss, clusterZones, roomZones []string) condition {
	ready := len(readyPods)
	pods := func(n int) string {
		if n == 1 {
			return "1 pod"
		}
		return fmt.Sprintf("%d pods", n)
	}
	switch {
	case desired < 2:
		asked := "1 replica"
		if desired != 1 {
			asked = fmt.Sprintf("%d replicas", desired)
		}
		return conditionFalse(appsv1alpha1.ReasonSingleReplica,
			asked+" asked for: any disruption takes the app down; ask for at least 2")
	case ready == 0:
		return conditionFalse(appsv1alpha1.ReasonNoReadyPods, "no pod is ready")
	case nodes < 2:
		return conditionFalse(appsv1alpha1.ReasonSingleNode, fmt.Sprintf("%s on 1 node", pods(ready)))
	case zones >= 2 && zl == nil:
		return conditionTrue(appsv1alpha1.ReasonZoneRedundant, fmt.Sprintf("%s in %d zones on %d nodes", pods(ready), zones, nodes))
	case zones >= 2 && zl.WorstZone != "" && zl.Tolerated:
		return conditionTrue(appsv1alpha1.ReasonZoneRedundant, fmt.Sprintf("%s in %d zones on %d nodes; %s",
			pods(ready), zones, nodes, zoneLossMessage(zl)))
	case zones >= 2 && zl.WorstZone != "" && roomElsewhere(roomZones, zl.WorstZone):
		msg := fmt.Sprintf("%s in %d zones on %d nodes, but %s", pods(ready), zones, nodes, zoneLossMessage(zl))
		if evenlySpread(readyPods, roomZones) {
			msg += evenNote
		}
		return conditionFalse(appsv1alpha1.ReasonZoneSkewed, msg)
	case zones >= 2:
		// Not tolerated, and no other zone has a schedulable node to take the pods: the cluster,
		// not the placement, is short of zones.
		return conditionTrue(appsv1alpha1.ReasonNodeRedundant, fmt.Sprintf("%s in %d zones on %d nodes, but %s and no other zone has a schedulable node",
			pods(ready), zones, nodes, zoneLossMessage(zl)))
	case clusterZones != nil && len(clusterZones) <= 1:
		// A one-zone cluster: nodes are the only failure domain there is.
		msg := fmt.Sprintf("%s on %d nodes of a one-zone cluster", pods(ready), nodes)
		if zl != nil {
			msg += "; " + zoneLossMessage(zl)
		}
		return conditionTrue(appsv1alpha1.ReasonNodeRedundant, msg)
	case app.Spec.SpreadPolicy() == appsv1alpha1.SpreadZone:
		return conditionFalse(appsv1alpha1.ReasonSingleZone, fmt.Sprintf("%s in %d zone", pods(ready), max(zones, 1)))
	default:
		return conditionTrue(appsv1alpha1.ReasonNodeRedundant, fmt.Sprintf("%s on %d nodes", pods(ready), nodes))
	}
}

func copyConditions(in []metav1.Condition) []metav1.Condition {
	if in == nil {
		return nil
	}
	out := make([]metav1.Condition, len(in))
	copy(out, in)
	return out
}
