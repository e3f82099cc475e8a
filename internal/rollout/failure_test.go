package rollout

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const (
	newHash = "newnewnewn"
	oldHash = "oldoldoldo"
)

// pod is a running, ready pod of revision hash with one container webName, created at t0.
func pod(name, hash string, mutate ...func(*corev1.Pod)) corev1.Pod {
	p := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: testNamespace, CreationTimestamp: metav1.NewTime(t0),
			Labels: map[string]string{LabelRevisionHash: hash},
		},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: webName, Image: testImage}}},
		Status: corev1.PodStatus{
			Phase: corev1.PodRunning,
			Conditions: []corev1.PodCondition{
				{Type: corev1.PodScheduled, Status: corev1.ConditionTrue},
				{Type: corev1.PodReady, Status: corev1.ConditionTrue},
			},
			ContainerStatuses: []corev1.ContainerStatus{{
				Name: webName, Ready: true,
				State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(t0)}},
			}},
		},
	}
	for _, m := range mutate {
		m(&p)
	}
	return p
}

func waiting(reason, message string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodPending
		p.Status.ContainerStatuses[0].Ready = false
		p.Status.ContainerStatuses[0].State = corev1.ContainerState{
			Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: message},
		}
	}
}

func oomKilled(restarts int32, current bool) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		st := &p.Status.ContainerStatuses[0]
		st.RestartCount = restarts
		term := &corev1.ContainerStateTerminated{Reason: "OOMKilled", ExitCode: 137}
		if current {
			st.State = corev1.ContainerState{Terminated: term}
			return
		}
		st.LastTerminationState = corev1.ContainerState{Terminated: term}
		st.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
			Reason: string(ReasonCrashLoopBackOff), Message: "back-off 10s restarting failed container=web pod=" + p.Name,
		}}
	}
}

func memoryLimit(q string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(q)}
	}
}

func unschedulable(since time.Time) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodPending
		p.Status.ContainerStatuses = nil
		p.Status.Conditions = []corev1.PodCondition{{
			Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable,
			Message:            "0/3 nodes are available: 3 Insufficient cpu.",
			LastTransitionTime: metav1.NewTime(since),
		}}
	}
}

const deadlineMessage = "the update made no progress for progressDeadlineSeconds (600s): no pod of the revision was created or became ready"

func restarts(n int32) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Status.ContainerStatuses[0].RestartCount = n }
}

func readySince(ts time.Time) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		for i := range p.Status.Conditions {
			if p.Status.Conditions[i].Type == corev1.PodReady {
				p.Status.Conditions[i].LastTransitionTime = metav1.NewTime(ts)
			}
		}
	}
}

func createdAt(ts time.Time) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.CreationTimestamp = metav1.NewTime(ts) }
}

