package v1alpha1

import (
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

const (
	// Daemon apps run as a DaemonSet: one pod on every node the template selects.
	Daemon AppType = "Daemon"
	// Job apps run to completion as a Job (a run), or, with job.schedule, as a CronJob that starts
	// runs on a schedule.
	Job AppType = "Job"
)

// JobSpec configures the runs of a Job app. The fields are the Job's and the CronJob's own.
type JobSpec struct {
	// completions is how many pods must finish successfully for the run to complete. Default 1.
	// +kubebuilder:validation:Minimum=0
	// +optional
	Completions *int32 `json:"completions,omitempty"`

	// parallelism is how many pods run at once. Default 1. Above 1, the pods are spread over zones
	// and nodes as far as the cluster allows.
	// +kubebuilder:validation:Minimum=0
	// +optional
	Parallelism *int32 `json:"parallelism,omitempty"`

	// backoffLimit is how many pod failures the run tolerates before it fails with reason
	// BackoffLimitExceeded. Default 6.
	// +kubebuilder:validation:Minimum=0
	// +optional
	BackoffLimit *int32 `json:"backoffLimit,omitempty"`

	// activeDeadlineSeconds is how long a run may be active before its pods are stopped and it fails
	// with reason DeadlineExceeded.
	// +kubebuilder:validation:Minimum=1
	// +optional
	ActiveDeadlineSeconds *int64 `json:"activeDeadlineSeconds,omitempty"`

	// ttlSecondsAfterFinished, when set, lets Kubernetes delete a finished run (and its pods) that
	// long after it finished. The operator keeps the run in its history either way and never starts a
	// deleted run again.
	// +kubebuilder:validation:Minimum=0
	// +optional
	TTLSecondsAfterFinished *int32 `json:"ttlSecondsAfterFinished,omitempty"`

	// podFailurePolicy is the Job's pod failure policy: rules that fail the run at once, ignore a
	// failure or count it, by exit code or pod condition. It needs restartPolicy Never.
	// +optional
	PodFailurePolicy *batchv1.PodFailurePolicy `json:"podFailurePolicy,omitempty"`

	// schedule, in cron syntax ("*/5 * * * *"), makes the app a CronJob that starts a run at each
	// scheduled time, instead of one run.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +optional
	Schedule string `json:"schedule,omitempty"`

	// concurrencyPolicy says what a scheduled time does while a run is still active: Forbid (the
	// default) skips it, Allow starts another run beside it, Replace stops the active run first.
	// Used with schedule.
	// +kubebuilder:validation:Enum=Allow;Forbid;Replace
	// +kubebuilder:default=Forbid
	// +optional
	ConcurrencyPolicy batchv1.ConcurrencyPolicy `json:"concurrencyPolicy,omitempty"`
}

// DaemonStatus is what the operator observes of a Daemon app's DaemonSet.
type DaemonStatus struct {
	// desiredNumberScheduled is the number of eligible nodes: the nodes the template selects.
	// +optional
	DesiredNumberScheduled int32 `json:"desiredNumberScheduled,omitempty"`

	// numberMisscheduled is the number of nodes running a daemon pod that should not.
	// +optional
	NumberMisscheduled int32 `json:"numberMisscheduled,omitempty"`

	// coveredPercent is the share of eligible nodes that have a ready daemon pod, from 0 to 100.
	// +optional
	CoveredPercent *int32 `json:"coveredPercent,omitempty"`
}

// JobStatus is what the operator observes of a Job app's runs.
type JobStatus struct {
	// currentRun is the number of the run the spec asks for (one-off Jobs): the revision whose
	// template it runs.
	// +optional
	CurrentRun *int64 `json:"currentRun,omitempty"`

	// runName is the name of the Job of the current run, or of the last run the CronJob started.
	// +optional
	RunName string `json:"runName,omitempty"`

	// active, succeeded and failed count the current run's pods.
	// +optional
	Active int32 `json:"active,omitempty"`
	// +optional
	Succeeded int32 `json:"succeeded,omitempty"`
	// +optional
	Failed int32 `json:"failed,omitempty"`

	// completionTime is when the current run completed.
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`

	// lastScheduleTime is when the CronJob last started a run.
	// +optional
	LastScheduleTime *metav1.Time `json:"lastScheduleTime,omitempty"`

	// lastSuccessfulTime is when a run of the CronJob last completed.
	// +optional
	LastSuccessfulTime *metav1.Time `json:"lastSuccessfulTime,omitempty"`

	// lastSuccessfulRun is the name of the Job of the CronJob's last run that completed.
	// +optional
	LastSuccessfulRun string `json:"lastSuccessfulRun,omitempty"`
}

// Condition reasons of Daemon and Job apps.
const (
	// ReasonAllNodesCovered: every eligible node has a ready daemon pod.
	ReasonAllNodesCovered = "AllNodesCovered"
	// ReasonNodesUncovered: some eligible nodes have no ready daemon pod.
	ReasonNodesUncovered = "NodesUncovered"
	// ReasonComplete: the current run completed.
	ReasonComplete = "Complete"
	// ReasonRunning: the current run is active.
	ReasonRunning = "Running"
	// ReasonWaitingForRun: the spec asks for a new run, which starts when the active one finishes.
	ReasonWaitingForRun = "WaitingForRun"
	// ReasonScheduled: the CronJob is in place and starts runs on its schedule.
	ReasonScheduled = "Scheduled"
	// ReasonJobFailed: the run failed for a reason the Job does not name.
	ReasonJobFailed = "JobFailed"
	// ReasonRunDeleted: the current run's Job is gone (ttlSecondsAfterFinished or a person) before
	// the operator saw it finish.
	ReasonRunDeleted = "RunDeleted"
)

// JobSchedule is spec.job.schedule, empty for a one-off Job.
func (s *HighlyAvailableAppSpec) JobSchedule() string {
	if s.Job == nil {
		return ""
	}
	return s.Job.Schedule
}

// Parallelism is spec.job.parallelism, 1 when unset.
func (s *HighlyAvailableAppSpec) Parallelism() int32 {
	if s.Job == nil || s.Job.Parallelism == nil {
		return 1
	}
	return *s.Job.Parallelism
}

// ConcurrencyPolicy is spec.job.concurrencyPolicy, Forbid when unset.
func (s *HighlyAvailableAppSpec) ConcurrencyPolicy() batchv1.ConcurrencyPolicy {
	if s.Job == nil || s.Job.ConcurrencyPolicy == "" {
		return batchv1.ForbidConcurrent
	}
	return s.Job.ConcurrencyPolicy
}

// DaemonMaxSurge is spec.rollout.maxSurge for a Daemon, 1 when unset: a node gets its new pod before
// the old one stops.
func (s *HighlyAvailableAppSpec) DaemonMaxSurge() intstr.IntOrString {
	if s.Rollout != nil && s.Rollout.MaxSurge != nil {
		return *s.Rollout.MaxSurge
	}
	return intstr.FromInt32(1)
}
