// Package kinds is the one list of the kinds of objects the operator generates, watches and reads.
// Every place that needs such a list derives it from All: the app types' candidates and the typed
// objects of decide, the manager's cache, the watches and the index by app of the controller, the
// kubectl plugin, and the tests that hold the RBAC rules to it. Nothing here talks to the API server.
package kinds

import (
	"reflect"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The kinds' names.
const (
	Deployment         = "Deployment"
	StatefulSet        = "StatefulSet"
	DaemonSet          = "DaemonSet"
	Job                = "Job"
	CronJob            = "CronJob"
	Service            = "Service"
	PDB                = "PodDisruptionBudget"
	HPA                = "HorizontalPodAutoscaler"
	ControllerRevision = "ControllerRevision"
	Pod                = "Pod"
	ReplicaSet         = "ReplicaSet"
	Claim              = "PersistentVolumeClaim"
	Volume             = "PersistentVolume"
	Lease              = "Lease"
	Node               = "Node"
	StorageClass       = "StorageClass"
)

// Cache says which objects of a kind the manager's cache keeps.
type Cache int

const (
	// CacheOwned means only the objects labelled app.kubernetes.io/managed-by=ha-operator: those the
	// operator generates and those its workloads create from its templates.
	CacheOwned Cache = iota
	// CacheAll means every object of the kind (nodes, StorageClasses).
	CacheAll
)

// Wake says how the events of a kind's objects wake the apps they concern.
type Wake int

const (
	// WakeWorkload means the app that controls it; at once when it is changed, reaches its goal or leaves
	// it, and within the wake window for its progress (Deployments, StatefulSets, DaemonSets).
	WakeWorkload Wake = iota
	// WakeChange means the app that controls it, at once when someone changes it; status writes are
	// ignored (Services, disruption budgets, autoscalers).
	WakeChange
	// WakeRevision means the app that controls it, at once for any change but of the revision record
	// and for a deletion; not for a creation (only the operator writes revisions).
	WakeRevision
	// WakeEvery means the app that controls it, at once for every change (Jobs and CronJobs, whose every
	// status step is an outcome).
	WakeEvery
	// WakePod means the app whose instance label it carries, as its signature changes (pods).
	WakePod
	// WakeArrival means the app whose instance label it carries, when it appears (ReplicaSets: what
	// makes a Deployment's pod the app's).
	WakeArrival
	// WakeClaim means the app whose instance label it carries, when its conditions change (a resize that
	// fails or waits).
	WakeClaim
	// WakeVolume means the app of the claim it is bound to, when it appears or is bound: where a
	// Stateful app's data lives.
	WakeVolume
	// WakeLease means the apps with pods on its node, when the node has stopped renewing it for
	// long enough, and when it renews it again (not on every renewal).
	WakeLease
	// WakeNode means the apps with pods on it, when its schedulability, zone or drain state changes.
	WakeNode
	// WakeStorageClass means the apps that name it, when it appears.
	WakeStorageClass
)

// Kind is one kind of object the operator reads or writes.
type Kind struct {
	// Name is the kind, as in an object's kind field.
	Name string
	// GroupVersion is the API group and version the operator uses.
	GroupVersion schema.GroupVersion
	// Resource is the plural resource name, as RBAC rules name it.
	Resource string
	// Generated: an app type's driver builds objects of this kind, named after the app; the
	// operator applies, keeps or deletes them.
	Generated bool
	// ByApp: observe lists an app's objects of this kind through the cache's index by app.
	ByApp bool
	// Cache is which objects of the kind the manager's cache keeps.
	Cache Cache
	// MetadataOnly: the kind is cached and watched as metadata.
	MetadataOnly bool
	// Wake is how its events wake apps.
	Wake Wake
	// Verbs are what the operator does with the kind: its RBAC rule must allow each.
	Verbs []string
	// Namespace limits the cache to the kind's objects in one namespace: the nodes' Leases live in
	// kube-node-lease. Empty: every namespace.
	Namespace string

	// newObject returns an empty typed object of the kind.
	newObject func() client.Object
}

// Verb lists: the operator caches and watches every kind (read); it applies what it generates
// (apply), and deletes what it no longer needs (generate).
const patch = "patch"

var (
	read     = []string{"get", "list", "watch"}
	apply    = slices.Concat(read, []string{"create", patch})
	generate = slices.Concat(apply, []string{"delete"})
)

// all is the list: the generated kinds first, in the order observe reads candidates.
var all = []Kind{
	{Name: Deployment, GroupVersion: appsv1.SchemeGroupVersion, Resource: "deployments", Generated: true,
		Cache: CacheOwned, Wake: WakeWorkload, Verbs: apply,
		newObject: func() client.Object { return &appsv1.Deployment{} }},
	{Name: StatefulSet, GroupVersion: appsv1.SchemeGroupVersion, Resource: "statefulsets", Generated: true,
		Cache: CacheOwned, Wake: WakeWorkload, Verbs: generate,
		newObject: func() client.Object { return &appsv1.StatefulSet{} }},
	{Name: DaemonSet, GroupVersion: appsv1.SchemeGroupVersion, Resource: "daemonsets", Generated: true,
		Cache: CacheOwned, Wake: WakeWorkload, Verbs: apply,
		newObject: func() client.Object { return &appsv1.DaemonSet{} }},
	{Name: CronJob, GroupVersion: batchv1.SchemeGroupVersion, Resource: "cronjobs", Generated: true,
		Cache: CacheOwned, Wake: WakeEvery, Verbs: generate,
		newObject: func() client.Object { return &batchv1.CronJob{} }},
	{Name: PDB, GroupVersion: policyv1.SchemeGroupVersion, Resource: "poddisruptionbudgets", Generated: true,
		Cache: CacheOwned, Wake: WakeChange, Verbs: generate,
		newObject: func() client.Object { return &policyv1.PodDisruptionBudget{} }},
	{Name: HPA, GroupVersion: autoscalingv2.SchemeGroupVersion, Resource: "horizontalpodautoscalers", Generated: true,
		Cache: CacheOwned, Wake: WakeChange, Verbs: generate,
		newObject: func() client.Object { return &autoscalingv2.HorizontalPodAutoscaler{} }},
	{Name: Service, GroupVersion: corev1.SchemeGroupVersion, Resource: "services", Generated: true,
		Cache: CacheOwned, Wake: WakeChange, Verbs: generate,
		newObject: func() client.Object { return &corev1.Service{} }},
	// A Job app's runs are generated too, one per run, named after the run (decide lists them apart).
	{Name: Job, GroupVersion: batchv1.SchemeGroupVersion, Resource: "jobs", Generated: true, ByApp: true,
		Cache: CacheOwned, Wake: WakeEvery, Verbs: generate,
		newObject: func() client.Object { return &batchv1.Job{} }},
	{Name: ControllerRevision, GroupVersion: appsv1.SchemeGroupVersion, Resource: "controllerrevisions", ByApp: true,
		Cache: CacheOwned, Wake: WakeRevision, Verbs: slices.Concat(generate, []string{"update"}),
		newObject: func() client.Object { return &appsv1.ControllerRevision{} }},
	// The operator marks the pods of a silent node not ready (pods/status).
	{Name: Pod, GroupVersion: corev1.SchemeGroupVersion, Resource: "pods", ByApp: true,
		Cache: CacheOwned, Wake: WakePod, Verbs: slices.Concat(read, []string{patch, "delete"}),
		newObject: func() client.Object { return &corev1.Pod{} }},
	{Name: ReplicaSet, GroupVersion: appsv1.SchemeGroupVersion, Resource: "replicasets", ByApp: true,
		Cache: CacheOwned, MetadataOnly: true, Wake: WakeArrival, Verbs: read,
		newObject: func() client.Object { return &appsv1.ReplicaSet{} }},
	{Name: Claim, GroupVersion: corev1.SchemeGroupVersion, Resource: "persistentvolumeclaims",
		Cache: CacheOwned, Wake: WakeClaim, Verbs: slices.Concat(read, []string{patch}),
		newObject: func() client.Object { return &corev1.PersistentVolumeClaim{} }},
	{Name: Volume, GroupVersion: corev1.SchemeGroupVersion, Resource: "persistentvolumes",
		Cache: CacheAll, Wake: WakeVolume, Verbs: read,
		newObject: func() client.Object { return &corev1.PersistentVolume{} }},
	{Name: Lease, GroupVersion: coordinationv1.SchemeGroupVersion, Resource: "leases",
		Cache: CacheAll, Namespace: corev1.NamespaceNodeLease, Wake: WakeLease, Verbs: read,
		newObject: func() client.Object { return &coordinationv1.Lease{} }},
	{Name: Node, GroupVersion: corev1.SchemeGroupVersion, Resource: "nodes",
		Cache: CacheAll, Wake: WakeNode, Verbs: read,
		newObject: func() client.Object { return &corev1.Node{} }},
	{Name: StorageClass, GroupVersion: storagev1.SchemeGroupVersion, Resource: "storageclasses",
		Cache: CacheAll, Wake: WakeStorageClass, Verbs: read,
		newObject: func() client.Object { return &storagev1.StorageClass{} }},
}

// All returns every kind, generated kinds first.
func All() []Kind { return all }

// Generated returns the kinds that app types' drivers build.
func Generated() []Kind {
	var out []Kind
	for _, k := range all {
		if k.Generated {
			out = append(out, k)
		}
	}
	return out
}

// ByName returns the kind of the name; false when the operator does not use it.
func ByName(name string) (Kind, bool) {
	for _, k := range all {
		if k.Name == name {
			return k, true
		}
	}
	return Kind{}, false
}

// New returns an empty typed object of the kind.
func (k Kind) New() client.Object { return k.newObject() }

// Watched returns the empty object its informer holds: metadata alone for a kind cached as metadata,
// the typed object otherwise.
func (k Kind) Watched() client.Object {
	if !k.MetadataOnly {
		return k.newObject()
	}
	obj := &metav1.PartialObjectMetadata{}
	obj.SetGroupVersionKind(k.GVK())
	return obj
}

// APIVersion is the kind's group and version as an object's apiVersion field says it.
func (k Kind) APIVersion() string { return k.GroupVersion.String() }

// GVK is the kind's group, version and kind.
func (k Kind) GVK() schema.GroupVersionKind { return k.GroupVersion.WithKind(k.Name) }

// NewObject is an empty typed object of the named kind, named and namespaced, for reads and deletes.
// It panics on a kind the operator does not use: a programming error.
func NewObject(kind, name, namespace string) client.Object {
	k, ok := ByName(kind)
	if !ok {
		panic("kinds: unknown kind " + kind)
	}
	obj := k.New()
	obj.SetName(name)
	obj.SetNamespace(namespace)
	return obj
}

// Of names the kind of a typed object of the list; for any other object, the kind its type meta says.
func Of(obj client.Object) string {
	t := reflect.TypeOf(obj)
	for _, k := range all {
		if reflect.TypeOf(k.newObject()) == t {
			return k.Name
		}
	}
	return obj.GetObjectKind().GroupVersionKind().Kind
}
