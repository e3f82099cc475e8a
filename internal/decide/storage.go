package decide

import (
	"fmt"
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/check"
	"github.com/haoperator/ha-operator/internal/workload"
)

// annotationDefaultClass marks the cluster's default StorageClass.
const annotationDefaultClass = "storageclass.kubernetes.io/is-default-class"

// storageStep is what the storage decision allows.
type storageStep int

const (
	// storageApply: the StatefulSet can be applied as built.
	storageApply storageStep = iota
	// storageWait: the StatefulSet is being re-created (deleted with its pods and claims orphaned);
	// apply it again once it is gone.
	storageWait
	// storageRefused: the change cannot be made safely; the problem says why.
	storageRefused
)

// storageInput is what the storage checks look at.
type storageInput struct {
	app      *appsv1alpha1.HighlyAvailableApp
	sts      *appsv1.StatefulSet
	claims   map[string]*corev1.PersistentVolumeClaim
	classes  map[string]bool // name → allows expansion
	def      string          // the default class
	replicas int32
}

// storageChecks are the reasons to refuse what the spec asks of storage, run in order; the first
// that refuses decides, and every refusal names the storage entry and what to do.
var storageChecks = check.Chain[storageInput]{
	checkSizes,
	checkClaimOwners,
	checkClassesExist,
	checkAccessModes,
	checkClassChange,
	checkShrink,
	checkRemoved,
	checkExpansion,
}

// storage decides what to do with the storage a Stateful app asks for. A StatefulSet's claim
// templates cannot change, so a larger size on a class that allows expansion grows every existing
// claim of the entry, by exact name, then re-creates the StatefulSet with its pods and claims
// orphaned; an added entry re-creates it the same way; anything else is refused and nothing changes.
func (p *planner) storage() storageStep {
	in := storageInput{app: p.app, claims: p.in.Claims, classes: map[string]bool{}, replicas: p.app.Spec.DesiredReplicas()}
	if sts, ok := p.workload.(*appsv1.StatefulSet); ok {
		in.sts = sts
		in.replicas = max(in.replicas, ObservedWorkload(sts).Desired)
	}
	for _, sc := range p.in.StorageClasses {
		in.classes[sc.Name] = sc.AllowVolumeExpansion != nil && *sc.AllowVolumeExpansion
		if sc.Annotations[annotationDefaultClass] == "true" {
			in.def = sc.Name
		}
	}
	if reason, msg, refused := storageChecks.First(in); refused {
		p.problem(reason, "%s", msg)
		return storageRefused
	}
	p.resizeFailures(in)
	if in.sts == nil {
		return storageApply
	}
	if in.sts.DeletionTimestamp != nil {
		return storageWait
	}
	recreate := false
	have := templates(in.sts)
	for _, st := range p.app.Spec.Storage {
		old, exists := have[st.Name]
		if !exists {
			recreate = true
			continue
		}
		if size := workload.StorageSize(&old); size.Cmp(st.Size) < 0 {
			recreate = true
			for ord := range in.replicas {
				name := workload.ClaimName(p.app, st.Name, ord)
				if pvc := in.claims[name]; pvc != nil {
					if cur := workload.StorageSize(pvc); cur.Cmp(st.Size) < 0 {
						p.plan.GrowClaims = append(p.plan.GrowClaims, ClaimGrowth{Claim: pvc, Size: st.Size.String()})
						p.event(corev1.EventTypeNormal, appsv1alpha1.ReasonStorageChanged, "Expand", "claim %s grows from %s to %s", name, cur.String(), st.Size.String())
					}
				}
			}
		}
	}
	if !recreate {
		return storageApply
	}
	p.plan.RecreateStatefulSet = in.sts
	p.event(corev1.EventTypeNormal, appsv1alpha1.ReasonStorageChanged, "Recreate",
		"re-creating StatefulSet %s with its new storage; pods and claims are kept and adopted", in.sts.Name)
	return storageWait
}

func templates(sts *appsv1.StatefulSet) map[string]corev1.PersistentVolumeClaim {
	out := map[string]corev1.PersistentVolumeClaim{}
	for _, t := range sts.Spec.VolumeClaimTemplates {
		out[t.Name] = t
	}
	return out
}

