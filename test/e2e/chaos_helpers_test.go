//go:build e2e

/*
Copyright 2026.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

const (
	// operatorNamespace holds the operator's ServiceAccount and its leader election Lease.
	operatorNamespace = "ha-operator-system"
	// leaseName is the manager's LeaderElectionID.
	leaseName = "9a46c84c.haoperator.dev"
	// leaseDuration is controller-runtime's default, which the manager keeps.
	leaseDuration = 15 * time.Second
	// annotationOutcome on a ControllerRevision records how its rollout ended.
	annotationOutcome = "apps.haoperator.dev/outcome"
	// labelRevisionHash on a pod and a ControllerRevision names the revision.
	labelRevisionHash = "apps.haoperator.dev/revision-hash"
)

// revision is what identifies one ControllerRevision of an app.
type revision struct {
	Number int64
	Hash   string
}

// appRevisions lists the ControllerRevisions the app controls, by number.
func appRevisions(key types.NamespacedName) []revision {
	GinkgoHelper()
	app := getApp(key)
	list := &appsv1.ControllerRevisionList{}
	Expect(k8s.List(ctx, list, client.InNamespace(key.Namespace))).To(Succeed())
	var out []revision
	for i := range list.Items {
		if metav1.IsControlledBy(&list.Items[i], app) {
			out = append(out, revision{Number: list.Items[i].Revision, Hash: list.Items[i].Labels[labelRevisionHash]})
		}
	}
	slices.SortFunc(out, func(a, b revision) int { return int(a.Number - b.Number) })
	return out
}

// expectUniqueRevisions checks that no two revisions of the app share a number or a hash.
func expectUniqueRevisions(key types.NamespacedName) []revision {
	GinkgoHelper()
	revisions := appRevisions(key)
	Expect(revisions).NotTo(BeEmpty(), "app %s has no revision", key)
	numbers, hashes := map[int64]int{}, map[string]int{}
	for _, r := range revisions {
		numbers[r.Number]++
		hashes[r.Hash]++
	}
	for n, count := range numbers {
		Expect(count).To(Equal(1), "app %s: revision number %d is used %d times: %v", key, n, count, revisions)
	}
	for h, count := range hashes {
		Expect(count).To(Equal(1), "app %s: revision hash %s is used %d times: %v", key, h, count, revisions)
	}
	return revisions
}

// settled tells whether the app is Ready on the revision its spec asks for, as waitSettled does.
func settled(app *appsv1alpha1.HighlyAvailableApp) bool {
	ready := meta.FindStatusCondition(app.Status.Conditions, appsv1alpha1.ConditionReady)
	return app.Status.ObservedGeneration == app.Generation && ready != nil && ready.Status == metav1.ConditionTrue &&
		app.Status.CurrentRevision == app.Status.UpdateRevision &&
		conditionStatus(app, appsv1alpha1.ConditionReconciling) != metav1.ConditionTrue
}

// hasReason tells whether any condition of the app is True with the reason.
func hasReason(app *appsv1alpha1.HighlyAvailableApp, reason string) bool {
	for _, c := range app.Status.Conditions {
		if c.Reason == reason && c.Status == metav1.ConditionTrue {
			return true
		}
	}
	return false
}

// conditionWithReason finds the True condition with the reason, for its message.
func conditionWithReason(app *appsv1alpha1.HighlyAvailableApp, reason string) *metav1.Condition {
	for i := range app.Status.Conditions {
		if c := &app.Status.Conditions[i]; c.Reason == reason && c.Status == metav1.ConditionTrue {
			return c
		}
	}
	return nil
}

// lease reads the operator's leader election Lease: its holder and last renewal.
func lease() (holder string, renewed time.Time, err error) {
	l := &coordinationv1.Lease{}
	if err := k8s.Get(ctx, types.NamespacedName{Namespace: operatorNamespace, Name: leaseName}, l); err != nil {
		return "", time.Time{}, err
	}
	if l.Spec.HolderIdentity != nil {
		holder = *l.Spec.HolderIdentity
	}
	if l.Spec.RenewTime != nil {
		renewed = l.Spec.RenewTime.Time
	}
	return holder, renewed, nil
}

// waitLeader waits until a holder other than not holds the Lease and renews it, and returns it.
func waitLeader(not string, timeout time.Duration) string {
	GinkgoHelper()
	var holder string
	Eventually(func(g Gomega) {
		h, renewed, err := lease()
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(h).NotTo(BeEmpty(), "nobody holds the lease")
		g.Expect(h).NotTo(Equal(not))
		g.Expect(time.Since(renewed)).To(BeNumerically("<", leaseDuration), "the lease is not renewed")
		holder = h
	}).WithTimeout(timeout).WithPolling(100 * time.Millisecond).Should(Succeed())
	return holder
}

// operatorPid is the pid of the operator (its first instance), 0 when it is not running.
func operatorPid() int {
	data, err := os.ReadFile(filepath.Join(clusterDir, "pids", "operator.pid"))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return 0
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil || strings.Contains(string(status), "State:\tZ") {
		return 0
	}
	return pid
}

// logMark is a position in an operator's log: what is logged after it is read by since.
type logMark struct {
	path   string
	offset int64
}

func markLog(instance string) logMark {
	GinkgoHelper()
	path := filepath.Join(clusterDir, "logs", instance+".log")
	info, err := os.Stat(path)
	Expect(err).NotTo(HaveOccurred())
	return logMark{path: path, offset: info.Size()}
}

// linesSince returns the lines logged since the mark that contain every one of the words.
func (m logMark) linesSince(words ...string) []string {
	GinkgoHelper()
	data, err := os.ReadFile(m.path)
	Expect(err).NotTo(HaveOccurred())
	var out []string
	for line := range strings.SplitSeq(string(data[m.offset:]), "\n") {
		all := true
		for _, w := range words {
			all = all && strings.Contains(line, w)
		}
		if all {
			out = append(out, line)
		}
	}
	return out
}

// podHistory follows the pods of an app by sampling: every UID each pod name had, in order, its
// image and whether it was seen serving.
type podHistory struct {
	sampling *sampler

	mu   sync.Mutex
	uids map[string][]types.UID
	seen map[types.UID]podSeen
}

type podSeen struct {
	Name    string
	Image   string
	Serving bool
	// Node, the times the pod was first and last seen, and its last waiting reason tell a failure's
	// story.
	Node        string
	First, Last time.Time
	Waiting     string
}

// story is one pod name's UIDs in order, each with what was seen of it.
func story(name string, uids map[string][]types.UID, seen map[types.UID]podSeen) string {
	var b strings.Builder
	for _, uid := range uids[name] {
		s := seen[uid]
		fmt.Fprintf(&b, "\n  %s %s on %q, seen %s to %s, serving %t, waiting %q", uid, s.Image, s.Node,
			s.First.Format("15:04:05.000"), s.Last.Format("15:04:05.000"), s.Serving, s.Waiting)
	}
	return b.String()
}

func followPods(key types.NamespacedName) *podHistory {
	h := &podHistory{uids: map[string][]types.UID{}, seen: map[types.UID]podSeen{}}
	h.sampling = startSampling(100*time.Millisecond, func(sctx context.Context) (int, string, error) {
		pods, err := appPods(sctx, key)
		if err != nil {
			return 0, "", err
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		for i := range pods {
			p := &pods[i]
			s, known := h.seen[p.UID]
			if !known {
				h.uids[p.Name] = append(h.uids[p.Name], p.UID)
				s = podSeen{Name: p.Name, Image: p.Spec.Containers[0].Image, First: time.Now()}
			}
			s.Serving = s.Serving || serving(p)
			s.Node, s.Last = p.Spec.NodeName, time.Now()
			for _, c := range p.Status.ContainerStatuses {
				if c.State.Waiting != nil && c.State.Waiting.Reason != "" {
					s.Waiting = c.State.Waiting.Reason
				}
			}
			h.seen[p.UID] = s
		}
		return len(pods), "", nil
	})
	return h
}

// stop ends the sampling and returns the UIDs of each pod name and what was seen of each UID.
func (h *podHistory) stop() (map[string][]types.UID, map[types.UID]podSeen) {
	h.sampling.stop()
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.uids, h.seen
}

// mergePatchImage sets the image of the app's first container with one merge patch, no read first.
func mergePatchImage(app *appsv1alpha1.HighlyAvailableApp, image string) error {
	containers := slices.Clone(app.Spec.Template.Spec.Containers)
	containers[0].Image = image
	patch, err := json.Marshal(map[string]any{"spec": map[string]any{"template": map[string]any{
		"spec": map[string]any{"containers": containers}}}})
	if err != nil {
		return err
	}
	return k8s.Patch(ctx, app.DeepCopy(), client.RawPatch(types.MergePatchType, patch))
}

// lookAlike is a pod nobody owns that carries the labels of the app's pod: the app's selector and
// revision, not the labels by which a ReplicaSet or StatefulSet would adopt it.
func lookAlike(of *corev1.Pod, name, image string) *corev1.Pod {
	labels := map[string]string{}
	for k, v := range of.Labels {
		switch k {
		case "pod-template-hash", "controller-revision-hash",
			"statefulset.kubernetes.io/pod-name", "apps.kubernetes.io/pod-index":
		default:
			labels[k] = v
		}
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: of.Namespace, Name: name, Labels: labels},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: of.Spec.Containers[0].Name, Image: image,
		}}},
	}
}
