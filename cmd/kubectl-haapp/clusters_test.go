package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

const (
	clusterEast = "member-east"
	clusterWest = "member-west"
)

// karmadaApp is the app on a Karmada control plane, with the status the interpreter customization
// aggregated from its member clusters: divided 2/2, both serving revision 1.
func karmadaApp() *appsv1alpha1.HighlyAvailableApp {
	cond := func(t string, s metav1.ConditionStatus, reason, msg string) metav1.Condition {
		return metav1.Condition{Type: t, Status: s, Reason: reason, Message: msg, ObservedGeneration: 2,
			LastTransitionTime: ago(time.Hour)}
	}
	return &appsv1alpha1.HighlyAvailableApp{
		ObjectMeta: metav1.ObjectMeta{Name: appName, Namespace: testNamespace, Generation: 2,
			CreationTimestamp: ago(72 * time.Hour)},
		Spec: appsv1alpha1.HighlyAvailableAppSpec{
			Type: appsv1alpha1.Stateless, Replicas: ptr.To[int32](4), Template: userTemplate(imageGood),
		},
		Status: appsv1alpha1.HighlyAvailableAppStatus{
			ObservedGeneration: 2,
			Phase:              appsv1alpha1.PhaseReady,
			Conditions: []metav1.Condition{
				cond(appsv1alpha1.ConditionReady, metav1.ConditionTrue, appsv1alpha1.ReasonRolloutComplete,
					"cluster member-east: revision 1 serves on 2 of 2 replicas; "+
						"cluster member-west: revision 1 serves on 2 of 2 replicas"),
				cond(appsv1alpha1.ConditionReconciling, metav1.ConditionFalse, appsv1alpha1.ReasonRolloutComplete, ""),
				cond(appsv1alpha1.ConditionStalled, metav1.ConditionFalse, appsv1alpha1.ReasonRolloutComplete, ""),
				cond(appsv1alpha1.ConditionAvailable, metav1.ConditionTrue, appsv1alpha1.ReasonMinimumAvailable,
					"4 of 4 pods ready in clusters member-east, member-west; the disruption budget needs 3"),
				cond(appsv1alpha1.ConditionHighlyAvailable, metav1.ConditionTrue, appsv1alpha1.ReasonZoneRedundant,
					"4 pods ready in 2 clusters"),
			},
			Workload: &appsv1alpha1.WorkloadReference{Kind: "Deployment", Name: appName},
			Replicas: 4, ReadyReplicas: 4, UpdatedReplicas: 4, AvailableReplicas: 4, ReadySummary: "4/4",
			CurrentRevision: 1, UpdateRevision: 1, Resilience: appsv1alpha1.ClusterRedundant, Zones: 4, Nodes: 4,
			Clusters: 2,
			ClusterLoss: &appsv1alpha1.ClusterLoss{Tolerated: false, WorstCluster: clusterEast, RemainingReady: 2,
				MinimumReady: 3},
		},
	}
}

// reported is a member's status item as Karmada aggregates it into the binding.
func reported(cluster, health string, ready, desired int64, templateGeneration int64, phase string) map[string]any {
	readyCond := map[string]any{"type": "Ready", "status": "True", "reason": "RolloutComplete",
		"message": "revision 1 serves", "lastTransitionTime": "2026-03-01T11:00:00Z"}
	reconciling := map[string]any{"type": "Reconciling", "status": "False", "reason": "RolloutComplete", "message": "",
		"lastTransitionTime": "2026-03-01T11:00:00Z"}
	if ready < desired {
		readyCond["status"], readyCond["reason"] = "False", "RollingOut"
		reconciling["status"], reconciling["reason"] = "True", "RollingOut"
	}
	return map[string]any{
		"clusterName": cluster, "applied": true, "health": health,
		"status": map[string]any{
			"observedGeneration": int64(3), "generation": int64(3), "resourceTemplateGeneration": templateGeneration,
			"phase": phase, "readySummary": fmt.Sprintf("%d/%d", ready, desired), "readyReplicas": ready,
			"scheduledReplicas": desired,
			"conditions":        []any{readyCond, reconciling},
		},
	}
}

// binding is the app's ResourceBinding as Karmada writes it.
func binding(clusters []any, evictions []any, items ...map[string]any) *unstructured.Unstructured {
	aggregated := make([]any, 0, len(items))
	for _, item := range items {
		aggregated = append(aggregated, item)
	}
	spec := map[string]any{
		"resource": map[string]any{"apiVersion": appsv1alpha1.GroupVersion.String(), "kind": "HighlyAvailableApp",
			"namespace": testNamespace, "name": appName},
		"replicas": int64(4),
		"clusters": clusters,
	}
	if evictions != nil {
		spec["gracefulEvictionTasks"] = evictions
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"metadata": map[string]any{"name": "web-highlyavailableapp", "namespace": testNamespace},
		"spec":     spec,
		"status":   map[string]any{"aggregatedStatus": aggregated},
	}}
	u.SetGroupVersionKind(schema.GroupVersionKind{Group: "work.karmada.io", Version: "v1alpha2", Kind: "ResourceBinding"})
	return u
}

func target(name string, replicas int64) map[string]any {
	return map[string]any{"name": name, "replicas": replicas}
}

