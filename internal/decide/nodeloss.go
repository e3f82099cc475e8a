package decide

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/rollout"
)

// NodeLease is what the operator saw of a node's Lease.
type NodeLease struct {
	// LastRenewal is when the operator last saw the node renew it, by its own clock.
	LastRenewal time.Time
	// RenewInterval is how often the node renews it: a quarter of the Lease's duration.
	RenewInterval time.Duration
}

// PodMark marks one pod not ready, as the node lifecycle controller does at the end of its grace
// period: its Ready condition False. The kubelet sets it back if the node returns.
type PodMark struct {
	Pod     *corev1.Pod
	Message string
}

// ClusterSilentShare is the share of the cluster's nodes silent at once from which the control plane,
// not the nodes, is suspected: the node lifecycle controller's threshold for a large disruption.
const ClusterSilentShare = 0.55

// The checks that keep the pods of a silent node from being marked, in order.
var nodeLossGuards = []func(p *planner, silent map[string]bool) (reason string, keep bool){
	clusterSilent, lastReadyPods,
}

// clusterSilent keeps every pod when most of the cluster's nodes are silent at once: the nodes are
// more likely cut off from the control plane than down, and marking them would take away what may
// still serve.
func clusterSilent(p *planner, _ map[string]bool) (string, bool) {
	return appsv1alpha1.ReasonClusterSilent, p.in.SilentShare >= ClusterSilentShare
}

// lastReadyPods keeps the pods of silent nodes when they are the app's last ready pods: a wrong guess
// would then cost what is not yet lost.
func lastReadyPods(p *planner, silent map[string]bool) (string, bool) {
	for i := range p.pods {
		pod := &p.pods[i]
		if rollout.PodReady(pod) && pod.DeletionTimestamp == nil && !silent[pod.Spec.NodeName] {
			return "", false
		}
	}
	return appsv1alpha1.ReasonLastReadyPods, true
}

// nodeLoss marks not ready the app's ready pods on nodes that have not renewed their Lease for the
// app's availability.nodeLossSeconds, so that Services stop sending them traffic at once instead of
// at the end of the node lifecycle controller's grace period; unless a guard keeps them. It reports
// every silent node on the status and in a NodeSilent Event, and looks again when a node will have
// been silent long enough. It deletes nothing: eviction stays the node lifecycle controller's.
func (p *planner) nodeLoss() {
	byNode := map[string][]*corev1.Pod{}
	for i := range p.pods {
		pod := &p.pods[i]
		lease, ok := p.in.NodeLeases[pod.Spec.NodeName]
		if !ok || pod.DeletionTimestamp != nil {
			continue
		}
		after := p.app.Spec.NodeLossAfter(lease.RenewInterval)
		if quiet := p.in.Now.Sub(lease.LastRenewal); quiet < after {
			// A renewal a little late (under load, many are) is no reason to look again: the
			// follower of the Leases wakes the app when the node has been silent for the least
			// NodeLossAfter of its apps; from then on the app looks again at its own.
			if quiet >= appsv1alpha1.LeastNodeLossAfter(lease.RenewInterval) {
				p.requeue(after - quiet)
			}
			continue
		}
		byNode[pod.Spec.NodeName] = append(byNode[pod.Spec.NodeName], pod)
	}
	if len(byNode) == 0 {
		return
	}
	silent := map[string]bool{}
	for node := range byNode {
		silent[node] = true
	}
	reason := ""
	for _, guard := range nodeLossGuards {
		if r, keep := guard(p, silent); keep {
			reason = r
			break
		}
	}
	before := map[string]bool{}
	for _, n := range p.app.Status.SilentNodes {
		before[n.Name] = n.Marked
	}
	for _, node := range sortedKeys(byNode) {
		pods := byNode[node]
		lease := p.in.NodeLeases[node]
		quiet := p.in.Now.Sub(lease.LastRenewal).Truncate(time.Second)
		sn := appsv1alpha1.SilentNode{Name: node, LastRenewal: metav1.NewTime(lease.LastRenewal), Marked: reason == "", Reason: reason}
		var marked []string
		for _, pod := range pods {
			sn.Pods = append(sn.Pods, pod.Name)
			if reason == "" && rollout.PodReady(pod) {
				marked = append(marked, pod.Name)
				p.plan.MarkPods = append(p.plan.MarkPods, PodMark{Pod: pod, Message: fmt.Sprintf(
					"node %s has not renewed its Lease for %s: marked not ready by ha-operator until its kubelet reports again", node, quiet)})
			}
		}
		p.plan.SilentNodes = append(p.plan.SilentNodes, sn)
		was, known := before[node]
		switch {
		case len(marked) > 0:
			p.event(corev1.EventTypeWarning, appsv1alpha1.ReasonNodeSilent, "MarkNotReady",
				"node %s has not renewed its Lease for %s: marked pods %s not ready", node, quiet, strings.Join(marked, ", "))
		case !known || was != sn.Marked:
			p.event(corev1.EventTypeWarning, appsv1alpha1.ReasonNodeSilent, "Observe",
				"node %s has not renewed its Lease for %s; pods %s %s", node, quiet, strings.Join(sn.Pods, ", "), keptBecause(sn))
		}
	}
}

// keptBecause says why the pods of a silent node were, or were not, marked.
func keptBecause(sn appsv1alpha1.SilentNode) string {
	switch sn.Reason {
	case appsv1alpha1.ReasonClusterSilent:
		return fmt.Sprintf("are not marked: %.0f%% or more of the cluster's nodes are silent at once, the control plane is suspected", ClusterSilentShare*100)
	case appsv1alpha1.ReasonLastReadyPods:
		return "are not marked: they are the app's last ready pods"
	}
	return "are marked not ready"
}
