package main

import (
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/rollout"
)

// zoneLossLine says what losing the zone (or node) with most ready pods would leave.
func zoneLossLine(zl *appsv1alpha1.ZoneLoss) string {
	if zl == nil {
		return ""
	}
	domain := "zone " + zl.WorstZone
	if zl.WorstZone == "" {
		domain = "node " + zl.WorstNode
	}
	verdict := "tolerated"
	if !zl.Tolerated {
		verdict = "NOT tolerated"
	}
	return fmt.Sprintf("%s: losing %s leaves %d ready, the budget needs %d",
		verdict, domain, zl.RemainingReady, zl.MinimumReady)
}

// zoneProgress tells, zone by zone, how many of the app's pods are ready and on the workload's
// template; the zone a ZoneByZone update replaces is marked.
func zoneProgress(snap *snapshot) string {
	target := ""
	switch wl := snap.workload.(type) {
	case *appsv1.Deployment:
		target = wl.Spec.Template.Labels[rollout.LabelRevisionHash]
	case *appsv1.StatefulSet:
		target = wl.Spec.Template.Labels[rollout.LabelRevisionHash]
	default:
		// A DaemonSet runs one pod per node and a Job's pods run to completion: no zone progress.
		return ""
	}
	type counts struct{ pods, ready, updated int }
	byZone := map[string]*counts{}
	for i := range snap.pods {
		p := &snap.pods[i]
		if p.DeletionTimestamp != nil {
			continue
		}
		zone := snap.zones[p.Spec.NodeName]
		if zone == "" {
			zone = "-"
		}
		c := byZone[zone]
		if c == nil {
			c = &counts{}
			byZone[zone] = c
		}
		c.pods++
		if rollout.PodReady(p) {
			c.ready++
		}
		if target != "" && p.Labels[rollout.LabelRevisionHash] == target {
			c.updated++
		}
	}
	zones := make([]string, 0, len(byZone))
	for z := range byZone {
		zones = append(zones, z)
	}
	slices.Sort(zones)
	parts := make([]string, 0, len(zones))
	for _, z := range zones {
		c := byZone[z]
		part := fmt.Sprintf("%s %d/%d ready, %d updated", z, c.ready, c.pods, c.updated)
		if z == snap.app.Status.UpdatingZone {
			part += " (updating)"
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, " | ")
}
