package controller

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The cache holds every pod and ReplicaSet of every app: trimPod and trimReplicaSet keep of them what
// the operator reads, so that its memory per app stays small. A trimmed copy is only ever the base of
// a merge patch of its metadata (a pod's deletion cost), which sends the difference alone.

// trimPod keeps a pod's identity, labels, annotations, owners and deletion; where it runs; its
// containers' names, images, resources and restart policies (the order of the failure verdicts and
// the OOM message); and its status without addresses.
func trimPod(obj any) (any, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	return &corev1.Pod{
		TypeMeta:   pod.TypeMeta,
		ObjectMeta: trimMeta(pod.ObjectMeta),
		Spec: corev1.PodSpec{
			NodeName:       pod.Spec.NodeName,
			InitContainers: trimContainers(pod.Spec.InitContainers),
			Containers:     trimContainers(pod.Spec.Containers),
		},
		Status: corev1.PodStatus{
			Phase:                 pod.Status.Phase,
			Conditions:            pod.Status.Conditions,
			Reason:                pod.Status.Reason,
			Message:               pod.Status.Message,
			StartTime:             pod.Status.StartTime,
			InitContainerStatuses: pod.Status.InitContainerStatuses,
			ContainerStatuses:     pod.Status.ContainerStatuses,
		},
	}, nil
}

func trimContainers(in []corev1.Container) []corev1.Container {
	if len(in) == 0 {
		return nil
	}
	out := make([]corev1.Container, len(in))
	for i, c := range in {
		out[i] = corev1.Container{Name: c.Name, Image: c.Image, Resources: c.Resources, RestartPolicy: c.RestartPolicy}
	}
	return out
}

// trimReplicaSet keeps a ReplicaSet's metadata: the operator reads only which Deployment controls it
// (so that the pods it controls count as the app's).
func trimReplicaSet(obj any) (any, error) {
	rs, ok := obj.(*appsv1.ReplicaSet)
	if !ok {
		return obj, nil
	}
	return &appsv1.ReplicaSet{TypeMeta: rs.TypeMeta, ObjectMeta: trimMeta(rs.ObjectMeta)}, nil
}

// trimMeta keeps an object's metadata without its managed fields and kubectl's last-applied copy.
func trimMeta(in metav1.ObjectMeta) metav1.ObjectMeta {
	out := in
	out.ManagedFields = nil
	if _, ok := in.Annotations[lastAppliedAnnotation]; ok {
		out.Annotations = make(map[string]string, len(in.Annotations)-1)
		for k, v := range in.Annotations {
			if k != lastAppliedAnnotation {
				out.Annotations[k] = v
			}
		}
	}
	return out
}