func TestDetectFailure(t *testing.T) {
	now := t0.Add(2 * time.Minute)
	tests := []struct {
		name string
		in   Input
		want Verdict
	}{
		{
			name: "healthy pods",
			in:   Input{Pods: []corev1.Pod{pod(newPod, newHash), pod("web-old-1", oldHash)}},
		},
		{
			name: "no pods yet",
			in:   Input{},
		},
		{
			name: "pod still creating",
			in:   Input{Pods: []corev1.Pod{pod(newPod, newHash, waiting("ContainerCreating", ""))}},
		},
		{
			name: "ImagePullBackOff",
			in: Input{Pods: []corev1.Pod{pod("web-7f9c-x2", newHash,
				waiting("ImagePullBackOff", `Back-off pulling image "nginx:1.91": ErrImagePull: nginx:1.91: not found`))}},
			want: Verdict{Failed: true, Reason: ReasonImagePullBackOff, Pod: "web-7f9c-x2", Container: webName,
				Message: `Back-off pulling image "nginx:1.91": ErrImagePull: nginx:1.91: not found`},
		},
		{
			name: "a pull refused with 429 is transient: tolerated within the grace period",
			in: Input{Now: t0.Add(29 * time.Second), Pods: []corev1.Pod{pod(newPod, newHash,
				waiting(string(ReasonErrImagePull), "429 Too Many Requests"))}},
		},
		{
			name: "a pull refused with 429 past the grace period",
			in: Input{Now: t0.Add(31 * time.Second), Pods: []corev1.Pod{pod(newPod, newHash,
				waiting(string(ReasonErrImagePull), "429 Too Many Requests"))}},
			want: Verdict{Failed: true, Reason: ReasonErrImagePull, Pod: newPod, Container: webName,
				Message: "for more than 30s: 429 Too Many Requests"},
		},
		{
			name: "a longer failure grace period",
			in: Input{Now: t0.Add(31 * time.Second), Tolerances: Tolerances{FailureGrace: time.Minute},
				Pods: []corev1.Pod{pod(newPod, newHash, waiting(string(ReasonErrImagePull), "i/o timeout"))}},
		},
		{
			name: string(ReasonErrImagePull),
			in: Input{Pods: []corev1.Pod{pod(newPod, newHash,
				waiting(string(ReasonErrImagePull), "manifest unknown"))}},
			want: Verdict{Failed: true, Reason: ReasonErrImagePull, Pod: newPod, Container: webName, Message: "manifest unknown"},
		},
		{
			name: "ErrImageNeverPull",
			in: Input{Pods: []corev1.Pod{pod(newPod, newHash,
				waiting("ErrImageNeverPull", "image is not present with pull policy of Never"))}},
			want: Verdict{Failed: true, Reason: ReasonErrImageNeverPull, Pod: newPod, Container: webName,
				Message: "image is not present with pull policy of Never"},
		},
		{
			name: "InvalidImageName",
			in: Input{Pods: []corev1.Pod{pod(newPod, newHash,
				waiting("InvalidImageName", `Failed to apply default image tag "NGINX": invalid reference format`))}},
			want: Verdict{Failed: true, Reason: ReasonInvalidImageName, Pod: newPod, Container: webName,
				Message: `Failed to apply default image tag "NGINX": invalid reference format`},
		},
		{
			name: "CreateContainerConfigError: a Secret that arrives late is tolerated",
			in: Input{Now: t0.Add(10 * time.Second), Pods: []corev1.Pod{pod(newPod, newHash,
				waiting("CreateContainerConfigError", `secret "db" not found`))}},
		},
		{
			name: "CreateContainerConfigError past the grace period",
			in: Input{Now: t0.Add(31 * time.Second), Pods: []corev1.Pod{pod(newPod, newHash,
				waiting("CreateContainerConfigError", `secret "db" not found`))}},
			want: Verdict{Failed: true, Reason: ReasonCreateContainerConfigError, Pod: newPod, Container: webName,
				Message: `for more than 30s: secret "db" not found`},
		},
		{
			name: "CreateContainerError",
			in: Input{Now: t0.Add(time.Minute), Pods: []corev1.Pod{pod(newPod, newHash,
				waiting("CreateContainerError", "context deadline exceeded"))}},
			want: Verdict{Failed: true, Reason: ReasonCreateContainerError, Pod: newPod, Container: webName,
				Message: "for more than 30s: context deadline exceeded"},
		},
		{
			name: "one crash at boot is tolerated",
			in: Input{Pods: []corev1.Pod{pod(newPod, newHash, restarts(1),
				waiting(string(ReasonCrashLoopBackOff), "back-off 10s restarting failed container=web pod=web-new-1"))}},
		},
		{
			name: string(ReasonCrashLoopBackOff),
			in: Input{Pods: []corev1.Pod{pod(newPod, newHash, restarts(3),
				waiting(string(ReasonCrashLoopBackOff), "back-off 10s restarting failed container=web pod=web-new-1"))}},
			want: Verdict{Failed: true, Reason: ReasonCrashLoopBackOff, Pod: newPod, Container: webName,
				Message: "restarted 3 times: back-off 10s restarting failed container=web pod=web-new-1"},
		},
		{
			name: "crashLoopRestarts of 1",
			in: Input{Tolerances: Tolerances{CrashLoopRestarts: 1}, Pods: []corev1.Pod{pod(newPod, newHash, restarts(1),
				waiting(string(ReasonCrashLoopBackOff), "back-off"))}},
			want: Verdict{Failed: true, Reason: ReasonCrashLoopBackOff, Pod: newPod, Container: webName,
				Message: "restarted 1 times: back-off"},
		},
		{
			name: "failing init container",
			in: Input{Pods: []corev1.Pod{pod(newPod, newHash, func(p *corev1.Pod) {
				p.Spec.InitContainers = []corev1.Container{{Name: initName, Image: "migrate:2"}}
				p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: initName, RestartCount: 3,
					State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
						Reason: string(ReasonCrashLoopBackOff), Message: "back-off 20s restarting failed container=migrate"}}}}
				p.Status.ContainerStatuses[0].State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "PodInitializing"}}
			})}},
			want: Verdict{Failed: true, Reason: ReasonCrashLoopBackOff, Pod: newPod, Container: initName,
				InitContainer: true, Message: "restarted 3 times: back-off 20s restarting failed container=migrate"},
		},
		{
			name: "one OOM kill is tolerated, back-off included",
			in:   Input{Pods: []corev1.Pod{pod(newPod, newHash, oomKilled(1, false))}},
		},
		{
			name: "repeated OOM kills",
			in:   Input{Pods: []corev1.Pod{pod(newPod, newHash, memoryLimit("64Mi"), oomKilled(3, false))}},
			want: Verdict{Failed: true, Reason: ReasonOOMKilled, Pod: newPod, Container: webName,
				Message: "killed for running out of memory 3 times (memory limit 64Mi)"},
		},
		{
			name: "OOM kill just now after an earlier one",
			in:   Input{Pods: []corev1.Pod{pod(newPod, newHash, oomKilled(2, true))}},
			want: Verdict{Failed: true, Reason: ReasonOOMKilled, Pod: newPod, Container: webName,
				Message: "killed for running out of memory 3 times"},
		},
		{
			name: "OOM threshold raised",
			in:   Input{Tolerances: Tolerances{CrashLoopRestarts: 4}, Pods: []corev1.Pod{pod(newPod, newHash, oomKilled(3, false))}},
		},
		{
			name: "OOM kill then running again, below threshold",
			in: Input{Pods: []corev1.Pod{pod(newPod, newHash, oomKilled(1, false), func(p *corev1.Pod) {
				p.Status.ContainerStatuses[0].State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
			})}},
		},
		{
			name: "unschedulable within the grace period",
			in:   Input{Now: now, Pods: []corev1.Pod{pod(newPod, newHash, unschedulable(now.Add(-119*time.Second)))}},
		},
		{
			name: "unschedulable past the grace period",
			in:   Input{Now: now, Pods: []corev1.Pod{pod(newPod, newHash, unschedulable(now.Add(-121*time.Second)))}},
			want: Verdict{Failed: true, Reason: ReasonUnschedulable, Pod: newPod,
				Message: "0/3 nodes are available: 3 Insufficient cpu."},
		},
		{
			name: "waiting for the zone of its volume is not unschedulable: the zone is lost, not the update",
			in: Input{Now: now, Pods: []corev1.Pod{pod(newPod, newHash, unschedulable(now.Add(-time.Hour)), func(p *corev1.Pod) {
				// As the scheduler of the local cluster said it when the zone of the volume was lost.
				p.Status.Conditions[0].Message = "0/6 nodes are available: 2 node(s) had untolerated taint(s), " +
					"4 node(s) didn't match PersistentVolume's node affinity. preemption: 0/6 nodes are available: " +
					"6 Preemption is not helpful for scheduling."
			})}},
		},
		{
			name: "unschedulable with a longer grace period",
			in: Input{Now: now, Tolerances: Tolerances{UnschedulableGrace: 5 * time.Minute},
				Pods: []corev1.Pod{pod(newPod, newHash, unschedulable(now.Add(-121*time.Second)))}},
		},
		{
			name: "scheduling gated is not unschedulable",
			in: Input{Now: now, Pods: []corev1.Pod{pod(newPod, newHash, unschedulable(t0), func(p *corev1.Pod) {
				p.Status.Conditions[0].Reason = corev1.PodReasonSchedulingGated
			})}},
		},
		{
			name: "pod of the old revision failing is ignored",
			in: Input{Pods: []corev1.Pod{
				pod("web-old-1", oldHash, waiting("ImagePullBackOff", "x")),
				pod(newPod, newHash),
			}},
		},
		{
			name: "pod without the revision label is ignored",
			in: Input{Pods: []corev1.Pod{pod(revName2, "", waiting("ImagePullBackOff", "x"), func(p *corev1.Pod) {
				p.Labels = nil
			})}},
		},
		{
			name: "terminating pod is ignored",
			in: Input{Pods: []corev1.Pod{pod(newPod, newHash, waiting(string(ReasonCrashLoopBackOff), "x"), func(p *corev1.Pod) {
				p.DeletionTimestamp = &metav1.Time{Time: now}
			})}},
		},
		{
			name: "several failing pods: the oldest is reported",
			in: Input{Pods: []corev1.Pod{
				pod("web-new-a", newHash, createdAt(t0.Add(time.Second)), waiting(string(ReasonErrImagePull), "a: not found")),
				pod("web-new-b", newHash, waiting("ImagePullBackOff", "b: not found")),
				pod("web-new-c", newHash, createdAt(t0.Add(2*time.Second)), waiting(string(ReasonInvalidImageName), "c")),
			}},
			want: Verdict{Failed: true, Reason: ReasonImagePullBackOff, Pod: "web-new-b", Container: webName, Message: "b: not found"},
		},
		{
			name: "several failing pods of one age: name order",
			in: Input{Pods: []corev1.Pod{
				pod("web-new-z", newHash, waiting(string(ReasonErrImagePull), "z not found")),
				pod("web-new-m", newHash, waiting("ImagePullBackOff", "m not found")),
			}},
			want: Verdict{Failed: true, Reason: ReasonImagePullBackOff, Pod: "web-new-m", Container: webName, Message: "m not found"},
		},
		{
			name: "containers in spec order, whatever the status order",
			in: Input{Pods: []corev1.Pod{pod(newPod, newHash, func(p *corev1.Pod) {
				p.Spec.Containers = []corev1.Container{{Name: webName}, {Name: sidecarName}}
				p.Status.ContainerStatuses = []corev1.ContainerStatus{
					{Name: sidecarName, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: string(ReasonErrImagePull), Message: sidecarName + " not found"}}},
					{Name: webName, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: string(ReasonErrImagePull), Message: webName + " not found"}}},
				}
			})}},
			want: Verdict{Failed: true, Reason: ReasonErrImagePull, Pod: newPod, Container: webName, Message: webName + " not found"},
		},
		{
			name: "deadline not yet passed",
			in:   Input{Now: t0.Add(600 * time.Second), ProgressAt: t0, ProgressDeadlineSeconds: 600},
		},
		{
			name: "deadline counts from the last pod that became ready",
			in: Input{Now: t0.Add(700 * time.Second), ProgressAt: t0, ProgressDeadlineSeconds: 600,
				Pods: []corev1.Pod{pod(newPod, newHash, readySince(t0.Add(200*time.Second)))}},
		},
		{
			name: "deadline counts from the last pod created",
			in: Input{Now: t0.Add(700 * time.Second), ProgressAt: t0, ProgressDeadlineSeconds: 600,
				Pods: []corev1.Pod{pod(newPod, newHash, createdAt(t0.Add(150*time.Second)), waiting("ContainerCreating", ""))}},
		},
		{
			name: "no progress for longer than the deadline",
			in: Input{Now: t0.Add(801 * time.Second), ProgressAt: t0, ProgressDeadlineSeconds: 600,
				Pods: []corev1.Pod{pod(newPod, newHash, readySince(t0.Add(200*time.Second)))}},
			want: Verdict{Failed: true, Reason: ReasonProgressDeadlineExceeded, Message: deadlineMessage},
		},
		{
			name: "deadline passed",
			in:   Input{Now: t0.Add(601 * time.Second), ProgressAt: t0, ProgressDeadlineSeconds: 600},
			want: Verdict{Failed: true, Reason: ReasonProgressDeadlineExceeded, Message: deadlineMessage},
		},
		{
			name: "a pod's reason wins over the deadline",
			in: Input{Now: t0.Add(time.Hour), ProgressAt: t0, ProgressDeadlineSeconds: 600,
				Pods: []corev1.Pod{pod(newPod, newHash, waiting(string(ReasonErrImagePull), "denied"))}},
			want: Verdict{Failed: true, Reason: ReasonErrImagePull, Pod: newPod, Container: webName, Message: "denied"},
		},
		{
			name: "no start time: no deadline",
			in:   Input{Now: t0.Add(time.Hour), ProgressDeadlineSeconds: 600},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			if in.UpdateHash == "" {
				in.UpdateHash = newHash
			}
			if got := DetectFailure(in); got != tt.want {
				t.Errorf("verdict\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestDetectFailureEmptyUpdateHashMatchesNoPod(t *testing.T) {
	in := Input{Pods: []corev1.Pod{pod(revName2, "", waiting(string(ReasonErrImagePull), "x"))}}
	if v := DetectFailure(in); v.Failed {
		t.Errorf("verdict %+v for a pod without a revision", v)
	}
}

func TestVerdictString(t *testing.T) {
	tests := []struct {
		v    Verdict
		want string
	}{
		{Verdict{}, ""},
		{Verdict{Failed: true, Reason: ReasonImagePullBackOff, Pod: "web-7f9c-x2", Container: webName,
			Message: `Back-off pulling image "nginx:1.91"`},
			`pod web-7f9c-x2 container web: ImagePullBackOff: Back-off pulling image "nginx:1.91"`},
		{Verdict{Failed: true, Reason: ReasonCrashLoopBackOff, Pod: statefulPod, Container: initName, InitContainer: true,
			Message: "back-off"}, "pod web-0 init container migrate: CrashLoopBackOff: back-off"},
		{Verdict{Failed: true, Reason: ReasonUnschedulable, Pod: statefulPod, Message: "0/3 nodes are available"},
			"pod web-0: Unschedulable: 0/3 nodes are available"},
		{Verdict{Failed: true, Reason: ReasonCreateContainerError, Pod: statefulPod, Container: webName},
			"pod web-0 container web: CreateContainerError"},
		{Verdict{Failed: true, Reason: ReasonProgressDeadlineExceeded, Message: "too slow"},
			"ProgressDeadlineExceeded: too slow"},
	}
	for _, tt := range tests {
		if got := tt.v.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestCheckProgressDeadline(t *testing.T) {
	tests := []struct {
		name     string
		started  time.Time
		now      time.Time
		deadline int32
		want     bool
	}{
		{"before", t0, t0.Add(10 * time.Second), 60, false},
		{"exactly at", t0, t0.Add(60 * time.Second), 60, false},
		{"after", t0, t0.Add(61 * time.Second), 60, true},
		{"no start", time.Time{}, t0, 60, false},
		{"no deadline", t0, t0.Add(time.Hour), 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := CheckProgressDeadline(tt.started, tt.now, tt.deadline)
			if v.Failed != tt.want {
				t.Fatalf("failed %v, want %v", v.Failed, tt.want)
			}
			if v.Failed && v.Reason != ReasonProgressDeadlineExceeded {
				t.Errorf("reason %s", v.Reason)
			}
		})
	}
}

func TestRequeueAfter(t *testing.T) {
	now := t0.Add(10 * time.Second)
	tests := []struct {
		name string
		in   Input
		want time.Duration
	}{
		{"nothing pending", Input{Now: now, Pods: []corev1.Pod{pod(newPod, newHash)}}, 0},
		{"deadline ahead", Input{Now: now, ProgressAt: t0, ProgressDeadlineSeconds: 600}, 591 * time.Second},
		{"unschedulable grace ends first", Input{Now: now, ProgressAt: t0, ProgressDeadlineSeconds: 600,
			Pods: []corev1.Pod{pod(newPod, newHash, unschedulable(now.Add(-110*time.Second)))}}, 11 * time.Second},
		{"a transient signal's grace ends first", Input{Now: now, ProgressAt: t0, ProgressDeadlineSeconds: 600,
			Pods: []corev1.Pod{pod(newPod, newHash, waiting(string(ReasonErrImagePull), "429 Too Many Requests"))}}, 21 * time.Second},
		{"old revision's unschedulable pod does not count", Input{Now: now,
			Pods: []corev1.Pod{pod("web-old-1", oldHash, unschedulable(now))}}, 0},
		{"already failed", Input{Now: now, ProgressAt: t0, ProgressDeadlineSeconds: 600,
			Pods: []corev1.Pod{pod(newPod, newHash, waiting(string(ReasonErrImagePull), "x not found"))}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.UpdateHash = newHash
			if got := RequeueAfter(tt.in); got != tt.want {
				t.Errorf("RequeueAfter = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRequeueAfterLeadsToAVerdict(t *testing.T) {
	// Waking up when RequeueAfter says gives a verdict with no pod change.
	in := Input{UpdateHash: newHash, Now: t0,
		Pods: []corev1.Pod{pod(newPod, newHash, unschedulable(t0))}}
	if DetectFailure(in).Failed {
		t.Fatal("failed before the grace period")
	}
	in.Now = in.Now.Add(RequeueAfter(in))
	if v := DetectFailure(in); v.Reason != ReasonUnschedulable {
		t.Fatalf("after RequeueAfter: %+v", v)
	}
}

func TestPodFailureNil(t *testing.T) {
	if v := PodFailure(nil, t0, Tolerances{}); v.Failed {
		t.Error("nil pod failed")
	}
}
