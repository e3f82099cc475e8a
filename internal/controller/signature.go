package controller

import (
	"slices"

	corev1 "k8s.io/api/core/v1"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/rollout"
)

// signature is what the reconciler reads from a pod: the status package (readiness, where it runs)
// and the rollout package (failure verdicts, the revision the pod belongs to). The kubelet rewrites a
// pod's status many times over its life (IPs, start times, container IDs, probe timestamps); a write
// that leaves the signature as it was wakes nobody (podUpdate).
type signature struct {
	deleting    bool
	phase       corev1.PodPhase
	node        string
	app         string
	revision    string
	ready       corev1.ConditionStatus
	scheduled   corev1.ConditionStatus
	unscheduled string
	containers  []containerSignature
}

// containerSignature is what a failure verdict reads from a container's status.
type containerSignature struct {
	name           string
	init           bool
	waiting        string
	terminated     string
	lastTerminated string
	restarts       int32
}

func (s signature) equal(o signature) bool {
	return s.deleting == o.deleting && s.phase == o.phase && s.node == o.node && s.app == o.app &&
		s.revision == o.revision && s.ready == o.ready && s.scheduled == o.scheduled &&
		s.unscheduled == o.unscheduled && slices.Equal(s.containers, o.containers)
}

func podSignature(pod *corev1.Pod) signature {
	s := signature{
		deleting: pod.DeletionTimestamp != nil,
		phase:    pod.Status.Phase,
		node:     pod.Spec.NodeName,
		app:      pod.Labels[appsv1alpha1.LabelInstance],
		revision: pod.Labels[rollout.LabelRevisionHash],
	}
	for _, c := range pod.Status.Conditions {
		switch c.Type {
		case corev1.PodReady:
			s.ready = c.Status
		case corev1.PodScheduled:
			// The reason tells unschedulable from gated; the transition time starts the grace.
			s.scheduled = c.Status
			s.unscheduled = c.Reason + "/" + c.LastTransitionTime.UTC().String()
		}
	}
	for _, group := range []struct {
		statuses []corev1.ContainerStatus
		init     bool
	}{{pod.Status.InitContainerStatuses, true}, {pod.Status.ContainerStatuses, false}} {
		for _, st := range group.statuses {
			c := containerSignature{name: st.Name, init: group.init, restarts: st.RestartCount}
			if w := st.State.Waiting; w != nil {
				c.waiting = w.Reason
			}
			if t := st.State.Terminated; t != nil {
				c.terminated = t.Reason
			}
			if t := st.LastTerminationState.Terminated; t != nil {
				c.lastTerminated = t.Reason
			}
			s.containers = append(s.containers, c)
		}
	}
	return s
}
