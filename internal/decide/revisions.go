package decide

import (
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/rollout"
	"github.com/haoperator/ha-operator/internal/status"
	"github.com/haoperator/ha-operator/internal/workload"
)

// history is the app's revisions being decided on: the observed objects and their records, with the
// writes decided so far.
type history struct {
	objects []appsv1.ControllerRevision
	writes  map[string]int // name → index in plan.Revisions
}

func (h *history) record(name string) (rollout.Record, *appsv1.ControllerRevision) {
	for i := range h.objects {
		if h.objects[i].Name == name {
			return rollout.ReadRecord(&h.objects[i]), &h.objects[i]
		}
	}
	return rollout.Record{}, nil
}

// write records a revision's new state in the plan, once per revision, and in the working history.
func (p *planner) write(h *history, before *appsv1.ControllerRevision, rec rollout.Record) {
	obj, changed := rec.WriteTo(before)
	if !changed {
		return
	}
	for i := range h.objects {
		if h.objects[i].Name == obj.Name {
			h.objects[i] = *obj
		}
	}
	if i, ok := h.writes[obj.Name]; ok {
		p.plan.Revisions[i].Object = obj
		return
	}
	var observed *appsv1.ControllerRevision
	for i := range p.in.Revisions {
		if p.in.Revisions[i].Name == obj.Name {
			observed = &p.in.Revisions[i]
		}
	}
	h.writes[obj.Name] = len(p.plan.Revisions)
	p.plan.Revisions = append(p.plan.Revisions, RevisionWrite{Before: observed, Object: obj})
}

// hashTemplate is the template as the revision hash sees it: without the peers list, which follows
// the replica count, since scaling is not a revision.
func hashTemplate(tpl corev1.PodTemplateSpec) corev1.PodTemplateSpec {
	out := *tpl.DeepCopy()
	eachPeersVar(&out, func(_ string, e *corev1.EnvVar) { e.Value = "" })
	return out
}

// eachPeersVar calls f with each container's peers variable in the template, and the container's name.
func eachPeersVar(tpl *corev1.PodTemplateSpec, f func(container string, e *corev1.EnvVar)) {
	for _, cs := range [][]corev1.Container{tpl.Spec.InitContainers, tpl.Spec.Containers} {
		for i := range cs {
			for j := range cs[i].Env {
				if cs[i].Env[j].Name == workload.EnvPeers {
					f(cs[i].Name, &cs[i].Env[j])
				}
			}
		}
	}
}

// templateHash is the revision hash of a built template.
func templateHash(tpl corev1.PodTemplateSpec) string {
	hashed := hashTemplate(tpl)
	return rollout.Hash(&hashed)
}

// desiredTemplate is the pod template the spec asks for, built by build with a generation of the
// operator's defaults, and that generation. It is the newest generation, unless the spec built with an
// older generation is the template of a revision of that generation: then that one, so that an
// operator upgrade that adds a default changes no template, and restarts no pod, until the spec
// changes (workload.Defaults).
func (p *planner) desiredTemplate(build func(defaults int) (corev1.PodTemplateSpec, error)) (corev1.PodTemplateSpec, int, error) {
	newest := p.in.Options.DefaultsLevel()
	tpl, err := build(newest)
	if err != nil {
		return tpl, newest, err
	}
	hash := templateHash(tpl)
	older := map[int]map[string]bool{}
	recorded := map[string]bool{}
	for i := range p.in.Revisions {
		rec := rollout.ReadRecord(&p.in.Revisions[i])
		if rec.Hash == hash {
			return tpl, newest, nil
		}
		recorded[rec.Hash] = true
		if rec.Defaults < newest {
			if older[rec.Defaults] == nil {
				older[rec.Defaults] = map[string]bool{}
			}
			older[rec.Defaults][rec.Hash] = true
		}
	}
	// The workload may run a revision that has no record yet, of a generation not known: an app's
	// first revision, recorded once its rollout ends (recordRevision).
	var unrecorded string
	if w := ObservedWorkload(p.workload); w.Found && w.Hash != hash && !recorded[w.Hash] {
		unrecorded = w.Hash
	}
	for level := newest - 1; level >= 1; level-- {
		if older[level] == nil && unrecorded == "" {
			continue
		}
		candidate, err := build(level)
		if err != nil {
			continue
		}
		if h := templateHash(candidate); older[level][h] || h == unrecorded {
			return candidate, level, nil
		}
	}
	return tpl, newest, nil
}

