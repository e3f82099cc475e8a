package controller

import (
	"context"
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/decide"
	"github.com/haoperator/ha-operator/internal/kinds"
	"github.com/haoperator/ha-operator/internal/rollout"
	"github.com/haoperator/ha-operator/internal/workload"
)

// observe reads everything the decision needs about one app, and writes nothing. Reads come from the
// cache, which holds the objects the operator labels as its own. An object of the same name that the
// operator does not own is looked for on the API server once a create of its name was refused (a
// create never takes one over: IfAbsent), and a claim the StatefulSet would create when the cache
// does not hold it.
func (r *HighlyAvailableAppReconciler) observe(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp) (decide.Input, error) {
	now := r.now()
	mem := r.memory.of(app)
	in := decide.Input{App: app, Options: r.Options, Now: now, Objects: map[decide.Ref]client.Object{},
		IssuedRevision: mem.issued, ObservingSince: r.observingSince(now)}
	// The candidates, and the names whose create was refused (a run's Job is not a candidate).
	refs := decide.Candidates(app)
	for _, ref := range mem.refused {
		if !slices.Contains(refs, ref) {
			refs = append(refs, ref)
		}
	}
	for _, ref := range refs {
		where := inCache
		if slices.Contains(mem.refused, ref) {
			where = orAPIServer
		}
		obj, err := r.read(ctx, kinds.NewObject(ref.Kind, ref.Name, app.Namespace), where)
		if err != nil {
			return in, fmt.Errorf("get %s: %w", ref, err)
		}
		if obj != nil {
			in.Objects[ref] = obj
		}
	}
	selector := client.MatchingLabels(workload.SelectorLabels(app))
	pods := &corev1.PodList{}
	if err := r.List(ctx, pods, client.InNamespace(app.Namespace), selector, byApp(app)); err != nil {
		return in, fmt.Errorf("list pods: %w", err)
	}
	in.Pods = pods.Items
	nodes := make([]string, 0, len(in.Pods))
	for i := range in.Pods {
		if n := in.Pods[i].Spec.NodeName; n != "" && !slices.Contains(nodes, n) {
			nodes = append(nodes, n)
		}
	}
	r.leases.observe(nodes, &in)
	reads := decide.ObservesOf(app)
	if reads.ReplicaSets {
		// Their metadata is all the decision reads (which Deployment controls each): the cache holds
		// nothing more of them.
		sets := &metav1.PartialObjectMetadataList{}
		sets.SetGroupVersionKind(appsv1.SchemeGroupVersion.WithKind("ReplicaSetList"))
		if err := r.List(ctx, sets, client.InNamespace(app.Namespace), selector, byApp(app)); err != nil {
			return in, fmt.Errorf("list replica sets: %w", err)
		}
		in.ReplicaSets = make([]appsv1.ReplicaSet, len(sets.Items))
		for i := range sets.Items {
			in.ReplicaSets[i] = appsv1.ReplicaSet{ObjectMeta: sets.Items[i].ObjectMeta}
		}
	}
	if reads.Runs {
		jobs := &batchv1.JobList{}
		if err := r.List(ctx, jobs, client.InNamespace(app.Namespace), selector, byApp(app)); err != nil {
			return in, fmt.Errorf("list jobs: %w", err)
		}
		in.Jobs = jobs.Items
	}
	revs := &appsv1.ControllerRevisionList{}
	if err := r.List(ctx, revs, client.InNamespace(app.Namespace), selector, byApp(app)); err != nil {
		return in, fmt.Errorf("list revisions: %w", err)
	}
	in.Revisions = controlledRevisions(revs, app)
	if err := r.observeHistory(ctx, app, &in); err != nil {
		return in, err
	}
	if reads.Runs {
		if err := r.observeStartedRuns(ctx, app, &in); err != nil {
			return in, err
		}
	}
	if reads.Storage {
		if err := r.observeStorage(ctx, app, &in); err != nil {
			return in, err
		}
	}
	if err := r.observeFailedCreate(ctx, app, &in); err != nil {
		return in, err
	}
	return in, r.observeNodes(ctx, &in)
}

