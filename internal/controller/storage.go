package controller

import (
	"context"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/status"
	"github.com/haoperator/ha-operator/internal/workload"
)

// annotationDefaultClass marks the cluster's default StorageClass.
const annotationDefaultClass = "storageclass.kubernetes.io/is-default-class"

// storageStep is what checkStorage decided.
type storageStep int

const (
	// storageApply: the StatefulSet can be applied as built.
	storageApply storageStep = iota
	// storageWait: the StatefulSet is being re-created (deleted with its pods and claims orphaned);
	// apply it again once it is gone.
	storageWait
	// storageRefused: the change cannot be made safely; a problem says why.
	storageRefused
)

// checkStorage decides what to do with the storage a Stateful app asks for. A StatefulSet's claim
// templates cannot change, so:
//   - a new app whose StorageClass does not exist is not created until it does (its claims would
//     stay Pending, and the class could not be corrected later);
//   - a larger size on a class that allows expansion is carried out: every existing claim is patched
//     to the new size, then the StatefulSet is deleted with its pods and claims orphaned and created
//     again with the new templates, adopting them;
//   - an added storage entry is carried out the same way (no claim is patched);
//   - anything else (a smaller size, another class or access mode, a removed entry, a size increase on
//     a class that cannot expand) is refused with a condition and an Event that say why. Nothing is
//     deleted: the app keeps running as it was until the spec is put back.
func (r *HighlyAvailableAppReconciler) checkStorage(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp, current client.Object) (storageStep, *status.Problem, error) {
	for _, st := range app.Spec.Storage {
		if st.Size.Sign() <= 0 {
			return storageRefused, storageProblem(appsv1alpha1.ReasonInvalidStorage,
				"storage %q: size %s must be greater than zero; correct spec.storage[].size", st.Name, st.Size.String()), nil
		}
	}
	for _, st := range app.Spec.Storage {
		if st.StorageClassName == nil || *st.StorageClassName == "" {
			continue
		}
		sc := &storagev1.StorageClass{}
		err := r.Get(ctx, client.ObjectKey{Name: *st.StorageClassName}, sc)
		if client.IgnoreNotFound(err) != nil {
			return storageApply, nil, fmt.Errorf("get storage class %s: %w", *st.StorageClassName, err)
		}
		if err != nil {
			return storageRefused, storageProblem(appsv1alpha1.ReasonStorageClassNotFound,
				"storage %q: StorageClass %q does not exist; create it or correct spec.storage[].storageClassName",
				st.Name, *st.StorageClassName), nil
		}
	}
	sts, ok := current.(*appsv1.StatefulSet)
	if !ok || sts == nil {
		return storageApply, nil, nil
	}
	if !sts.DeletionTimestamp.IsZero() {
		return storageWait, nil, nil
	}
	have := map[string]corev1.PersistentVolumeClaim{}
	for _, t := range sts.Spec.VolumeClaimTemplates {
		have[t.Name] = t
	}
	want := map[string]bool{}
	var grow []appsv1alpha1.StorageSpec
	recreate := false
	for _, st := range app.Spec.Storage {
		want[st.Name] = true
		old, exists := have[st.Name]
		if !exists {
			recreate = true
			continue
		}
		desired := workload.ClaimTemplate(app, st)
		if !apiequality.Semantic.DeepEqual(old.Spec.AccessModes, desired.Spec.AccessModes) {
			return storageRefused, storageProblem(appsv1alpha1.ReasonStorageChangeRefused,
				"storage %q: the access modes of existing claims cannot change; put back %v or use a new storage name",
				st.Name, old.Spec.AccessModes), nil
		}
		if className(old.Spec.StorageClassName) != className(desired.Spec.StorageClassName) {
			return storageRefused, storageProblem(appsv1alpha1.ReasonStorageChangeRefused,
				"storage %q: the StorageClass of existing claims cannot change (from %q to %q): the data would have to move; put back %q",
				st.Name, className(old.Spec.StorageClassName), className(desired.Spec.StorageClassName), className(old.Spec.StorageClassName)), nil
		}
		oldSize := old.Spec.Resources.Requests[corev1.ResourceStorage]
		switch oldSize.Cmp(st.Size) {
		case 1:
			return storageRefused, storageProblem(appsv1alpha1.ReasonStorageChangeRefused,
				"storage %q: volumes cannot shrink (from %s to %s); put back %s or more", st.Name, oldSize.String(), st.Size.String(), oldSize.String()), nil
		case -1:
			expandable, err := r.classExpands(ctx, old.Spec.StorageClassName)
			if err != nil {
				return storageApply, nil, err
			}
			if !expandable {
				return storageRefused, storageProblem(appsv1alpha1.ReasonStorageChangeRefused,
					"storage %q: cannot grow from %s to %s: StorageClass %q does not allow volume expansion", st.Name,
					oldSize.String(), st.Size.String(), className(old.Spec.StorageClassName)), nil
			}
			grow = append(grow, st)
			recreate = true
		}
	}
	for name := range have {
		if !want[name] {
			return storageRefused, storageProblem(appsv1alpha1.ReasonStorageChangeRefused,
				"storage %q was removed from the spec: a StatefulSet cannot drop a claim template and the operator deletes no data; put it back (to remove it, delete and re-create the app: claims are retained)", name), nil
		}
	}
	if !recreate {
		return storageApply, nil, nil
	}
	for _, st := range grow {
		if err := r.growClaims(ctx, app, st); err != nil {
			return storageApply, nil, err
		}
	}
	orphan := client.PropagationPolicy("Orphan")
	uid := sts.UID
	if err := r.Delete(ctx, sts, orphan, client.Preconditions{UID: &uid}); client.IgnoreNotFound(err) != nil {
		return storageApply, nil, fmt.Errorf("re-create StatefulSet %s for its new storage: %w", sts.Name, err)
	}
	r.event(app, corev1.EventTypeNormal, ReasonStorageChanged, "Recreate",
		"re-creating StatefulSet %s with its new storage; pods and claims are kept and adopted", sts.Name)
	return storageWait, nil, nil
}

