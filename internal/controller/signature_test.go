package controller

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/rollout"
)

// runningPod is a scheduled, running, ready pod of app web with one container.
func runningPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: "web-1", Namespace: "shop", ResourceVersion: "10",
			Labels: map[string]string{appsv1alpha1.LabelInstance: "web", rollout.LabelRevisionHash: "aaaa"},
		},
		Spec: corev1.PodSpec{NodeName: "node-a-1", Containers: []corev1.Container{{Name: "web", Image: "nginx:1.7.9"}}},
		Status: corev1.PodStatus{
			Phase: corev1.PodRunning,
			PodIP: "10.244.1.7",
			Conditions: []corev1.PodCondition{
				{Type: corev1.PodScheduled, Status: corev1.ConditionTrue},
				{Type: corev1.PodReady, Status: corev1.ConditionTrue},
			},
			ContainerStatuses: []corev1.ContainerStatus{{
				Name: "web", Ready: true,
				State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
			}},
		},
	}
}

func TestPodUpdate(t *testing.T) {
	now := metav1.NewTime(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	for _, tc := range []struct {
		name   string
		change func(*corev1.Pod)
		wake   urgency
	}{
		{"a resync with nothing changed", func(*corev1.Pod) {}, wakeIgnore},
		{"a new resource version only", func(p *corev1.Pod) { p.ResourceVersion = "11" }, wakeIgnore},
		{"a new pod IP", func(p *corev1.Pod) { p.Status.PodIP = "10.244.1.8" }, wakeIgnore},
		{"a probe time refreshed", func(p *corev1.Pod) { p.Status.Conditions[1].LastProbeTime = now }, wakeIgnore},
		{"a container ID set", func(p *corev1.Pod) { p.Status.ContainerStatuses[0].ContainerID = "kwok://web" }, wakeIgnore},
		{"an unrelated label", func(p *corev1.Pod) { p.Labels["team"] = "shop" }, wakeIgnore},
		{"an unschedulable message rewritten", func(p *corev1.Pod) {
			p.Status.Conditions[0] = corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
				Reason: corev1.PodReasonUnschedulable, Message: "0/6 nodes are available", LastTransitionTime: now}
		}, wakeNow},
		{"no longer ready", func(p *corev1.Pod) { p.Status.Conditions[1].Status = corev1.ConditionFalse }, wakeNow},
		{"a new phase", func(p *corev1.Pod) { p.Status.Phase = corev1.PodFailed }, wakeNow},
		{"a container waiting on a pull", func(p *corev1.Pod) {
			p.Status.ContainerStatuses[0].State = corev1.ContainerState{
				Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff"}}
		}, wakeNow},
		{"a container terminated", func(p *corev1.Pod) {
			p.Status.ContainerStatuses[0].State = corev1.ContainerState{
				Terminated: &corev1.ContainerStateTerminated{Reason: "OOMKilled"}}
		}, wakeNow},
		{"a last termination recorded", func(p *corev1.Pod) {
			p.Status.ContainerStatuses[0].LastTerminationState = corev1.ContainerState{
				Terminated: &corev1.ContainerStateTerminated{Reason: "Error"}}
		}, wakeNow},
		{"a restart", func(p *corev1.Pod) { p.Status.ContainerStatuses[0].RestartCount = 1 }, wakeNow},
		{"an init container status appears", func(p *corev1.Pod) {
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "init"}}
		}, wakeSoon},
		{"an init container that failed appears", func(p *corev1.Pod) {
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "init", State: corev1.ContainerState{
				Waiting: &corev1.ContainerStateWaiting{Reason: "ErrImageNeverPull"}}}}
		}, wakeNow},
		{"a container creating", func(p *corev1.Pod) {
			p.Status.ContainerStatuses[0].State = corev1.ContainerState{
				Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}
		}, wakeSoon},
		{"deletion begins", func(p *corev1.Pod) { p.DeletionTimestamp = &now }, wakeNow},
		{"another revision", func(p *corev1.Pod) { p.Labels[rollout.LabelRevisionHash] = "bbbb" }, wakeNow},
		{"another app", func(p *corev1.Pod) { p.Labels[appsv1alpha1.LabelInstance] = "api" }, wakeNow},
		{"bound to a node", func(p *corev1.Pod) { p.Spec.NodeName = "node-b-1" }, wakeSoon},
		{"the pod succeeded", func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded }, wakeNow},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := runningPod()
			after := before.DeepCopy()
			tc.change(after)
			if got := podUpdate(before, after); got != tc.wake {
				t.Errorf("podUpdate = %v, want %v", got, tc.wake)
			}
		})
	}
	// The steps towards running are progress, batched within the wake window.
	creating := runningPod()
	creating.Status.Conditions[1].Status = corev1.ConditionFalse
	creating.Status.ContainerStatuses[0].State = corev1.ContainerState{
		Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}
	if got := podUpdate(creating, runningPod()); got != wakeSoon {
		t.Errorf("podUpdate(creating, ready) = %v, want soon", got)
	}
	// A container that recovers from a pull back-off is progress too.
	backOff := runningPod()
	backOff.Status.ContainerStatuses[0].State = corev1.ContainerState{
		Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff"}}
	if got := podUpdate(backOff, runningPod()); got != wakeSoon {
		t.Errorf("podUpdate(back-off, running) = %v, want soon", got)
	}
}
