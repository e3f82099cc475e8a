package advice

import (
	"testing"

	batchv1 "k8s.io/api/batch/v1"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

func TestUnboundedJob(t *testing.T) {
	job := func(spec *appsv1alpha1.JobSpec) Input {
		app := goodApp(appsv1alpha1.Job)
		app.Spec.Job = spec
		return Input{App: app}
	}
	set := "set job.activeDeadlineSeconds to the longest a run may take"
	ignoreExit := &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{
		Action:      batchv1.PodFailurePolicyActionIgnore,
		OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{42}},
	}}}
	ignoreDisruptions := &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{
		Action:          batchv1.PodFailurePolicyActionIgnore,
		OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: "DisruptionTarget"}},
	}}}
	runAppCases(t, UnboundedJob, checkUnboundedJob, []appCase{
		{name: "a deadline", in: job(&appsv1alpha1.JobSpec{ActiveDeadlineSeconds: new(int64(60))})},
		{name: "a deadline and a large backoff limit", in: job(&appsv1alpha1.JobSpec{
			ActiveDeadlineSeconds: new(int64(60)), BackoffLimit: new(int32(1000))})},
		{name: "no job section", in: job(nil), applies: true,
			says: []string{"job.activeDeadlineSeconds is not set", "runs forever", "job.backoffLimit (6) only counts pods that fail", set}},
		{name: "a backoff limit and no deadline", in: job(&appsv1alpha1.JobSpec{BackoffLimit: new(int32(2))}), applies: true,
			says: []string{"job.backoffLimit (2)", set}},
		{name: "failures ignored by exit code", in: job(&appsv1alpha1.JobSpec{PodFailurePolicy: ignoreExit}), applies: true,
			says: []string{"retried without end"}},
		{name: "disruptions ignored", in: job(&appsv1alpha1.JobSpec{PodFailurePolicy: ignoreDisruptions}), applies: true},
		{name: "a CronJob skips its later runs", in: job(&appsv1alpha1.JobSpec{Schedule: "*/5 * * * *"}), applies: true,
			says: []string{"skips every later scheduled run (concurrencyPolicy Forbid)", set}},
		{name: "a CronJob that allows concurrent runs", in: job(&appsv1alpha1.JobSpec{Schedule: "@hourly",
			ConcurrencyPolicy: batchv1.AllowConcurrent}), applies: true, says: []string{"pile up"}},
		{name: "a CronJob that replaces runs", in: job(&appsv1alpha1.JobSpec{Schedule: "@hourly",
			ConcurrencyPolicy: batchv1.ReplaceConcurrent}), applies: true, says: []string{"only the next scheduled run stops it"}},
		{name: "not a Job", in: Input{App: goodApp(appsv1alpha1.Stateless)}},
	})
	// The message of a whole-app rule names no container.
	_, msg, _ := checkUnboundedJob(job(nil))
	for _, word := range []string{"container web", "failures with the exit codes", "CronJob"} {
		assertNotSaid(t, msg, word)
	}
}
