package controller

import (
	"maps"
	"slices"
	"testing"
	"time"
	"unsafe"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"

	"github.com/haoperator/ha-operator/internal/decide"
	"github.com/haoperator/ha-operator/internal/rollout"
)

func TestStripForCache(t *testing.T) {
	for _, tc := range []struct {
		name            string
		annotations     map[string]string
		wantAnnotations map[string]string
	}{
		{"no annotations", nil, nil},
		{"only last-applied", map[string]string{lastAppliedAnnotation: `{"kind":"Pod"}`}, nil},
		{
			"last-applied among others",
			map[string]string{lastAppliedAnnotation: `{"kind":"Pod"}`, "apps.haoperator.dev/retry": "1"},
			map[string]string{"apps.haoperator.dev/retry": "1"},
		},
		{"others kept", map[string]string{"a": "b"}, map[string]string{"a": "b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
				Name: "web-1", Labels: map[string]string{"app": "web"}, Annotations: tc.annotations,
				ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}},
			}}
			out, err := stripForCache(pod)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := out.(*corev1.Pod)
			if !ok {
				t.Fatalf("stripForCache returned %T, want *corev1.Pod", out)
			}
			if got.ManagedFields != nil {
				t.Errorf("managedFields = %v, want none", got.ManagedFields)
			}
			if len(got.Annotations) != len(tc.wantAnnotations) {
				t.Errorf("annotations = %v, want %v", got.Annotations, tc.wantAnnotations)
			}
			for k, v := range tc.wantAnnotations {
				if got.Annotations[k] != v {
					t.Errorf("annotation %s = %q, want %q", k, got.Annotations[k], v)
				}
			}
			if got.Name != "web-1" || got.Labels["app"] != "web" {
				t.Errorf("name or labels changed: %s %v", got.Name, got.Labels)
			}
		})
	}
	t.Run("a tombstone passes through", func(t *testing.T) {
		in := toolscache.DeletedFinalStateUnknown{Key: "shop/web-1"}
		out, err := stripForCache(in)
		if err != nil || out != in {
			t.Errorf("stripForCache(tombstone) = %v, %v", out, err)
		}
	})
}