// growClaims patches every existing claim of a storage entry to the new size.
func (r *HighlyAvailableAppReconciler) growClaims(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp, st appsv1alpha1.StorageSpec) error {
	list := &corev1.PersistentVolumeClaimList{}
	if err := r.List(ctx, list, client.InNamespace(app.Namespace), client.MatchingLabels(workload.SelectorLabels(app))); err != nil {
		return fmt.Errorf("list claims: %w", err)
	}
	prefix := st.Name + "-" + app.Name + "-"
	for i := range list.Items {
		pvc := &list.Items[i]
		if !strings.HasPrefix(pvc.Name, prefix) {
			continue
		}
		size := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
		if size.Cmp(st.Size) >= 0 {
			continue
		}
		patched := pvc.DeepCopy()
		patched.Spec.Resources.Requests[corev1.ResourceStorage] = st.Size.DeepCopy()
		if err := r.Patch(ctx, patched, client.MergeFrom(pvc)); err != nil {
			return fmt.Errorf("grow claim %s to %s: %w", pvc.Name, st.Size.String(), err)
		}
		r.event(app, corev1.EventTypeNormal, ReasonStorageChanged, "Expand", "claim %s grows from %s to %s", pvc.Name, size.String(), st.Size.String())
	}
	return nil
}

// classExpands tells whether the class (the cluster's default when the name is empty) allows volume
// expansion.
func (r *HighlyAvailableAppReconciler) classExpands(ctx context.Context, name *string) (bool, error) {
	list := &storagev1.StorageClassList{}
	if err := r.List(ctx, list); err != nil {
		return false, fmt.Errorf("list storage classes: %w", err)
	}
	for _, sc := range list.Items {
		if (className(name) == "" && sc.Annotations[annotationDefaultClass] == "true") || sc.Name == className(name) {
			return sc.AllowVolumeExpansion != nil && *sc.AllowVolumeExpansion, nil
		}
	}
	return false, nil
}

// storageProblem is a storage problem to report; its Event is recorded by reportProblem.
func storageProblem(reason, format string, args ...any) *status.Problem {
	return &status.Problem{Reason: reason, Message: fmt.Sprintf(format, args...)}
}

func className(name *string) string {
	if name == nil {
		return ""
	}
	return *name
}
