package advice

import (
	"fmt"
	"slices"

	batchv1 "k8s.io/api/batch/v1"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// defaultBackoffLimit is a Job's backoffLimit when it sets none.
const defaultBackoffLimit = 6

// checkUnboundedJob: a Job app without job.activeDeadlineSeconds. Its backoff limit is always
// bounded (the Job's default is 6) but counts only pods that fail: a pod that hangs never fails, and
// failures a podFailurePolicy ignores are not counted, so only a deadline bounds a run.
func checkUnboundedJob(in Input) (string, string, bool) {
	spec := &in.App.Spec
	if spec.AppType() != appsv1alpha1.Job || (spec.Job != nil && spec.Job.ActiveDeadlineSeconds != nil) {
		return "", "", false
	}
	backoff := int32(defaultBackoffLimit)
	var policy *batchv1.PodFailurePolicy
	if spec.Job != nil {
		if spec.Job.BackoffLimit != nil {
			backoff = *spec.Job.BackoffLimit
		}
		policy = spec.Job.PodFailurePolicy
	}
	msg := fmt.Sprintf("job.activeDeadlineSeconds is not set: a run whose pod hangs (never exits, never fails) "+
		"runs forever, since job.backoffLimit (%d) only counts pods that fail", backoff)
	if ignoresExitCodes(policy) {
		msg += ", and the failures with the exit codes job.podFailurePolicy ignores are not counted, so they are " +
			"retried without end"
	}
	if spec.JobSchedule() != "" {
		switch spec.ConcurrencyPolicy() {
		case batchv1.ForbidConcurrent:
			msg += "; while it runs, the CronJob skips every later scheduled run (concurrencyPolicy Forbid)"
		case batchv1.AllowConcurrent:
			msg += "; runs that hang pile up beside the new ones (concurrencyPolicy Allow)"
		case batchv1.ReplaceConcurrent:
			msg += "; only the next scheduled run stops it (concurrencyPolicy Replace)"
		}
	}
	return UnboundedJob, msg + "; set job.activeDeadlineSeconds to the longest a run may take", true
}

// ignoresExitCodes: a rule of the policy ignores failures by exit code (ignoring disruptions, by
// pod condition, is what such a policy is usually for and is bounded by the disruptions).
func ignoresExitCodes(policy *batchv1.PodFailurePolicy) bool {
	return policy != nil && slices.ContainsFunc(policy.Rules, func(r batchv1.PodFailurePolicyRule) bool {
		return r.Action == batchv1.PodFailurePolicyActionIgnore && r.OnExitCodes != nil
	})
}
