package controller

import (
	"unique"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The cache holds every pod and ReplicaSet of every app: trimPod and trimMetadata keep of them what
// the operator reads, so that its memory per app stays small. A trimmed copy is only ever the base of
// a merge patch of its metadata (a pod's deletion cost), which sends the difference alone.

// trimPod keeps a pod's identity, labels, annotations, owners and deletion; where it runs; its
// containers' names, images, resources and restart policies (the order of the failure verdicts and
// the OOM message); its phase, reason and message; the conditions the operator reads (Ready,
// ContainersReady, PodScheduled); and of each container's status its state, last state, restarts
// and readiness.
func trimPod(obj any) (any, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	return &corev1.Pod{
		TypeMeta:   pod.TypeMeta,
		ObjectMeta: trimMeta(pod.ObjectMeta),
		Spec: corev1.PodSpec{
			NodeName:       shared(pod.Spec.NodeName),
			InitContainers: trimContainers(pod.Spec.InitContainers),
			Containers:     trimContainers(pod.Spec.Containers),
		},
		Status: corev1.PodStatus{
			Phase:                 corev1.PodPhase(shared(string(pod.Status.Phase))),
			Conditions:            readConditions(pod.Status.Conditions),
			Reason:                pod.Status.Reason,
			Message:               pod.Status.Message,
			StartTime:             pod.Status.StartTime,
			InitContainerStatuses: trimContainerStatuses(pod.Status.InitContainerStatuses),
			ContainerStatuses:     trimContainerStatuses(pod.Status.ContainerStatuses),
		},
	}, nil
}

// readConditions keeps the pod conditions that the operator reads.
func readConditions(in []corev1.PodCondition) []corev1.PodCondition {
	n := 0
	for _, c := range in {
		if isReadCondition(c.Type) {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	out := make([]corev1.PodCondition, 0, n)
	for _, c := range in {
		if isReadCondition(c.Type) {
			c.Type, c.Status = corev1.PodConditionType(shared(string(c.Type))), corev1.ConditionStatus(shared(string(c.Status)))
			out = append(out, c)
		}
	}
	return out
}

func isReadCondition(t corev1.PodConditionType) bool {
	return t == corev1.PodReady || t == corev1.ContainersReady || t == corev1.PodScheduled
}

func trimContainers(in []corev1.Container) []corev1.Container {
	if len(in) == 0 {
		return nil
	}
	out := make([]corev1.Container, len(in))
	for i, c := range in {
		out[i] = corev1.Container{Name: shared(c.Name), Image: shared(c.Image), Resources: c.Resources, RestartPolicy: c.RestartPolicy}
	}
	return out
}

func trimContainerStatuses(in []corev1.ContainerStatus) []corev1.ContainerStatus {
	if len(in) == 0 {
		return nil
	}
	out := make([]corev1.ContainerStatus, len(in))
	for i, st := range in {
		out[i] = corev1.ContainerStatus{Name: shared(st.Name), State: st.State, LastTerminationState: st.LastTerminationState,
			Ready: st.Ready, RestartCount: st.RestartCount, Started: st.Started}
	}
	return out
}

// trimMetadata keeps the metadata of an object watched as metadata only (the ReplicaSets: the
// operator reads only which Deployment controls one, so that the pods it controls count as the
// app's).
func trimMetadata(obj any) (any, error) {
	m, ok := obj.(*metav1.PartialObjectMetadata)
	if !ok {
		return stripForCache(obj)
	}
	return &metav1.PartialObjectMetadata{TypeMeta: m.TypeMeta, ObjectMeta: trimMeta(m.ObjectMeta)}, nil
}

// trimMeta keeps an object's metadata without its managed fields and kubectl's last-applied copy,
// the strings that many objects repeat held once (shared).
func trimMeta(in metav1.ObjectMeta) metav1.ObjectMeta {
	out := in
	out.ManagedFields = nil
	out.Namespace, out.GenerateName = shared(in.Namespace), shared(in.GenerateName)
	out.Labels = sharedKeys(in.Labels)
	out.Annotations = sharedKeys(in.Annotations)
	if len(in.OwnerReferences) > 0 {
		out.OwnerReferences = make([]metav1.OwnerReference, len(in.OwnerReferences))
		for i, ref := range in.OwnerReferences {
			ref.APIVersion, ref.Kind, ref.Name = shared(ref.APIVersion), shared(ref.Kind), shared(ref.Name)
			out.OwnerReferences[i] = ref
		}
	}
	return out
}

// sharedKeys copies a map of labels or annotations with its keys held once (shared), without
// kubectl's last-applied copy.
func sharedKeys(in map[string]string) map[string]string {
	n := len(in)
	if _, ok := in[lastAppliedAnnotation]; ok {
		n--
	}
	if n == 0 {
		return nil
	}
	out := make(map[string]string, n)
	for k, v := range in {
		if k != lastAppliedAnnotation {
			out[shared(k)] = v
		}
	}
	return out
}

// shared returns the one copy of a string that many cached objects carry (a label key, a namespace,
// an owner's kind, a node's name), so that the cache holds it once instead of once per object.
func shared(s string) string {
	if s == "" {
		return s
	}
	return unique.Make(s).Value()
}

// trimVolume keeps of a PersistentVolume its name, the claim it is bound to and its node affinity:
// where a Stateful app's data lives.
func trimVolume(obj any) (any, error) {
	pv, ok := obj.(*corev1.PersistentVolume)
	if !ok {
		return obj, nil
	}
	out := &corev1.PersistentVolume{TypeMeta: pv.TypeMeta, ObjectMeta: metav1.ObjectMeta{Name: pv.Name,
		UID: pv.UID, ResourceVersion: pv.ResourceVersion, DeletionTimestamp: pv.DeletionTimestamp}}
	out.Spec.NodeAffinity = pv.Spec.NodeAffinity
	if ref := pv.Spec.ClaimRef; ref != nil {
		out.Spec.ClaimRef = &corev1.ObjectReference{Namespace: ref.Namespace, Name: ref.Name, UID: ref.UID}
	}
	out.Status.Phase = pv.Status.Phase
	return out, nil
}

// trimLease keeps of a node's Lease its name and its renewal: when, and for how long.
func trimLease(obj any) (any, error) {
	lease, ok := obj.(*coordinationv1.Lease)
	if !ok {
		return obj, nil
	}
	return &coordinationv1.Lease{TypeMeta: lease.TypeMeta, ObjectMeta: metav1.ObjectMeta{Name: lease.Name,
		Namespace: lease.Namespace, UID: lease.UID, ResourceVersion: lease.ResourceVersion},
		Spec: coordinationv1.LeaseSpec{RenewTime: lease.Spec.RenewTime, LeaseDurationSeconds: lease.Spec.LeaseDurationSeconds}}, nil
}