func TestTrimPodKeepsWhatTheOperatorReads(t *testing.T) {
	pod := runningPod()
	pod.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubelet"}}
	pod.Annotations = map[string]string{lastAppliedAnnotation: "{}", "controller.kubernetes.io/pod-deletion-cost": "5"}
	pod.OwnerReferences = []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "web-x", UID: "rs"}}
	pod.Spec.Containers = []corev1.Container{{
		Name: "web", Image: "nginx:1.9.1",
		Env:       []corev1.EnvVar{{Name: "HA_PEERS", Value: "web-0,web-1,web-2"}},
		Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")}},
	}}
	pod.Spec.Volumes = []corev1.Volume{{Name: "data"}}
	pod.Spec.Tolerations = []corev1.Toleration{{Key: "node.kubernetes.io/not-ready"}}
	pod.Status.PodIPs = []corev1.PodIP{{IP: "10.244.1.8"}}
	pod.Status.ContainerStatuses[0].LastTerminationState = corev1.ContainerState{
		Terminated: &corev1.ContainerStateTerminated{Reason: "OOMKilled"}}
	pod.Status.ContainerStatuses[0].RestartCount = 4
	pod.Status.ContainerStatuses[0].Image, pod.Status.ContainerStatuses[0].ImageID = "nginx:1.9.1", "sha256:abc"
	pod.Status.ContainerStatuses[0].ContainerID = "containerd://0123"
	since := metav1.NewTime(time.Date(2026, 11, 26, 11, 0, 0, 0, time.UTC))
	pod.Status.Conditions = append(pod.Status.Conditions,
		corev1.PodCondition{Type: corev1.PodInitialized, Status: corev1.ConditionTrue},
		corev1.PodCondition{Type: corev1.ContainersReady, Status: corev1.ConditionFalse, LastTransitionTime: since},
		corev1.PodCondition{Type: corev1.PodReadyToStartContainers, Status: corev1.ConditionTrue})

	out, err := trimPod(pod)
	if err != nil {
		t.Fatal(err)
	}
	trimmed := out.(*corev1.Pod)
	if !podSignature(trimmed).equal(podSignature(pod)) {
		t.Errorf("the signature changed: %+v, want %+v", podSignature(trimmed), podSignature(pod))
	}
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	if got, want := rollout.PodFailure(trimmed, now, rollout.Tolerances{}), rollout.PodFailure(pod, now, rollout.Tolerances{}); got != want {
		t.Errorf("the failure verdict changed: %+v, want %+v", got, want)
	}
	if len(trimmed.OwnerReferences) != 1 || trimmed.OwnerReferences[0].UID != "rs" {
		t.Errorf("owners lost: %v", trimmed.OwnerReferences)
	}
	if trimmed.ManagedFields != nil || trimmed.Spec.Volumes != nil || trimmed.Spec.Tolerations != nil ||
		trimmed.Spec.Containers[0].Env != nil || trimmed.Status.PodIPs != nil {
		t.Errorf("kept what nobody reads: %+v", trimmed)
	}
	kept := make([]corev1.PodConditionType, 0, len(trimmed.Status.Conditions))
	for _, c := range trimmed.Status.Conditions {
		kept = append(kept, c.Type)
	}
	if want := []corev1.PodConditionType{corev1.PodScheduled, corev1.PodReady, corev1.ContainersReady}; !slices.Equal(kept, want) {
		t.Errorf("conditions kept: %v, want %v", kept, want)
	}
	if c := trimmed.Status.Conditions[2]; c.Status != corev1.ConditionFalse || !c.LastTransitionTime.Equal(&since) {
		t.Errorf("ContainersReady = %+v, want False since %v", c, since)
	}
	if st := trimmed.Status.ContainerStatuses[0]; st.Image != "" || st.ImageID != "" || st.ContainerID != "" ||
		st.RestartCount != 4 || !st.Ready || st.LastTerminationState.Terminated == nil {
		t.Errorf("container status: %+v", st)
	}
	if want := map[string]string{"controller.kubernetes.io/pod-deletion-cost": "5"}; !maps.Equal(trimmed.Annotations, want) {
		t.Errorf("annotations = %v, want %v", trimmed.Annotations, want)
	}
	if pod.Annotations[lastAppliedAnnotation] == "" {
		t.Error("trimPod changed the object it was given")
	}
}

func TestTrimMetadataKeepsTheOwner(t *testing.T) {
	rs := &metav1.PartialObjectMetadata{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"},
		ObjectMeta: metav1.ObjectMeta{Name: "web-x", Namespace: "shop", UID: "rs", Labels: map[string]string{"app": "web"},
			ManagedFields:   []metav1.ManagedFieldsEntry{{Manager: "kube-controller-manager"}},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "web", UID: "d", Controller: new(true)}}},
	}
	out, err := trimMetadata(rs)
	if err != nil {
		t.Fatal(err)
	}
	trimmed := out.(*metav1.PartialObjectMetadata)
	if !metav1.IsControlledBy(trimmed, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{UID: "d"}}) || trimmed.UID != "rs" ||
		trimmed.Name != "web-x" || trimmed.Namespace != "shop" || trimmed.Labels["app"] != "web" || trimmed.Kind != "ReplicaSet" {
		t.Errorf("lost its identity or owner: %+v", trimmed)
	}
	if trimmed.ManagedFields != nil {
		t.Error("kept the managed fields")
	}
	if rs.ManagedFields == nil {
		t.Error("trimMetadata changed the object it was given")
	}
	// A typed object (should a typed informer ever be started) is stripped like any other.
	typed := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web-x", ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "m"}}}}
	if out, err := trimMetadata(typed); err != nil || out.(*appsv1.ReplicaSet).ManagedFields != nil {
		t.Errorf("trimMetadata(typed) = %v, %v", out, err)
	}
}

