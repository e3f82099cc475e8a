package rollout

import (
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
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

// failingWaitingReasons are the container waiting reasons that fail an update at once.
var failingWaitingReasons = []Reason{
	ReasonCrashLoopBackOff, ReasonImagePullBackOff, ReasonErrImagePull, ReasonErrImageNeverPull,
	ReasonInvalidImageName, ReasonCreateContainerConfigError, ReasonCreateContainerError,
}

// Defaults of Input's tolerances.
const (
	// DefaultUnschedulableGrace is how long a pod may stay unschedulable before the update fails:
	// long enough for a cluster autoscaler to start adding a node, or for old pods to free room.
	DefaultUnschedulableGrace = 30 * time.Second
	// DefaultOOMKillThreshold is how many OOM kills of one container fail the update: one may be a
	// spike under load, two in a row is the new revision not fitting its memory limit.
	DefaultOOMKillThreshold int32 = 2
)

// Input is what DetectFailure judges.
type Input struct {
	// Pods are the app's pods; only those labelled with UpdateHash (LabelRevisionHash) and not
	// being deleted are looked at, so a pod of an older revision failing does not fail the update.
	Pods []corev1.Pod
	// UpdateHash is the hash of the revision being rolled out. Empty matches no pod.
	UpdateHash string
	// Now is the time of the judgement.
	Now time.Time
	// UpdateStarted is when the update to UpdateHash began; zero skips the deadline check.
	UpdateStarted time.Time
	// ProgressDeadlineSeconds is spec.rollout.progressDeadlineSeconds; 0 or less skips the check.
	ProgressDeadlineSeconds int32
	// UnschedulableGrace is how long a pod may be unschedulable; 0 means DefaultUnschedulableGrace.
	UnschedulableGrace time.Duration
	// OOMKillThreshold is how many OOM kills of one container fail the update; 0 means
	// DefaultOOMKillThreshold.
	OOMKillThreshold int32
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

// DetectFailure judges an update from the pods of its revision and the time it has taken. A pod
// signal wins over the deadline, since it says why. When several pods fail, the oldest pod (then the
// first by name) is reported, and within a pod the first failing init container, then the first
// failing container, in the order of the pod's spec; so the same cluster state always gives the
// same verdict. The caller judges only an update in progress: a complete one cannot fail.
func DetectFailure(in Input) Verdict {
	for _, pod := range updatePods(in) {
		if v := PodFailure(pod, in.Now, in.UnschedulableGrace, in.OOMKillThreshold); v.Failed {
			return v
		}
	}
	return CheckProgressDeadline(in.UpdateStarted, in.Now, in.ProgressDeadlineSeconds)
}

// CheckProgressDeadline is the verdict from the update's start time alone: failed with
// ReasonProgressDeadlineExceeded once more than deadlineSeconds have passed. A zero start or a
// deadline of 0 or less never fails.
func CheckProgressDeadline(started, now time.Time, deadlineSeconds int32) Verdict {
	if started.IsZero() || deadlineSeconds <= 0 {
		return Verdict{}
	}
	deadline := time.Duration(deadlineSeconds) * time.Second
	if now.Sub(started) <= deadline {
		return Verdict{}
	}
	return Verdict{
		Failed:  true,
		Reason:  ReasonProgressDeadlineExceeded,
		Message: fmt.Sprintf("the update did not complete within progressDeadlineSeconds (%ds)", deadlineSeconds),
	}
}

// RequeueAfter is how long until the verdict may change with no change to any pod: an
// unschedulable pod's grace period ending, or the progress deadline passing. The controller
// requeues after it, since the passing of time sends no watch event. It is 0 when nothing is
// pending (or the update has already failed).
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
	grace := orDefault(in.UnschedulableGrace, DefaultUnschedulableGrace)
	for _, pod := range updatePods(in) {
		if since, ok := unschedulableSince(pod); ok {
			// One second past the end, because the grace period must be exceeded, not just reached.
			consider(since.Add(grace).Sub(in.Now) + time.Second)
		}
	}
	if !in.UpdateStarted.IsZero() && in.ProgressDeadlineSeconds > 0 {
		deadline := in.UpdateStarted.Add(time.Duration(in.ProgressDeadlineSeconds) * time.Second)
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

// PodFailure is the failure one pod shows, whatever its revision: a failing init container or
// container, repeated OOM kills, or being unschedulable for longer than the grace period. Zero
// tolerances mean the defaults. The kubectl plugin uses it to show why a pod is stuck.
func PodFailure(pod *corev1.Pod, now time.Time, unschedulableGrace time.Duration, oomKillThreshold int32) Verdict {
	if pod == nil {
		return Verdict{}
	}
	threshold := oomKillThreshold
	if threshold <= 0 {
		threshold = DefaultOOMKillThreshold
	}
	for _, group := range []struct {
		specs    []corev1.Container
		statuses []corev1.ContainerStatus
		init     bool
	}{
		{pod.Spec.InitContainers, pod.Status.InitContainerStatuses, true},
		{pod.Spec.Containers, pod.Status.ContainerStatuses, false},
	} {
		for _, st := range inSpecOrder(group.specs, group.statuses) {
			if v := containerFailure(group.specs, st, threshold); v.Failed {
				v.Pod, v.Container, v.InitContainer = pod.Name, st.Name, group.init
				return v
			}
		}
	}
	if since, ok := unschedulableSince(pod); ok {
		if now.Sub(since) > orDefault(unschedulableGrace, DefaultUnschedulableGrace) {
			return Verdict{Failed: true, Reason: ReasonUnschedulable, Pod: pod.Name, Message: scheduledCondition(pod).Message}
		}
	}
	return Verdict{}
}

// containerFailure judges one container's status. Repeated OOM kills are reported as such even
// while the kubelet shows CrashLoopBackOff, since that says why; fewer OOM kills than the threshold
// are tolerated, back-off included.
func containerFailure(specs []corev1.Container, st corev1.ContainerStatus, threshold int32) Verdict {
	if kills, oom := oomKills(st); oom {
		if kills >= threshold {
			return Verdict{Failed: true, Reason: ReasonOOMKilled, Message: oomMessage(specs, st.Name, kills)}
		}
		return Verdict{}
	}
	if w := st.State.Waiting; w != nil && slices.Contains(failingWaitingReasons, Reason(w.Reason)) {
		return Verdict{Failed: true, Reason: Reason(w.Reason), Message: w.Message}
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
// one since. A pod held by scheduling gates is not unschedulable: something asked it to wait.
func unschedulableSince(pod *corev1.Pod) (time.Time, bool) {
	c := scheduledCondition(pod)
	if c == nil || c.Status != corev1.ConditionFalse || c.Reason != corev1.PodReasonUnschedulable {
		return time.Time{}, false
	}
	if !c.LastTransitionTime.IsZero() {
		return c.LastTransitionTime.Time, true
	}
	return pod.CreationTimestamp.Time, true
}

func scheduledCondition(pod *corev1.Pod) *corev1.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == corev1.PodScheduled {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
