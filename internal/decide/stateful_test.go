package decide

import (
	"maps"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/workload"
)

// zonalVolume is a volume bound to the claim, pinned to the zone as a cloud block volume is.
func zonalVolume(claim, zone string) *corev1.PersistentVolume {
	return &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pv-" + claim},
		Spec: corev1.PersistentVolumeSpec{NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{
				Key: corev1.LabelTopologyZone, Operator: corev1.NodeSelectorOpIn, Values: []string{zone}}}}}}}}}
}

// A Stateful app's data lives in zones: the status counts the ordinals of each zone, a zone's loss
// takes the pods whose volumes are there, and a pod that waits for its volume's zone is reported at
// once, never as a failed update.
func TestWhereTheDataLives(t *testing.T) {
	app := newApp(appsv1alpha1.Stateful, "db:1")
	app.Spec.Storage = []appsv1alpha1.StorageSpec{{Name: "data", MountPath: "/data", Size: resource.MustParse("1Gi")}}
	w := newWorld(app)
	step(t, w)
	w.settleStatefulSet(podReady)
	step(t, w)
	volumes := map[string]*corev1.PersistentVolume{}
	for ord, zone := range []string{"zone-a", "zone-b", "zone-c"} {
		name := workload.ClaimName(app, "data", int32(ord))
		w.claims[name] = &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: workload.Labels(app)},
			Spec: corev1.PersistentVolumeClaimSpec{VolumeName: "pv-" + name}}
		volumes[name] = zonalVolume(name, zone)
	}

	in := w.input()
	in.Volumes = volumes
	p := Decide(in)
	if want := map[string]int32{"zone-a": 1, "zone-b": 1, "zone-c": 1}; !maps.Equal(p.VolumeZones, want) {
		t.Errorf("volume zones %v, want %v", p.VolumeZones, want)
	}

	By := "zone-b lost: web-1 waits for it"
	for i := range w.pods {
		if w.pods[i].Name != "web-1" {
			continue
		}
		w.pods[i].Spec.NodeName = ""
		w.pods[i].Status = corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{
			Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable,
			Message: "0/6 nodes are available: 2 node(s) had untolerated taint(s), 4 node(s) didn't match " +
				"PersistentVolume's node affinity. preemption: 0/6 nodes are available: 6 Preemption is not helpful for scheduling.",
			LastTransitionTime: metav1.NewTime(w.now),
		}}}
	}
	w.now = w.now.Add(time.Hour)
	in = w.input()
	in.Volumes = volumes
	p = Decide(in)
	if len(p.VolumeWaits) != 1 || p.VolumeWaits[0].Pod != "web-1" || p.VolumeWaits[0].Zone != "zone-b" {
		t.Fatalf("%s: waits %+v", By, p.VolumeWaits)
	}
	st := p.Report.Status(p.Problem, metav1.NewTime(w.now))
	ha := meta.FindStatusCondition(st.Conditions, appsv1alpha1.ConditionHighlyAvailable)
	if ha.Status != metav1.ConditionFalse || ha.Reason != appsv1alpha1.ReasonVolumeZoneUnavailable ||
		!strings.Contains(ha.Message, "web-1") || !strings.Contains(ha.Message, "zone-b") || !strings.Contains(ha.Message, "didn't match PersistentVolume's node affinity") {
		t.Errorf("%s: HighlyAvailable %+v", By, ha)
	}
	if c := meta.FindStatusCondition(st.Conditions, appsv1alpha1.ConditionStalled); c.Status != metav1.ConditionFalse {
		t.Errorf("%s: Stalled %+v: waiting for a zone is no failure", By, c)
	}
	if st.VolumeZones["zone-b"] != 1 {
		t.Errorf("%s: volume zones %v", By, st.VolumeZones)
	}
	for _, e := range p.Events {
		if e.Reason == appsv1alpha1.ReasonRolloutFailed {
			t.Errorf("%s: %s", By, e.Message)
		}
	}
}