// observeHistory reads the app's revisions past the cache when the cached ones may be older than its
// workload or than the operator's own writes. The workload runs the template of an older revision
// than the newest, and the newest is not marked failed: that is the start of an update (the cache has
// not seen the new template yet), or another instance of the operator marked the newest failed and
// rolled the workload back, and this cache has seen the rollback but not yet the mark: deciding on
// that history would apply the failed template again, and the pods would be replaced twice. Or the
// operator wrote a revision the cache does not show yet (a first revision is written as its rollout
// ends, and the app's status write wakes the next reconcile at once): deciding on that history would
// create the revision again under the next number. The cache of each kind is consistent in itself,
// not with the others.
func (r *HighlyAvailableAppReconciler) observeHistory(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp, in *decide.Input) error {
	if r.APIReader == nil || (!behindOwnWrites(in) && !behindWorkload(app, in)) {
		return nil
	}
	revs := &appsv1.ControllerRevisionList{}
	if err := r.APIReader.List(ctx, revs, client.InNamespace(app.Namespace), client.MatchingLabels(workload.SelectorLabels(app))); err != nil {
		return fmt.Errorf("list revisions past the cache: %w", err)
	}
	in.Revisions = controlledRevisions(revs, app)
	return nil
}

// behindOwnWrites says that the cached revisions lack the highest number the operator has written.
func behindOwnWrites(in *decide.Input) bool {
	var newest int64
	for i := range in.Revisions {
		newest = max(newest, in.Revisions[i].Revision)
	}
	return in.IssuedRevision > newest
}

// behindWorkload says that the workload runs an older revision than the newest cached, which is not
// marked failed (observeHistory).
func behindWorkload(app *appsv1alpha1.HighlyAvailableApp, in *decide.Input) bool {
	obj := in.Objects[decide.WorkloadRef(app)]
	if obj == nil || !decide.IsControlledBy(obj, app) || len(in.Revisions) < 2 {
		return false
	}
	live := decide.ObservedWorkload(obj).Hash
	var running, newest rollout.Record
	for i := range in.Revisions {
		rec := rollout.ReadRecord(&in.Revisions[i])
		if rec.Hash == live {
			running = rec
		}
		if rec.Number > newest.Number {
			newest = rec
		}
	}
	return running.Number != 0 && running.Number < newest.Number && newest.Outcome != rollout.OutcomeFailed
}

// controlledRevisions keeps the revisions the app controls.
func controlledRevisions(revs *appsv1.ControllerRevisionList, app *appsv1alpha1.HighlyAvailableApp) []appsv1.ControllerRevision {
	var out []appsv1.ControllerRevision
	for i := range revs.Items {
		if decide.IsControlledBy(&revs.Items[i], app) {
			out = append(out, revs.Items[i])
		}
	}
	return out
}

// observeStorage reads the claims under every name the app's StatefulSet uses or will use, and the
// StorageClasses. A claim the cache does not hold (not the operator's) is looked for among the others
// only when the StatefulSet would create it.
func (r *HighlyAvailableAppReconciler) observeStorage(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp, in *decide.Input) error {
	if len(app.Spec.Storage) == 0 {
		return nil
	}
	classes := &storagev1.StorageClassList{}
	if err := r.List(ctx, classes); err != nil {
		return fmt.Errorf("list storage classes: %w", err)
	}
	in.StorageClasses = classes.Items
	replicas := app.Spec.DesiredReplicas()
	var existing int32
	if sts, ok := in.Objects[decide.Ref{Kind: kinds.StatefulSet, Name: workload.WorkloadName(app)}].(*appsv1.StatefulSet); ok && sts.Spec.Replicas != nil {
		existing = *sts.Spec.Replicas
		replicas = max(replicas, existing)
	}
	in.Claims = map[string]*corev1.PersistentVolumeClaim{}
	for _, st := range app.Spec.Storage {
		for ord := range replicas {
			pvc := &corev1.PersistentVolumeClaim{}
			pvc.Name, pvc.Namespace = workload.ClaimName(app, st.Name, ord), app.Namespace
			where := inCache
			if ord >= existing {
				where = orAPIServer
			}
			obj, err := r.read(ctx, pvc, where)
			if err != nil {
				return fmt.Errorf("get claim %s: %w", pvc.Name, err)
			}
			if obj != nil {
				in.Claims[pvc.Name] = obj.(*corev1.PersistentVolumeClaim)
			}
		}
	}
	return r.observeVolumes(ctx, in)
}