// TestTheCacheHoldsRepeatedStringsOnce decodes two objects, as an informer does, and checks that
// their trimmed copies share the strings that every object repeats.
func TestTheCacheHoldsRepeatedStringsOnce(t *testing.T) {
	decoded := func(name string) *corev1.Pod {
		pod := runningPod()
		pod.Name, pod.Namespace, pod.GenerateName = name, "shop", "web-x-"
		pod.Labels = map[string]string{"app.kubernetes.io/instance": "web"}
		pod.Annotations = map[string]string{"controller.kubernetes.io/pod-deletion-cost": "5"}
		pod.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-x", UID: "rs"}}
		// A fresh copy of every string, as decoding gives.
		raw, err := pod.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		out := &corev1.Pod{}
		if err := out.Unmarshal(raw); err != nil {
			t.Fatal(err)
		}
		return out
	}
	same := func(a, b string) bool { return a != "" && unsafe.StringData(a) == unsafe.StringData(b) }
	key := func(m map[string]string) string {
		for k := range m {
			return k
		}
		return ""
	}
	a, b := decoded("web-x-1"), decoded("web-x-2")
	if same(a.Namespace, b.Namespace) {
		t.Fatal("the decoded pods already share their strings: the test shows nothing")
	}
	ta, _ := trimPod(a)
	tb, _ := trimPod(b)
	pa, pb := ta.(*corev1.Pod), tb.(*corev1.Pod)
	for what, pair := range map[string][2]string{
		"namespace":      {pa.Namespace, pb.Namespace},
		"generate name":  {pa.GenerateName, pb.GenerateName},
		"label key":      {key(pa.Labels), key(pb.Labels)},
		"annotation key": {key(pa.Annotations), key(pb.Annotations)},
		"owner kind":     {pa.OwnerReferences[0].Kind, pb.OwnerReferences[0].Kind},
		"owner name":     {pa.OwnerReferences[0].Name, pb.OwnerReferences[0].Name},
		"node":           {pa.Spec.NodeName, pb.Spec.NodeName},
		"image":          {pa.Spec.Containers[0].Image, pb.Spec.Containers[0].Image},
	} {
		if !same(pair[0], pair[1]) {
			t.Errorf("trimPod: the %s is held twice", what)
		}
	}
	if pa.Name != "web-x-1" || pb.Name != "web-x-2" || pa.Labels["app.kubernetes.io/instance"] != "web" {
		t.Errorf("trimPod changed the values: %s %s %v", pa.Name, pb.Name, pa.Labels)
	}

	da, db := &appsv1.Deployment{ObjectMeta: a.ObjectMeta}, &appsv1.Deployment{ObjectMeta: b.ObjectMeta}
	sa, _ := stripForCache(da)
	sb, _ := stripForCache(db)
	ma, mb := sa.(*appsv1.Deployment).ObjectMeta, sb.(*appsv1.Deployment).ObjectMeta
	if !same(ma.Namespace, mb.Namespace) || !same(key(ma.Labels), key(mb.Labels)) || !same(key(ma.Annotations), key(mb.Annotations)) {
		t.Error("stripForCache: the namespace or the keys are held twice")
	}
}

// The cache keeps, of a generated object's managed fields, the digest of the operator's applies'
// field set, which decide compares with the desired object's; every other entry goes.
func TestStripForCacheKeepsTheDigestOfTheOperatorsFields(t *testing.T) {
	fields := []byte(`{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:replicas":{}}}`)
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", ManagedFields: []metav1.ManagedFieldsEntry{
		{Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "apps/v1",
			FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(`{"f:status":{}}`), Subresource: "status"},
		{Manager: FieldOwner, Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "apps/v1",
			FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(`{"f:metadata":{}}`)},
		{Manager: FieldOwner, Operation: metav1.ManagedFieldsOperationApply, APIVersion: "apps/v1",
			FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(string(fields))},
	}}}
	out, err := stripForCache(dep)
	if err != nil {
		t.Fatal(err)
	}
	got := out.(*appsv1.Deployment)
	want := []metav1.ManagedFieldsEntry{decide.AppliedEntry("apps/v1", decide.FieldsDigest(fields))}
	if !equality.Semantic.DeepEqual(got.ManagedFields, want) {
		t.Fatalf("managedFields = %v, want %v", got.ManagedFields, want)
	}
	if d := decide.AppliedDigestOf(got); d != decide.FieldsDigest(fields) || d == "" {
		t.Errorf("the digest read back is %q, want %q", d, decide.FieldsDigest(fields))
	}
	// A second pass (an object the transform has seen) keeps the digest as it is.
	again, err := stripForCache(got.DeepCopy())
	if err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(again.(*appsv1.Deployment).ManagedFields, want) {
		t.Errorf("a second pass gives %v", again.(*appsv1.Deployment).ManagedFields)
	}
}
