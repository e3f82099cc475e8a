package workload

import (
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// LabelRun is the label on a Job app's Job that holds its run number.
const LabelRun = "apps.haoperator.dev/run"

// Name limits of the objects a Job app gets. A Job's name becomes the value of its pods' job-name
// label, so it must be a valid label value; a CronJob adds 11 characters to its name for each Job it
// starts.
const (
	maxJobNameLength     = 63
	maxCronJobNameLength = 52
)

// RunName is the name of the Job of one run: <app>-<run number>, the app's name shortened when needed
// so that the whole stays within a label value's 63 characters. Each template change is a new
// revision and so a new run number and a new Job; the run number never repeats for an app.
func RunName(app *appsv1alpha1.HighlyAvailableApp, run int64) string {
	suffix := "-" + strconv.FormatInt(run, 10)
	return truncateName(app.Name, maxJobNameLength-len(suffix)) + suffix
}

// CronJobName is the name of a scheduled Job app's CronJob: the app's, shortened to the 52 characters
// a CronJob may have.
func CronJobName(app *appsv1alpha1.HighlyAvailableApp) string {
	return truncateName(app.Name, maxCronJobNameLength)
}

func truncateName(name string, limit int) string {
	if len(name) <= limit {
		return name
	}
	return strings.TrimRight(name[:limit], "-.")
}

// Job is one run of a Job app: its template (see PodTemplate, which defaults restartPolicy to
// OnFailure), spec.job's completions, parallelism and limits, and the run number as a label. A Job's
// template cannot change, so a new template is a new run (see RunName).
func Job(app *appsv1alpha1.HighlyAvailableApp, template corev1.PodTemplateSpec, run int64) *batchv1.Job {
	meta := objectMeta(app, RunName(app, run))
	meta.Labels[LabelRun] = strconv.FormatInt(run, 10)
	return &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: batchv1.SchemeGroupVersion.String(), Kind: "Job"},
		ObjectMeta: meta,
		Spec:       jobSpec(app, template),
	}
}

// CronJob starts runs of a scheduled Job app at each time of spec.job.schedule, with its concurrency
// policy (Forbid by default: a scheduled time is skipped while a run is active). It keeps as many
// finished runs as the revision history limit.
func CronJob(app *appsv1alpha1.HighlyAvailableApp, template corev1.PodTemplateSpec) *batchv1.CronJob {
	history := app.Spec.RevisionHistoryLimit()
	return &batchv1.CronJob{
		TypeMeta:   metav1.TypeMeta{APIVersion: batchv1.SchemeGroupVersion.String(), Kind: "CronJob"},
		ObjectMeta: objectMeta(app, CronJobName(app)),
		Spec: batchv1.CronJobSpec{
			Schedule:          app.Spec.JobSchedule(),
			ConcurrencyPolicy: app.Spec.ConcurrencyPolicy(),
			// Said explicitly: a CronJob suspended while its schedule was removed resumes when the
			// schedule comes back.
			Suspend: new(false),
			JobTemplate: batchv1.JobTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: Labels(app)},
				Spec:       jobSpec(app, template),
			},
			SuccessfulJobsHistoryLimit: new(history),
			FailedJobsHistoryLimit:     new(history),
		},
	}
}

func jobSpec(app *appsv1alpha1.HighlyAvailableApp, template corev1.PodTemplateSpec) batchv1.JobSpec {
	spec := batchv1.JobSpec{Template: template}
	j := app.Spec.Job
	if j == nil {
		return spec
	}
	// Copies, so that whoever changes the Job does not change the app's spec with it.
	copyInt32 := func(p *int32) *int32 {
		if p == nil {
			return nil
		}
		return new(*p)
	}
	spec.Completions = copyInt32(j.Completions)
	spec.Parallelism = copyInt32(j.Parallelism)
	spec.BackoffLimit = copyInt32(j.BackoffLimit)
	spec.TTLSecondsAfterFinished = copyInt32(j.TTLSecondsAfterFinished)
	if j.ActiveDeadlineSeconds != nil {
		spec.ActiveDeadlineSeconds = new(*j.ActiveDeadlineSeconds)
	}
	if j.PodFailurePolicy != nil {
		spec.PodFailurePolicy = j.PodFailurePolicy.DeepCopy()
	}
	return spec
}