// observeVolumes reads, from the cache, the volumes bound to the app's claims: where its data lives.
func (r *HighlyAvailableAppReconciler) observeVolumes(ctx context.Context, in *decide.Input) error {
	for name, pvc := range in.Claims {
		if pvc.Spec.VolumeName == "" {
			continue
		}
		pv := &corev1.PersistentVolume{}
		if err := r.Get(ctx, client.ObjectKey{Name: pvc.Spec.VolumeName}, pv); err != nil {
			if client.IgnoreNotFound(err) != nil {
				return fmt.Errorf("get volume %s: %w", pvc.Spec.VolumeName, err)
			}
			continue
		}
		if in.Volumes == nil {
			in.Volumes = map[string]*corev1.PersistentVolume{}
		}
		in.Volumes[name] = pv
	}
	return nil
}

// observeFailedCreate reads why a StatefulSet that has fewer pods than it wants cannot create them: the
// StatefulSet controller says so only in FailedCreate Events (a Deployment says it in a condition). The
// Events are read only while pods are missing, so a settled app costs no request.
func (r *HighlyAvailableAppReconciler) observeFailedCreate(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp, in *decide.Input) error {
	sts, ok := in.Objects[decide.Ref{Kind: kinds.StatefulSet, Name: workload.WorkloadName(app)}].(*appsv1.StatefulSet)
	if !ok || !decide.IsControlledBy(sts, app) || sts.Spec.Replicas == nil || sts.Status.Replicas >= *sts.Spec.Replicas || r.APIReader == nil {
		return nil
	}
	events := &corev1.EventList{}
	err := r.APIReader.List(ctx, events, client.InNamespace(app.Namespace), client.MatchingFieldsSelector{
		Selector: fields.SelectorFromSet(fields.Set{"involvedObject.uid": string(sts.UID), "reason": "FailedCreate"})})
	if err != nil {
		return fmt.Errorf("list events of StatefulSet %s: %w", sts.Name, err)
	}
	in.FailedCreate = decide.LatestFailedCreate(events.Items, sts, in.Now)
	return nil
}

// observeStartedRuns reads past the cache the Job of a run that was started but that the cache does
// not show yet, so that a run just created is not taken for one deleted.
func (r *HighlyAvailableAppReconciler) observeStartedRuns(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp, in *decide.Input) error {
	for i := range in.Revisions {
		rec := rollout.ReadRecord(&in.Revisions[i])
		if rec.RunStarted == 0 || rec.RunStarted != rec.Number {
			continue
		}
		name := workload.RunName(app, rec.Number)
		if slices.ContainsFunc(in.Jobs, func(j batchv1.Job) bool { return j.Name == name }) {
			continue
		}
		job := &batchv1.Job{}
		job.Name, job.Namespace = name, app.Namespace
		obj, err := r.read(ctx, job, orAPIServer)
		if err != nil {
			return fmt.Errorf("get Job %s: %w", name, err)
		}
		if obj != nil {
			in.Jobs = append(in.Jobs, *job)
		}
	}
	return nil
}