// recordRevision records the revision of the desired pod template, built with the given generation of
// defaults: created when new, renumbered as the newest when the spec returns to it, restarted when a
// retry is asked for. With deferFirst, an app's first revision is written once, when its rollout ends
// (firstRevision). It sets the template's revision hash label and p.updateHash, and returns the
// working history and the revision's name; false when the revision cannot be recorded (the problem
// says why).
func (p *planner) recordRevision(desired corev1.PodTemplateSpec, defaults int, deferFirst bool) (*history, string, bool) {
	app, now := p.app, p.in.Now
	hash := templateHash(desired)
	desired.Labels[rollout.LabelRevisionHash] = hash
	p.updateHash = hash
	h := &history{objects: sortedRevisions(p.in.Revisions), writes: map[string]int{}}

	issued := p.in.IssuedRevision
	for i := range h.objects {
		issued = max(issued, h.objects[i].Revision)
	}
	name := rollout.RevisionName(app.Name, hash)
	rec, obj := h.record(name)
	switch {
	case obj == nil:
		w := ObservedWorkload(p.workload)
		first := deferFirst && p.firstRevision(issued, hash, w)
		// A first revision replaced before its rollout ended was never written: its number, told on
		// the status, or the workload that runs it, keeps it taken.
		highest := max(issued, app.Status.UpdateRevision)
		if w.Found && issued == 0 {
			highest = max(highest, 1)
		}
		if first {
			highest = 0
		}
		cr, err := rollout.NewRevision(app, hash, highest+1, rollout.RevisionData{Template: app.Spec.Template, PodTemplate: desired})
		if err != nil {
			p.problem(appsv1alpha1.ReasonInvalidSpec, "spec.template: %v", err)
			return h, name, false
		}
		cr.OwnerReferences = append(cr.OwnerReferences, ownerReference(app))
		rec = rollout.Record{Number: highest + 1, Hash: hash, StartedAt: now, ProgressAt: now, Defaults: defaults}
		if created := p.workloadCreated(); first && !created.IsZero() {
			// Its times are the same on every reconcile until it is written: the rollout started
			// when its workload was created.
			rec.StartedAt, rec.ProgressAt = created, created
		}
		record, _ := rec.WriteTo(cr)
		h.objects = append(h.objects, *record)
		announce := true
		if first {
			// Told once: the status says it from the first write on, and the workload exists.
			announce = app.Status.UpdateRevision == 0 && !w.Found
		} else {
			h.writes[record.Name] = len(p.plan.Revisions)
			p.plan.Revisions = append(p.plan.Revisions, RevisionWrite{Object: record})
		}
		if announce {
			p.event(corev1.EventTypeNormal, appsv1alpha1.ReasonRolloutStarted, "Rollout", "revision %d (%s): %s", rec.Number, hash, imagesOf(desired))
			p.plan.Metrics = append(p.plan.Metrics, Metric{Kind: MetricRolloutStarted})
		}
	case rec.Number < issued:
		// The spec came back to an older template (an undo): it becomes the newest revision again and
		// is judged like any update.
		old := rec.Number
		rec = rec.Restart(now)
		rec.Number = issued + 1
		p.write(h, obj, rec)
		p.event(corev1.EventTypeNormal, appsv1alpha1.ReasonRolloutStarted, "Rollout", "spec returned to the template of revision %d: it is now revision %d", old, rec.Number)
		p.plan.Metrics = append(p.plan.Metrics, Metric{Kind: MetricRolloutStarted})
	case rec.Outcome == rollout.OutcomeFailed && app.Annotations[appsv1alpha1.AnnotationRetry] != rec.RetryToken:
		rec = rec.Restart(now)
		p.write(h, obj, rec)
		p.event(corev1.EventTypeNormal, appsv1alpha1.ReasonRetrying, "Rollout", "retrying revision %d as asked by the %s annotation", rec.Number, appsv1alpha1.AnnotationRetry)
		p.plan.Metrics = append(p.plan.Metrics, Metric{Kind: MetricRolloutStarted})
	}
	return h, name, true
}

// firstRevision says that the revision of hash is the app's first: no revision was ever written for
// it, the status has told of none but this one, and the workload w, if any, runs this template. Its
// record is written once, when its rollout completes, fails or is paused (write creates it then), and
// not when it starts: one write per new app fewer, since until then nothing needs it stored (there is
// no earlier revision to roll back to; its template is the workload's, and its start the workload's
// creation).
func (p *planner) firstRevision(issued int64, hash string, w status.Workload) bool {
	if issued > 0 || p.app.Status.UpdateRevision > 1 {
		return false
	}
	return !w.Found || w.Hash == hash
}

