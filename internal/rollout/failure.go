package rollout

import (
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// Reason is why an update is judged failed.
type Reason string

// The reasons an update fails. The container reasons are the kubelet's waiting reasons of the same
// name: none of them goes away without a change of spec (or of the cluster), so waiting for the
// progress deadline would only delay the rollback.
const (
	ReasonCrashLoopBackOff           Reason = "CrashLoopBackOff"
	ReasonImagePullBackOff           Reason = "ImagePullBackOff"
	ReasonErrImagePull               Reason = "ErrImagePull"
	ReasonErrImageNeverPull          Reason = "ErrImageNeverPull"
	ReasonInvalidImageName           Reason = "InvalidImageName"
	ReasonCreateContainerConfigError Reason = "CreateContainerConfigError"
	ReasonCreateContainerError       Reason = "CreateContainerError"
	// ReasonOOMKilled: a container was killed for running out of memory repeatedly (at least the
	// OOMKill threshold times).
	ReasonOOMKilled Reason = "OOMKilled"
	// ReasonUnschedulable: the scheduler found no node for a pod for longer than the grace period.
	ReasonUnschedulable Reason = "Unschedulable"
	// ReasonProgressDeadlineExceeded: the update took longer than progressDeadlineSeconds.
	ReasonProgressDeadlineExceeded Reason = "ProgressDeadlineExceeded"
)

// Signals that fail an update at once: no retry of the kubelet's makes them go away.
var permanentWaitingReasons = []Reason{ReasonInvalidImageName, ReasonErrImageNeverPull}

// Signals that may go away by themselves (a registry that refuses a pull for a moment, a Secret that
// arrives a few seconds after the pods): they fail the update only once they have lasted longer than
// the failure grace period.
var transientWaitingReasons = []Reason{
	ReasonErrImagePull, ReasonImagePullBackOff, ReasonCreateContainerConfigError, ReasonCreateContainerError,
}

// permanentPullErrors are what a registry or runtime says when an image can never be pulled as
// named: it does not exist, or the name is wrong. A pull error saying one of them fails the update
// at once; any other pull error (429 Too Many Requests, a timeout, a refused connection) is transient.
var permanentPullErrors = []string{
	"not found", "notfound", "manifest unknown", "name unknown", "does not exist", "invalid reference format",
	"repository name must", "unauthorized", "denied",
}

// Tolerances say how long, or how often, a transient signal may show before it fails an update.
// Zero values mean the defaults.
type Tolerances struct {
	// FailureGrace is how long a transient container signal may last.
	FailureGrace time.Duration
	// CrashLoopRestarts is how many restarts (or OOM kills) of one container fail the update.
	CrashLoopRestarts int32
	// UnschedulableGrace is how long a pod may wait for a node.
	UnschedulableGrace time.Duration
}

// TolerancesOf are the app's tolerances, spec.rollout's or the API's defaults.
func TolerancesOf(spec *appsv1alpha1.HighlyAvailableAppSpec) Tolerances {
	return Tolerances{
		FailureGrace:       seconds(spec.FailureGraceSeconds()),
		CrashLoopRestarts:  spec.CrashLoopRestarts(),
		UnschedulableGrace: seconds(spec.UnschedulableGraceSeconds()),
	}
}

func seconds(n int32) time.Duration { return time.Duration(n) * time.Second }

// withDefaults fills the zero values with the API's defaults.
func (t Tolerances) withDefaults() Tolerances {
	if t.FailureGrace <= 0 {
		t.FailureGrace = seconds(appsv1alpha1.DefaultFailureGraceSeconds)
	}
	if t.CrashLoopRestarts <= 0 {
		t.CrashLoopRestarts = appsv1alpha1.DefaultCrashLoopRestarts
	}
	if t.UnschedulableGrace <= 0 {
		t.UnschedulableGrace = seconds(appsv1alpha1.DefaultUnschedulableGraceSeconds)
	}
	return t
}

// Input is what DetectFailure judges.
type Input struct {
	// Pods are the pods of the app's workload; only those labelled with UpdateHash (LabelRevisionHash)
	// and not being deleted are looked at, so a pod of an older revision failing does not fail the
	// update.
	Pods []corev1.Pod
	// UpdateHash is the hash of the revision being rolled out. Empty matches no pod.
	UpdateHash string
	// Now is the time of the judgement.
	Now time.Time
	// ProgressAt is the last moment the update progressed that the pods do not show (its start, the
	// end of a pause); zero skips the deadline check. The deadline counts from the later of it and
	// LastPodProgress of the pods.
	ProgressAt time.Time
	// ProgressDeadlineSeconds is spec.rollout.progressDeadlineSeconds; 0 or less skips the check.
	ProgressDeadlineSeconds int32
	// Tolerances for transient signals.
	Tolerances Tolerances
}

// Verdict is the judgement on an update. The zero Verdict means no failure was seen.
type Verdict struct {
	// Failed is true when the update failed.
	Failed bool
	// Reason is why.
	Reason Reason
	// Pod is the failing pod's name ("" for ReasonProgressDeadlineExceeded).
	Pod string
	// Container is the failing container's name ("" for a pod-level reason).
	Container string
	// InitContainer is true when Container is an init container.
	InitContainer bool
	// Message is the detail: the kubelet's or the scheduler's message, or the operator's own for
	// OOM kills and the deadline.
	Message string
}

// String is the verdict as one line for a person, the form the status message and the Event use:
// `pod web-7f9c-x2 container web: ImagePullBackOff: Back-off pulling image "nginx:1.91"`.
// It is "" when the update has not failed.
func (v Verdict) String() string {
	if !v.Failed {
		return ""
	}
	var b strings.Builder
	if v.Pod != "" {
		b.WriteString("pod " + v.Pod)
		if v.Container != "" {
			if v.InitContainer {
				b.WriteString(" init")
			}
			b.WriteString(" container " + v.Container)
		}
		b.WriteString(": ")
	}
	b.WriteString(string(v.Reason))
	if v.Message != "" {
		b.WriteString(": " + v.Message)
	}
	return b.String()
}

// DetectFailure judges an update from the pods of its revision and the time since it last
// progressed. A pod signal wins over the deadline, since it says why. When several pods fail, the
// oldest pod (then the first by name) is reported, and within a pod the first failing init
// container, then the first failing container, in the order of the pod's spec; so the same cluster
// state always gives the same verdict. The caller judges only an update in progress and not paused.
func DetectFailure(in Input) Verdict {
	for _, pod := range updatePods(in) {
		if v := PodFailure(pod, in.Now, in.Tolerances); v.Failed {
			return v
		}
	}
	return CheckProgressDeadline(LastProgress(in), in.Now, in.ProgressDeadlineSeconds)
}

// LastProgress is the last moment the update progressed: ProgressAt, or later a pod of the update
// revision being created (the updated count grew) or becoming ready.
func LastProgress(in Input) time.Time {
	last := in.ProgressAt
	if last.IsZero() {
		return last
	}
	for _, pod := range updatePods(in) {
		if t := pod.CreationTimestamp.Time; t.After(last) {
			last = t
		}
		if t := ReadySince(pod); t.After(last) {
			last = t
		}
	}
	return last
}

// CheckProgressDeadline is the verdict from the time of the last progress alone: failed with
// ReasonProgressDeadlineExceeded once more than deadlineSeconds have passed without progress. A zero
// time or a deadline of 0 or less never fails.
func CheckProgressDeadline(lastProgress, now time.Time, deadlineSeconds int32) Verdict {
	if lastProgress.IsZero() || deadlineSeconds <= 0 {
		return Verdict{}
	}
	deadline := time.Duration(deadlineSeconds) * time.Second
	if now.Sub(lastProgress) <= deadline {
		return Verdict{}
	}
	return Verdict{
		Failed: true,
		Reason: ReasonProgressDeadlineExceeded,
		Message: fmt.Sprintf("the update made no progress for progressDeadlineSeconds (%ds): no pod of the revision was created or became ready",
			deadlineSeconds),
	}
}

// RequeueAfter is how long until the verdict may change with no change to any pod: a transient
// signal's grace period ending, or the progress deadline passing. The controller requeues after it,
// since the passing of time sends no watch event. It is 0 when nothing is pending (or the update has
// already failed).
func RequeueAfter(in Input) time.Duration {
	if DetectFailure(in).Failed {
		return 0
	}
	var next time.Duration
	consider := func(d time.Duration) {
		if d > 0 && (next == 0 || d < next) {
			next = d
		}
	}
	for _, pod := range updatePods(in) {
		if at, ok := transientFailsAt(pod, in.Tolerances.withDefaults()); ok {
			// One second past the end, because the grace period must be exceeded, not just reached.
			consider(at.Sub(in.Now) + time.Second)
		}
	}
	if last := LastProgress(in); !last.IsZero() && in.ProgressDeadlineSeconds > 0 {
		deadline := last.Add(time.Duration(in.ProgressDeadlineSeconds) * time.Second)
		consider(deadline.Sub(in.Now) + time.Second)
	}
	return next
}

// updatePods are the pods of the update revision that are not being deleted, oldest first.
func updatePods(in Input) []*corev1.Pod {
	var pods []*corev1.Pod
	if in.UpdateHash == "" {
		return nil
	}
	for i := range in.Pods {
		p := &in.Pods[i]
		if p.Labels[LabelRevisionHash] == in.UpdateHash && p.DeletionTimestamp == nil {
			pods = append(pods, p)
		}
	}
	slices.SortStableFunc(pods, func(a, b *corev1.Pod) int {
		if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return pods
}

// PodFailure is the failure one pod shows, whatever its revision: a permanent container signal, a
// transient one that lasted past its grace period, a container that crashed (or was OOM killed) too
// often, or being unschedulable for too long. The kubectl plugin uses it to show why a pod is stuck.
func PodFailure(pod *corev1.Pod, now time.Time, tol Tolerances) Verdict {
	if pod == nil {
		return Verdict{}
	}
	tol = tol.withDefaults()
	since := signalSince(pod)
	for _, group := range []struct {
		specs    []corev1.Container
		statuses []corev1.ContainerStatus
		init     bool
	}{
		{pod.Spec.InitContainers, pod.Status.InitContainerStatuses, true},
		{pod.Spec.Containers, pod.Status.ContainerStatuses, false},
	} {
		for _, st := range inSpecOrder(group.specs, group.statuses) {
			if v := containerFailure(group.specs, st, tol, now.Sub(since)); v.Failed {
				v.Pod, v.Container, v.InitContainer = pod.Name, st.Name, group.init
				return v
			}
		}
	}
	if at, ok := unschedulableSince(pod); ok && now.Sub(at) > tol.UnschedulableGrace {
		return Verdict{Failed: true, Reason: ReasonUnschedulable, Pod: pod.Name, Message: podCondition(pod, corev1.PodScheduled).Message}
	}
	return Verdict{}
}

// IsPermanentPullError tells whether a pull error's message says the image can never be pulled as
// named.
func IsPermanentPullError(message string) bool {
	m := strings.ToLower(message)
	for _, s := range permanentPullErrors {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// isTransient tells whether a waiting reason (with its message) is a transient signal.
func isTransient(reason Reason, message string) bool {
	if !slices.Contains(transientWaitingReasons, reason) {
		return false
	}
	if reason == ReasonErrImagePull || reason == ReasonImagePullBackOff {
		return !IsPermanentPullError(message)
	}
	return true
}

// signalSince is when the pod's containers last stopped being ready (or, if they never were, when
// the pod was created): how long a transient signal has lasted, at most.
func signalSince(pod *corev1.Pod) time.Time {
	if c := podCondition(pod, corev1.ContainersReady); c != nil && c.Status == corev1.ConditionFalse && !c.LastTransitionTime.IsZero() {
		return c.LastTransitionTime.Time
	}
	return pod.CreationTimestamp.Time
}

// transientFailsAt is when a transient signal of the pod will have lasted past its grace period, or
// an unschedulable pod will have waited too long.
func transientFailsAt(pod *corev1.Pod, tol Tolerances) (time.Time, bool) {
	var at time.Time
	found := false
	for _, st := range append(slices.Clone(pod.Status.InitContainerStatuses), pod.Status.ContainerStatuses...) {
		if w := st.State.Waiting; w != nil && isTransient(Reason(w.Reason), w.Message) {
			at, found = signalSince(pod).Add(tol.FailureGrace), true
			break
		}
	}
	if since, ok := unschedulableSince(pod); ok {
		if t := since.Add(tol.UnschedulableGrace); !found || t.Before(at) {
			at, found = t, true
		}
	}
	return at, found
}

// containerFailure judges one container's status: a permanent waiting reason fails at once; a
// transient one once it has lasted longer than the grace period; a crash loop or OOM kills once the
// container has restarted crashLoopRestarts times. Repeated OOM kills are reported as such even while
// the kubelet shows CrashLoopBackOff, since that says why.
func containerFailure(specs []corev1.Container, st corev1.ContainerStatus, tol Tolerances, lasted time.Duration) Verdict {
	if kills, oom := oomKills(st); oom {
		if kills >= tol.CrashLoopRestarts {
			return Verdict{Failed: true, Reason: ReasonOOMKilled, Message: oomMessage(specs, st.Name, kills)}
		}
		return Verdict{}
	}
	w := st.State.Waiting
	if w == nil {
		return Verdict{}
	}
	reason := Reason(w.Reason)
	switch {
	case slices.Contains(permanentWaitingReasons, reason):
		return Verdict{Failed: true, Reason: reason, Message: w.Message}
	case reason == ReasonCrashLoopBackOff:
		if st.RestartCount >= tol.CrashLoopRestarts {
			return Verdict{Failed: true, Reason: reason, Message: fmt.Sprintf("restarted %d times: %s", st.RestartCount, w.Message)}
		}
	case (reason == ReasonErrImagePull || reason == ReasonImagePullBackOff) && IsPermanentPullError(w.Message):
		return Verdict{Failed: true, Reason: reason, Message: w.Message}
	case isTransient(reason, w.Message) && lasted > tol.FailureGrace:
		return Verdict{Failed: true, Reason: reason, Message: fmt.Sprintf("for more than %s: %s", tol.FailureGrace, w.Message)}
	}
	return Verdict{}
}

// oomKills says whether the container's last end was an OOM kill and, if so, how many times it
// has ended so: each restart followed an end, and the status keeps only the last, so the count
// assumes the earlier ends were OOM kills too, which is what a container over its limit does.
func oomKills(st corev1.ContainerStatus) (int32, bool) {
	if t := st.State.Terminated; t != nil {
		return st.RestartCount + 1, t.Reason == string(ReasonOOMKilled)
	}
	if t := st.LastTerminationState.Terminated; t != nil && t.Reason == string(ReasonOOMKilled) {
		return st.RestartCount, true
	}
	return 0, false
}

func oomMessage(specs []corev1.Container, name string, kills int32) string {
	limit := ""
	for _, c := range specs {
		if c.Name == name {
			if q, ok := c.Resources.Limits[corev1.ResourceMemory]; ok {
				limit = q.String()
			}
		}
	}
	times := "times"
	if kills == 1 {
		times = "time"
	}
	if limit == "" {
		return fmt.Sprintf("killed for running out of memory %d %s", kills, times)
	}
	return fmt.Sprintf("killed for running out of memory %d %s (memory limit %s)", kills, times, limit)
}

// inSpecOrder returns the statuses in the order of the pod's spec, then any the spec does not
// name, by name: the kubelet does not promise an order.
func inSpecOrder(specs []corev1.Container, statuses []corev1.ContainerStatus) []corev1.ContainerStatus {
	index := func(name string) int {
		for i, c := range specs {
			if c.Name == name {
				return i
			}
		}
		return len(specs)
	}
	out := slices.Clone(statuses)
	slices.SortStableFunc(out, func(a, b corev1.ContainerStatus) int {
		if ia, ib := index(a.Name), index(b.Name); ia != ib {
			return ia - ib
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// unschedulableSince is when the scheduler first found no node for the pod, if it has not found
// one since. A pod held by scheduling gates is not unschedulable: something asked it to wait. Nor is a
// pod that waits for the zone its volume lives in (WaitsForVolumeZone): the update is not at fault,
// and the pod comes back when its zone does.
func unschedulableSince(pod *corev1.Pod) (time.Time, bool) {
	c := podCondition(pod, corev1.PodScheduled)
	if c == nil || c.Status != corev1.ConditionFalse || c.Reason != corev1.PodReasonUnschedulable || WaitsForVolumeZone(pod) {
		return time.Time{}, false
	}
	if !c.LastTransitionTime.IsZero() {
		return c.LastTransitionTime.Time, true
	}
	return pod.CreationTimestamp.Time, true
}

// volumeZoneConflicts are what the scheduler says of the nodes outside the zone of a pod's volume:
// the VolumeBinding plugin's node affinity conflict, as Kubernetes 1.37 words it and as earlier
// versions did.
var volumeZoneConflicts = []string{"didn't match PersistentVolume's node affinity", "volume node affinity conflict"}

// WaitsForVolumeZone tells whether the scheduler found no node for the pod because none in the zone of
// its volume can take it: the zone is lost, or has no room, and the pod cannot run elsewhere.
func WaitsForVolumeZone(pod *corev1.Pod) bool {
	c := podCondition(pod, corev1.PodScheduled)
	if c == nil || c.Status != corev1.ConditionFalse || c.Reason != corev1.PodReasonUnschedulable {
		return false
	}
	return slices.ContainsFunc(volumeZoneConflicts, func(s string) bool { return strings.Contains(c.Message, s) })
}

// SchedulingMessage is what the scheduler last said of a pod it could not place; "" when it said
// nothing.
func SchedulingMessage(pod *corev1.Pod) string {
	if c := podCondition(pod, corev1.PodScheduled); c != nil && c.Status == corev1.ConditionFalse {
		return c.Message
	}
	return ""
}