func TestGetOnKarmada(t *testing.T) {
	for _, tc := range []struct {
		name, golden string
		app          *appsv1alpha1.HighlyAvailableApp
		binding      *unstructured.Unstructured
	}{
		{
			name: "divided 2/2", golden: "get-karmada.golden", app: karmadaApp(),
			binding: binding([]any{target(clusterEast, 2), target(clusterWest, 2)}, nil,
				reported(clusterEast, "Healthy", 2, 2, 2, "Ready"), reported(clusterWest, "Healthy", 2, 2, 2, "Ready")),
		},
		{
			// member-east is lost: Karmada evicted it and gave its replicas to member-west, which is
			// scaling up; the lost cluster's last report stays until the eviction is done.
			name: "a member lost, its eviction pending", golden: "get-karmada-failover.golden", app: failoverApp(),
			binding: binding([]any{target(clusterWest, 4)},
				[]any{map[string]any{"fromCluster": clusterEast, "reason": "TaintUntolerated", "producer": "TaintManager"}},
				reported(clusterEast, "Healthy", 2, 2, 2, "Ready"), reported(clusterWest, "Unhealthy", 2, 4, 2, "Progressing")),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, width := range []int{80, 100, 140} {
				s, out, _ := newSession(t, nil, tc.app, tc.binding)
				s.width = width
				if err := s.tree(context.Background(), appName, out); err != nil {
					t.Fatal(err)
				}
				for line := range strings.SplitSeq(out.String(), "\n") {
					if n := utf8.RuneCountInString(line); n > width {
						t.Errorf("width %d: line of %d characters: %q", width, n, line)
					}
				}
				if width == 140 {
					golden(t, tc.golden, out.String())
				}
			}
		})
	}
}

// failoverApp is the aggregate while member-east's eviction is pending.
func failoverApp() *appsv1alpha1.HighlyAvailableApp {
	app := karmadaApp()
	st := &app.Status
	st.Phase = appsv1alpha1.PhaseProgressing
	st.Conditions[0] = metav1.Condition{Type: appsv1alpha1.ConditionReady, Status: metav1.ConditionFalse,
		Reason:             appsv1alpha1.ReasonRollingOut,
		Message:            "cluster member-west: 4 of 4 replicas updated, 2 ready, 2 available, 4 in total",
		LastTransitionTime: ago(time.Minute)}
	st.Conditions[1] = metav1.Condition{Type: appsv1alpha1.ConditionReconciling, Status: metav1.ConditionTrue,
		Reason: appsv1alpha1.ReasonRollingOut, Message: st.Conditions[0].Message, LastTransitionTime: ago(time.Minute)}
	st.Conditions[4] = metav1.Condition{Type: appsv1alpha1.ConditionHighlyAvailable, Status: metav1.ConditionFalse,
		Reason: appsv1alpha1.ReasonSingleCluster, Message: "all 2 ready pods run in cluster member-west",
		LastTransitionTime: ago(time.Minute)}
	st.Conditions[3] = metav1.Condition{Type: appsv1alpha1.ConditionAvailable, Status: metav1.ConditionFalse,
		Reason:             appsv1alpha1.ReasonBelowMinimum,
		Message:            "2 of 4 pods ready in cluster member-west; the disruption budget needs 3",
		LastTransitionTime: ago(time.Minute)}
	st.ReadyReplicas, st.AvailableReplicas, st.ReadySummary, st.Clusters = 2, 2, "2/4", 1
	st.Resilience = appsv1alpha1.ZoneRedundant
	st.ClusterLoss = &appsv1alpha1.ClusterLoss{Tolerated: false, WorstCluster: clusterWest, RemainingReady: 0,
		MinimumReady: 3}
	return app
}

// On a cluster without Karmada the tree is the member's own: the binding's API does not exist there.
func TestGetWithoutKarmada(t *testing.T) {
	noMatch := interceptor.Funcs{Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey,
		obj client.Object, opts ...client.GetOption) error {
		if obj.GetObjectKind().GroupVersionKind().Kind == "ResourceBinding" {
			return &meta.NoKindMatchError{GroupKind: schema.GroupKind{Group: "work.karmada.io", Kind: "ResourceBinding"}}
		}
		return c.Get(ctx, key, obj, opts...)
	}}
	s, out, _ := newSession(t, &noMatch, world(t)...)
	if err := s.tree(context.Background(), appName, out); err != nil {
		t.Fatal(err)
	}
	golden(t, "get-web.golden", out.String())
}

// A member Karmada could not apply the app to, one whose operator has not reported, one that reports
// an older generation of the app, and one left over from an earlier placement.
func TestClusterRows(t *testing.T) {
	app := karmadaApp()
	behind := reported(clusterWest, "Healthy", 2, 2, 1, "Ready")
	s, out, _ := newSession(t, nil, app, binding(
		[]any{target(clusterEast, 2), target(clusterWest, 2), target("member-north", 0), target("member-south", 0)}, nil,
		map[string]any{"clusterName": "member-north", "appliedMessage": `namespaces "shop" not found`, "health": "Unknown"},
		map[string]any{"clusterName": clusterEast, "applied": true, "health": "Unknown",
			"status": map[string]any{"generation": int64(1), "resourceTemplateGeneration": int64(2),
				"scheduledReplicas": int64(2)}},
		behind,
		reported("member-old", "Healthy", 1, 1, 2, "Ready")))
	s.width = 0
	if err := s.tree(context.Background(), appName, out); err != nil {
		t.Fatal(err)
	}
	golden(t, "get-karmada-members.golden", out.String())
}