// keepRunningPeers gives desired the peers list of the workload's template when the workload runs
// desired's revision: a first revision not yet recorded keeps the list it started with, as a recorded
// one keeps its own, so that a scale restarts no pod.
func (p *planner) keepRunningPeers(desired *corev1.PodTemplateSpec) {
	var running *corev1.PodTemplateSpec
	switch o := p.workload.(type) {
	case *appsv1.Deployment:
		running = &o.Spec.Template
	case *appsv1.StatefulSet:
		running = &o.Spec.Template
	case *appsv1.DaemonSet:
		running = &o.Spec.Template
	}
	if running == nil || running.Labels[rollout.LabelRevisionHash] != templateHash(*desired) {
		return
	}
	peers := map[string]string{}
	eachPeersVar(running, func(c string, e *corev1.EnvVar) { peers[c] = e.Value })
	eachPeersVar(desired, func(c string, e *corev1.EnvVar) {
		if v, ok := peers[c]; ok {
			e.Value = v
		}
	})
}

// workloadCreated is when the app's workload was created; zero when there is none.
func (p *planner) workloadCreated() time.Time {
	if p.workload == nil {
		return time.Time{}
	}
	return p.workload.GetCreationTimestamp().Time
}

// revisions records the spec's revision, judges the update in progress and decides which template the
// workload runs: the spec's revision's, or, once it has failed, the last good revision's. serves, when
// set, is what the type's pods must also agree on for the revision to complete (a DaemonSet's).
func (p *planner) revisions(serves func(hash string) bool) {
	app := p.app
	desired, defaults, _ := p.desiredTemplate(func(level int) (corev1.PodTemplateSpec, error) {
		return workload.PodTemplateAt(app, p.in.Options, level), nil
	})
	p.keepRunningPeers(&desired)
	h, name, ok := p.recordRevision(desired, defaults, true)
	if !ok {
		return
	}
	hash := p.updateHash
	now := p.in.Now
	_, obj := h.record(name)

	// The workload gets the revision's own template: a scale changes the peers list of a fresh build,
	// not the revision, and must restart no pod.
	p.template = desired
	if data, err := rollout.DecodeRevision(obj); err == nil && len(data.PodTemplate.Spec.Containers) > 0 {
		p.template = data.PodTemplate
		p.template.Labels[rollout.LabelRevisionHash] = hash
	}

	w := ObservedWorkload(p.workload)
	onUpdate := w.Found && w.Hash == hash
	p.judge(h, obj, w, onUpdate, serves)
	rec, obj := h.record(name)

	ro := &p.plan.Rollout
	ro.UpdateRevision = rec.Number
	ro.OnUpdateRevision = onUpdate
	ro.Paused = app.Spec.Paused()
	if rec.Outcome == rollout.OutcomeFailed {
		p.failed = true
		ro.Failure = rec.Failure
		ro.FailureReason = appsv1alpha1.ReasonRolloutFailed
		if rec.FailureReason == rollout.ReasonProgressDeadlineExceeded {
			ro.FailureReason = appsv1alpha1.ReasonProgressDeadlineExceeded
		}
		if app.Spec.AutoRollback() {
			if target, tobj := rollbackTarget(h, hash); target != nil {
				if data, err := rollout.DecodeRevision(tobj); err == nil {
					p.template = data.PodTemplate
					p.rollbackTo = target
					ro.FailureReason = appsv1alpha1.ReasonRolledBack
					if w.Found && w.Hash == target.Hash && status.Complete(w) && !rec.RolledBack {
						rec.RolledBack = true
						p.write(h, obj, rec)
						if !rec.FailedAt.IsZero() {
							p.plan.Metrics = append(p.plan.Metrics, Metric{Kind: MetricRollbackDuration, Seconds: now.Sub(rec.FailedAt).Seconds()})
						}
					}
				}
			} else {
				ro.Failure += "; no earlier revision completed, so there is nothing to roll back to"
			}
		}
	}
	var lastGood string
	var serving *rollout.Record
	for i := range h.objects {
		r := rollout.ReadRecord(&h.objects[i])
		if r.Good() {
			ro.CurrentRevision, lastGood = r.Number, r.Hash
		}
		if r.Outcome == rollout.OutcomeFailed {
			ro.LastFailedRevision = r.Number
		}
		if w.Found && r.Hash == w.Hash {
			serving = &r
		}
	}
	if serving != nil && status.Settled(w) && serving.Outcome != rollout.OutcomeFailed {
		ro.CurrentRevision = serving.Number
	}
	p.plan.Prune = append(p.plan.Prune, rollout.Prune(h.objects, app.Spec.RevisionHistoryLimit(), hash, w.Hash, lastGood)...)
}

