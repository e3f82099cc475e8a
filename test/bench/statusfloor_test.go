package main

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// The status floor writes what the operator would report: not Ready while the Deployment has not
// come up, Ready with its pods in three zones once it has.
func TestFloorStatus(t *testing.T) {
	app := newApp(appNamespace, appName(0))
	app.Generation = 1
	d, ok := floorObjects(app)[0].(*appsv1.Deployment)
	if !ok {
		t.Fatal("the floor's first object is not a Deployment")
	}
	d.Generation = 1
	now := metav1.Now()

	first := floorStatus(app, d, app.Name, now)
	if first.ObservedGeneration != 1 {
		t.Errorf("observedGeneration %d, want 1", first.ObservedGeneration)
	}
	app.Status = first
	if appReady(app) {
		t.Error("Ready before the Deployment's controller has seen it")
	}
	if c := condition(first, appsv1alpha1.ConditionReconciling); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("Reconciling %v, want True", c)
	}

	d.Status = appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 3,
		AvailableReplicas: 3}
	second := floorStatus(app, d, app.Name, now)
	app.Status = second
	if !appReady(app) {
		t.Errorf("not Ready with every replica available: %+v", second.Conditions)
	}
	if second.Zones != 3 || second.Nodes != 3 || second.Resilience != appsv1alpha1.ZoneRedundant {
		t.Errorf("zones %d, nodes %d, resilience %s; want 3, 3, %s", second.Zones, second.Nodes, second.Resilience,
			appsv1alpha1.ZoneRedundant)
	}
	if second.Service != app.Name || second.CurrentRevision != 1 {
		t.Errorf("service %q, current revision %d; want %q, 1", second.Service, second.CurrentRevision, app.Name)
	}
}

func condition(s appsv1alpha1.HighlyAvailableAppStatus, t string) *metav1.Condition {
	for i := range s.Conditions {
		if s.Conditions[i].Type == t {
			return &s.Conditions[i]
		}
	}
	return nil
}
