package rollout

import (
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
)

// Annotations of the revision record, beside AnnotationOutcome and AnnotationFailure. Every
// annotation the operator keeps on a revision is named here and read and written only through
// Record.
const (
	// AnnotationStartedAt is when the revision's update last started (RFC 3339): its creation, the
	// moment the spec came back to it, or a retry.
	AnnotationStartedAt = "apps.haoperator.dev/started-at"
	// AnnotationProgressAt is the last moment the update was known to progress without the pods
	// saying so: its start, and the end of a pause. The deadline counts from the later of it and the
	// last pod of the revision to be created or to become ready.
	AnnotationProgressAt = "apps.haoperator.dev/progress-at"
	// AnnotationPaused is "true" while the update is held by spec.rollout.paused, so that the end of
	// the pause is noticed and its time does not count against the deadline.
	AnnotationPaused = "apps.haoperator.dev/paused"
	// AnnotationFailedAt is when the update was found to fail (RFC 3339).
	AnnotationFailedAt = "apps.haoperator.dev/failed-at"
	// AnnotationFailureReason is the signal that failed it (ImagePullBackOff, ProgressDeadlineExceeded…).
	AnnotationFailureReason = "apps.haoperator.dev/failure-reason"
	// AnnotationRetryToken is the app's retry annotation as it was when the revision failed: a new
	// value on the app asks for another try.
	AnnotationRetryToken = "apps.haoperator.dev/retry-token"
	// AnnotationRolledBack marks a failed revision whose rollback has completed, so that the time it
	// took is measured once.
	AnnotationRolledBack = "apps.haoperator.dev/rollback-complete"
	// AnnotationRunStarted, on a revision of a Job app, is the number of the run whose Job was created
	// for it. A revision renumbered because the spec came back to its template is a new run: its number
	// no longer matches.
	AnnotationRunStarted = "apps.haoperator.dev/run-started"
	// AnnotationCompleted marks a revision that has served on every replica at least once: a good
	// revision to roll back to, even while the spec returns to it and it is judged again.
	AnnotationCompleted = "apps.haoperator.dev/completed"
	// AnnotationDefaults is the generation of the operator's pod-template defaults the revision was
	// built with (workload.Defaults); absent for the first generation.
	AnnotationDefaults = "apps.haoperator.dev/defaults"
)

// Record is everything the operator keeps about one revision: its number, hash and how its update
// went. It is the one reading and writing of a revision's annotations.
type Record struct {
	Number        int64
	Hash          string
	Outcome       Outcome
	Failure       string
	FailureReason Reason
	StartedAt     time.Time
	ProgressAt    time.Time
	Paused        bool
	FailedAt      time.Time
	RetryToken    string
	// RolledBack is true once the rollback from this failed revision has completed.
	RolledBack bool
	// Completed is true once the revision has served on every replica (it may be judged again when
	// the spec returns to it; it stays a rollback target unless it fails).
	Completed bool
	// RunStarted is, on a Job app's revision, the run whose Job was created for it.
	RunStarted int64
	// Defaults is the generation of the operator's defaults the revision's template was built with
	// (workload.Defaults), 1 for a revision that does not say.
	Defaults int
}

// Good tells whether the revision is one to roll back to.
func (r Record) Good() bool {
	return r.Outcome == OutcomeComplete || (r.Completed && r.Outcome != OutcomeFailed)
}

// ReadRecord reads a revision's record. Times that are missing read as the revision's creation.
func ReadRecord(cr *appsv1.ControllerRevision) Record {
	a := cr.Annotations
	r := Record{
		Number:        cr.Revision,
		Hash:          RevisionHash(cr),
		Outcome:       OutcomeOf(cr),
		Failure:       FailureMessage(cr),
		FailureReason: Reason(a[AnnotationFailureReason]),
		StartedAt:     parseTime(a[AnnotationStartedAt], cr.CreationTimestamp.Time),
		Paused:        a[AnnotationPaused] == flagTrue,
		FailedAt:      parseTime(a[AnnotationFailedAt], time.Time{}),
		RetryToken:    a[AnnotationRetryToken],
		RolledBack:    a[AnnotationRolledBack] == flagTrue,
		Completed:     a[AnnotationCompleted] == flagTrue || OutcomeOf(cr) == OutcomeComplete,
	}
	if n, err := strconv.ParseInt(a[AnnotationRunStarted], 10, 64); err == nil {
		r.RunStarted = n
	}
	r.Defaults = 1
	if n, err := strconv.Atoi(a[AnnotationDefaults]); err == nil && n > 1 {
		r.Defaults = n
	}
	r.ProgressAt = parseTime(a[AnnotationProgressAt], r.StartedAt)
	return r
}

// Restart is the record of an update that starts (again) now: a revision the spec returns to, or a
// retry. It is judged like any update; Completed is kept, so that a good revision stays a rollback
// target while it is judged; anything about a failure is cleared.
func (r Record) Restart(now time.Time) Record {
	return Record{Number: r.Number, Hash: r.Hash, StartedAt: now, ProgressAt: now, Completed: r.Completed,
		RunStarted: r.RunStarted, Defaults: r.Defaults}
}

// WriteTo returns a copy of the revision carrying the record, and whether anything changed. The
// argument is not modified.
func (r Record) WriteTo(cr *appsv1.ControllerRevision) (*appsv1.ControllerRevision, bool) {
	out := cr.DeepCopy()
	changed := out.Revision != r.Number
	out.Revision = r.Number
	set := func(key, value string) {
		if setAnnotation(out, key, value) {
			changed = true
		}
	}
	set(AnnotationOutcome, string(r.Outcome))
	failure := ""
	if r.Outcome == OutcomeFailed {
		failure = r.Failure
	}
	set(AnnotationFailure, failure)
	set(AnnotationFailureReason, string(r.FailureReason))
	set(AnnotationStartedAt, formatTime(r.StartedAt))
	progress := ""
	if !r.ProgressAt.Equal(r.StartedAt) {
		progress = formatTime(r.ProgressAt)
	}
	set(AnnotationProgressAt, progress)
	set(AnnotationPaused, flag(r.Paused))
	set(AnnotationFailedAt, formatTime(r.FailedAt))
	set(AnnotationRetryToken, r.RetryToken)
	set(AnnotationRolledBack, flag(r.RolledBack))
	set(AnnotationCompleted, flag(r.Completed))
	run := ""
	if r.RunStarted > 0 {
		run = strconv.FormatInt(r.RunStarted, 10)
	}
	set(AnnotationRunStarted, run)
	defaults := ""
	if r.Defaults > 1 {
		defaults = strconv.Itoa(r.Defaults)
	}
	set(AnnotationDefaults, defaults)
	return out, changed
}

// flagTrue is how a flag annotation reads when set.
const flagTrue = "true"

func flag(b bool) string {
	if b {
		return flagTrue
	}
	return ""
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func parseTime(s string, fallback time.Time) time.Time {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t
	}
	return fallback
}

// setAnnotation sets key to value, or removes it when value is "", and says whether it changed.
func setAnnotation(cr *appsv1.ControllerRevision, key, value string) bool {
	old, had := cr.Annotations[key]
	if value == "" {
		if !had {
			return false
		}
		delete(cr.Annotations, key)
		return true
	}
	if had && old == value {
		return false
	}
	if cr.Annotations == nil {
		cr.Annotations = map[string]string{}
	}
	cr.Annotations[key] = value
	return true
}