// judge decides the outcome of the update revision: complete, failed, recovered, or still going.
func (p *planner) judge(h *history, obj *appsv1.ControllerRevision, w status.Workload, onUpdate bool, serves func(string) bool) {
	app, now := p.app, p.in.Now
	rec := rollout.ReadRecord(obj)
	complete := onUpdate && status.Complete(w) && (serves == nil || serves(rec.Hash))
	switch {
	case rec.Outcome == rollout.OutcomeFailed:
		if complete {
			// Every replica became ready on the failed revision (no rollback was possible or asked
			// for): it recovered.
			rec.Outcome, rec.Completed, rec.Failure, rec.FailureReason = rollout.OutcomeComplete, true, "", ""
			p.write(h, obj, rec)
			p.event(corev1.EventTypeNormal, appsv1alpha1.ReasonRecovered, "Rollout", "revision %d failed earlier and now serves on every replica", rec.Number)
			p.plan.Metrics = append(p.plan.Metrics, Metric{Kind: MetricRolloutCompleted})
		}
		return
	case rec.Outcome == rollout.OutcomeComplete:
		return
	case complete:
		rec.Outcome, rec.Completed, rec.Paused = rollout.OutcomeComplete, true, false
		p.write(h, obj, rec)
		p.event(corev1.EventTypeNormal, appsv1alpha1.ReasonRolloutComplete, "Rollout", "revision %d serves on every replica", rec.Number)
		p.plan.Metrics = append(p.plan.Metrics, Metric{Kind: MetricRolloutCompleted})
		return
	case app.Spec.Paused():
		if !rec.Paused {
			rec.Paused = true
			p.write(h, obj, rec)
		}
		return
	}
	if rec.Paused {
		// The pause ended: the time it lasted does not count against the deadline.
		rec.Paused, rec.ProgressAt = false, now
		p.write(h, obj, rec)
	}
	if !onUpdate || (w.Partition > 0 && status.Settled(w)) {
		// The workload has not been given this revision yet (it is applied below), or a partition
		// canary holds where it was asked to: nothing to judge.
		return
	}
	progressAt := rec.ProgressAt
	if p.in.ObservingSince.After(progressAt) {
		// Time without progress counts only while the operator could see the cluster.
		progressAt = p.in.ObservingSince
	}
	in := rollout.Input{Pods: p.pods, UpdateHash: rec.Hash, Now: now, ProgressAt: progressAt,
		ProgressDeadlineSeconds: app.Spec.ProgressDeadlineSeconds(), Tolerances: rollout.TolerancesOf(&app.Spec)}
	verdict := rollout.DetectFailure(in)
	if !verdict.Failed {
		p.requeue(rollout.RequeueAfter(in))
		return
	}
	rec.Outcome, rec.Failure, rec.FailureReason = rollout.OutcomeFailed, verdict.String(), verdict.Reason
	rec.FailedAt, rec.RetryToken = now, app.Annotations[appsv1alpha1.AnnotationRetry]
	p.write(h, obj, rec)
	p.event(corev1.EventTypeWarning, appsv1alpha1.ReasonRolloutFailed, "Rollout", "revision %d failed: %s", rec.Number, verdict.String())
	p.plan.Metrics = append(p.plan.Metrics, Metric{Kind: MetricFailureDetection, Seconds: now.Sub(rec.StartedAt).Seconds()})
	if target, _ := rollbackTarget(h, rec.Hash); app.Spec.AutoRollback() && target != nil {
		p.event(corev1.EventTypeWarning, appsv1alpha1.ReasonRolledBack, "Rollback", "rolled back from revision %d to revision %d: %s",
			rec.Number, target.Number, verdict.String())
		p.plan.Metrics = append(p.plan.Metrics, Metric{Kind: MetricRolledBack, Reason: string(verdict.Reason)})
	}
}

// rollbackTarget is the revision a failed update goes back to: the highest-numbered good revision
// whose hash is not the failed one; nil when there is none (the very first revision failed).
func rollbackTarget(h *history, failedHash string) (*rollout.Record, *appsv1.ControllerRevision) {
	var target *rollout.Record
	var obj *appsv1.ControllerRevision
	for i := range h.objects {
		r := rollout.ReadRecord(&h.objects[i])
		if !r.Good() || r.Hash == failedHash {
			continue
		}
		if target == nil || r.Number > target.Number {
			target, obj = &r, &h.objects[i]
		}
	}
	return target, obj
}

func imagesOf(tpl corev1.PodTemplateSpec) string {
	seen := map[string]bool{}
	var out []string
	for _, c := range tpl.Spec.Containers {
		if !seen[c.Image] {
			seen[c.Image] = true
			out = append(out, c.Name+"="+c.Image)
		}
	}
	return strings.Join(out, ", ")
}
