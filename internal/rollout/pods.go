package rollout

import (
	"time"

	corev1 "k8s.io/api/core/v1"
)

// PodReady tells whether the pod's Ready condition is True: the one definition of a ready pod, which
// the decision, the status and the kubectl plugin share.
func PodReady(pod *corev1.Pod) bool {
	c := podCondition(pod, corev1.PodReady)
	return c != nil && c.Status == corev1.ConditionTrue
}

// ReadySince is when the pod's Ready condition last turned True; zero when the pod is not ready or
// the time is unknown.
func ReadySince(pod *corev1.Pod) time.Time {
	if c := podCondition(pod, corev1.PodReady); c != nil && c.Status == corev1.ConditionTrue {
		return c.LastTransitionTime.Time
	}
	return time.Time{}
}

func podCondition(pod *corev1.Pod, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == t {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}