func checkSizes(in storageInput) (string, string, bool) {
	for _, st := range in.app.Spec.Storage {
		if st.Size.Sign() <= 0 {
			return appsv1alpha1.ReasonInvalidStorage, fmt.Sprintf(
				"storage %q: size %s must be greater than zero; correct spec.storage[].size", st.Name, st.Size.String()), true
		}
	}
	return "", "", false
}

// checkClaimOwners refuses to use a claim that exists under a name the app's StatefulSet uses but
// belongs to another app, or to nobody: the app would mount someone else's data, and a Delete
// retention would delete it.
func checkClaimOwners(in storageInput) (string, string, bool) {
	for _, st := range in.app.Spec.Storage {
		for ord := range in.replicas {
			name := workload.ClaimName(in.app, st.Name, ord)
			pvc := in.claims[name]
			if pvc == nil || claimIsApps(pvc, in.app) {
				continue
			}
			owner := "no app"
			if other := pvc.Labels[appsv1alpha1.LabelInstance]; other != "" && pvc.Labels[appsv1alpha1.LabelManagedBy] == appsv1alpha1.ManagedByValue {
				owner = "app " + other
			}
			return appsv1alpha1.ReasonConflict, fmt.Sprintf(
				"PersistentVolumeClaim %s already exists and belongs to %s; storage %q would mount it: rename the storage entry or the app",
				name, owner, st.Name), true
		}
	}
	return "", "", false
}

func claimIsApps(pvc *corev1.PersistentVolumeClaim, app *appsv1alpha1.HighlyAvailableApp) bool {
	return pvc.Labels[appsv1alpha1.LabelInstance] == app.Name && pvc.Labels[appsv1alpha1.LabelManagedBy] == appsv1alpha1.ManagedByValue
}

// checkClassesExist refuses a StorageClass that does not exist, when a claim is about to be created
// from it (its claims would stay Pending, and the class could not be corrected later). A class that
// only existing claims use is not looked at.
func checkClassesExist(in storageInput) (string, string, bool) {
	for _, st := range in.app.Spec.Storage {
		if st.StorageClassName == nil || *st.StorageClassName == "" {
			continue
		}
		if _, ok := in.classes[*st.StorageClassName]; ok {
			continue
		}
		creates := false
		for ord := range in.replicas {
			if in.claims[workload.ClaimName(in.app, st.Name, ord)] == nil {
				creates = true
			}
		}
		if creates {
			return appsv1alpha1.ReasonStorageClassNotFound, fmt.Sprintf(
				"storage %q: StorageClass %q does not exist; create it or correct spec.storage[].storageClassName",
				st.Name, *st.StorageClassName), true
		}
	}
	return "", "", false
}

func checkAccessModes(in storageInput) (string, string, bool) {
	return eachExisting(in, func(st appsv1alpha1.StorageSpec, old corev1.PersistentVolumeClaim) (string, string, bool) {
		desired := workload.ClaimTemplate(in.app, st)
		if apiequality.Semantic.DeepEqual(old.Spec.AccessModes, desired.Spec.AccessModes) {
			return "", "", false
		}
		return appsv1alpha1.ReasonStorageChangeRefused, fmt.Sprintf(
			"storage %q: the access modes of existing claims cannot change; put back %v or use a new storage name", st.Name, old.Spec.AccessModes), true
	})
}

func checkClassChange(in storageInput) (string, string, bool) {
	return eachExisting(in, func(st appsv1alpha1.StorageSpec, old corev1.PersistentVolumeClaim) (string, string, bool) {
		desired := workload.ClaimTemplate(in.app, st)
		from, to := className(old.Spec.StorageClassName), className(desired.Spec.StorageClassName)
		if from == to {
			return "", "", false
		}
		return appsv1alpha1.ReasonStorageChangeRefused, fmt.Sprintf(
			"storage %q: the StorageClass of existing claims cannot change (from %q to %q): the data would have to move; put back %q",
			st.Name, from, to, from), true
	})
}

func checkShrink(in storageInput) (string, string, bool) {
	return eachExisting(in, func(st appsv1alpha1.StorageSpec, old corev1.PersistentVolumeClaim) (string, string, bool) {
		size := workload.StorageSize(&old)
		if size.Cmp(st.Size) <= 0 {
			return "", "", false
		}
		return appsv1alpha1.ReasonStorageChangeRefused, fmt.Sprintf(
			"storage %q: volumes cannot shrink (from %s to %s); put back %s or more", st.Name, size.String(), st.Size.String(), size.String()), true
	})
}

func checkRemoved(in storageInput) (string, string, bool) {
	if in.sts == nil {
		return "", "", false
	}
	names := make([]string, 0, len(in.sts.Spec.VolumeClaimTemplates))
	for _, t := range in.sts.Spec.VolumeClaimTemplates {
		names = append(names, t.Name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !slices.ContainsFunc(in.app.Spec.Storage, func(st appsv1alpha1.StorageSpec) bool { return st.Name == name }) {
			return appsv1alpha1.ReasonStorageChangeRefused, fmt.Sprintf(
				"storage %q was removed from the spec: a StatefulSet cannot drop a claim template and the operator deletes no data; put it back (to remove it, delete and re-create the app: claims are retained)", name), true
		}
	}
	return "", "", false
}

func checkExpansion(in storageInput) (string, string, bool) {
	return eachExisting(in, func(st appsv1alpha1.StorageSpec, old corev1.PersistentVolumeClaim) (string, string, bool) {
		size := workload.StorageSize(&old)
		if size.Cmp(st.Size) >= 0 {
			return "", "", false
		}
		class := className(old.Spec.StorageClassName)
		if class == "" {
			class = in.def
		}
		if in.classes[class] {
			return "", "", false
		}
		return appsv1alpha1.ReasonStorageChangeRefused, fmt.Sprintf(
			"storage %q: cannot grow from %s to %s: StorageClass %q does not allow volume expansion", st.Name, size.String(), st.Size.String(), class), true
	})
}

// eachExisting runs a check on every storage entry that the StatefulSet already has a template for.
func eachExisting(in storageInput, checkEntry func(appsv1alpha1.StorageSpec, corev1.PersistentVolumeClaim) (string, string, bool)) (string, string, bool) {
	if in.sts == nil {
		return "", "", false
	}
	have := templates(in.sts)
	for _, st := range in.app.Spec.Storage {
		if old, ok := have[st.Name]; ok {
			if reason, msg, refused := checkEntry(st, old); refused {
				return reason, msg, true
			}
		}
	}
	return "", "", false
}

func className(name *string) string {
	if name == nil {
		return ""
	}
	return *name
}

// FileSystemResizeTimeout is how long a claim may wait for its file system to be grown (the pod must
// be restarted on some drivers) before the app reports it.
const FileSystemResizeTimeout = 10 * time.Minute

// resizeFailures reports a claim of the app whose growth failed, or waits too long for the file system
// to follow: the volume is not the size the spec asks, and only a person can tell why.
func (p *planner) resizeFailures(in storageInput) {
	for _, st := range p.app.Spec.Storage {
		for ord := range in.replicas {
			pvc := in.claims[workload.ClaimName(p.app, st.Name, ord)]
			if pvc == nil || !claimIsApps(pvc, p.app) {
				continue
			}
			for _, c := range pvc.Status.Conditions {
				if c.Status != corev1.ConditionTrue {
					continue
				}
				switch c.Type {
				case corev1.PersistentVolumeClaimControllerResizeError, corev1.PersistentVolumeClaimNodeResizeError:
					p.problem(appsv1alpha1.ReasonStorageResizeFailed, "claim %s: %s: %s", pvc.Name, c.Type, c.Message)
				case corev1.PersistentVolumeClaimFileSystemResizePending:
					waited := p.in.Now.Sub(c.LastTransitionTime.Time)
					if waited > FileSystemResizeTimeout {
						p.problem(appsv1alpha1.ReasonStorageResizeFailed, "claim %s: the file system has waited for more than %s to be grown: %s",
							pvc.Name, FileSystemResizeTimeout, c.Message)
						continue
					}
					// Nothing may change about the claim when its wait runs out: look again just after.
					p.requeue(FileSystemResizeTimeout - waited + time.Second)
				}
			}
		}
	}
}
