package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// On a Karmada control plane an app is a template: Karmada places it on member clusters and records
// where in a ResourceBinding named <app>-highlyavailableapp (its names.GenerateBindingName), in the
// app's namespace. The plugin reads the binding as unstructured, so that the project does not depend
// on Karmada's Go module.

// resourceBindingGVK is Karmada's ResourceBinding.
var resourceBindingGVK = schema.GroupVersionKind{Group: "work.karmada.io", Version: "v1alpha2", Kind: "ResourceBinding"}

// bindingName is the name Karmada gives the ResourceBinding of an app.
func bindingName(app string) string { return strings.ToLower(app + "-HighlyAvailableApp") }

// resourceBinding holds the fields of a ResourceBinding the plugin shows.
type resourceBinding struct {
	Spec struct {
		Resource struct {
			Kind string `json:"kind"`
			Name string `json:"name"`
		} `json:"resource"`
		Clusters []struct {
			Name     string `json:"name"`
			Replicas int32  `json:"replicas"`
		} `json:"clusters"`
		GracefulEvictionTasks []struct {
			FromCluster string `json:"fromCluster"`
			Reason      string `json:"reason"`
		} `json:"gracefulEvictionTasks"`
	} `json:"spec"`
	Status struct {
		AggregatedStatus []struct {
			ClusterName    string        `json:"clusterName"`
			Applied        bool          `json:"applied"`
			AppliedMessage string        `json:"appliedMessage"`
			Health         string        `json:"health"`
			Status         *memberReport `json:"status"`
		} `json:"aggregatedStatus"`
	} `json:"status"`
}

// memberReport is what a member cluster reports through the customization's statusReflection: the
// app's status there, with the generation of its copy and the control plane's generation it was made
// from.
type memberReport struct {
	appsv1alpha1.HighlyAvailableAppStatus
	Generation                 int64 `json:"generation"`
	ResourceTemplateGeneration int64 `json:"resourceTemplateGeneration"`
}

// clusterShare is one member cluster of the app's placement.
type clusterShare struct {
	name string
	// scheduled is the cluster's entry in the binding's spec.clusters: its replicas for a divided
	// app, 0 for an app copied whole.
	scheduled *int32
	// evicting is the reason of a graceful eviction of the app from the cluster.
	evicting string
	// report is the cluster's item of the binding's aggregated status; nil before Karmada has one.
	reported       bool
	applied        bool
	appliedMessage string
	health         string
	status         *memberReport
}

// placementOf reads where Karmada placed the app: nil when the cluster is not a Karmada control plane
// (no ResourceBinding API), when the app has no binding, or when the user may not read it.
func (s *session) placementOf(ctx context.Context, app *appsv1alpha1.HighlyAvailableApp) ([]clusterShare, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(resourceBindingGVK)
	name := bindingName(app.Name)
	err := s.client.Get(ctx, client.ObjectKey{Namespace: app.Namespace, Name: name}, u)
	switch {
	case err == nil:
	case apierrors.IsNotFound(err), meta.IsNoMatchError(err), apierrors.IsForbidden(err):
		return nil, nil
	default:
		return nil, fmt.Errorf("get resourcebinding %q: %w", name, err)
	}
	raw, err := u.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("resourcebinding %q: %w", name, err)
	}
	binding := &resourceBinding{}
	if err := json.Unmarshal(raw, binding); err != nil {
		return nil, fmt.Errorf("resourcebinding %q: %w", name, err)
	}
	if binding.Spec.Resource.Kind != "HighlyAvailableApp" || binding.Spec.Resource.Name != app.Name {
		return nil, nil
	}
	byName := map[string]*clusterShare{}
	share := func(cluster string) *clusterShare {
		c := byName[cluster]
		if c == nil {
			c = &clusterShare{name: cluster}
			byName[cluster] = c
		}
		return c
	}
	for _, c := range binding.Spec.Clusters {
		share(c.Name).scheduled = new(c.Replicas)
	}
	for _, task := range binding.Spec.GracefulEvictionTasks {
		share(task.FromCluster).evicting = task.Reason
	}
	for _, item := range binding.Status.AggregatedStatus {
		c := share(item.ClusterName)
		c.reported, c.applied, c.appliedMessage = true, item.Applied, item.AppliedMessage
		c.health, c.status = item.Health, item.Status
	}
	out := make([]clusterShare, 0, len(byName))
	for _, c := range byName {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b clusterShare) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

// clusterNodes are the rows of the member clusters under the app: what each was given and reports.
func clusterNodes(app *appsv1alpha1.HighlyAvailableApp, shares []clusterShare) []*treeNode {
	divided := app.Spec.AppType() == appsv1alpha1.Stateless
	out := make([]*treeNode, 0, len(shares))
	for _, c := range shares {
		var info []string
		switch {
		case c.evicting != "":
			info = append(info, "evicting ("+c.evicting+")")
		case c.scheduled == nil:
			info = append(info, "no longer scheduled")
		case divided:
			info = append(info, fmt.Sprintf("scheduled %d", *c.scheduled))
		default:
			info = append(info, "placed whole")
		}
		status, ready := "Pending", ""
		switch {
		case !c.reported:
			info = append(info, "no report yet")
		case !c.applied:
			status = "NotApplied"
			info = append(info, strings.TrimSuffix("not applied: "+c.appliedMessage, ": "))
		case c.status == nil || c.status.ObservedGeneration == 0:
			info = append(info, "health "+c.health, "the operator there has not reported")
		default:
			member := &appsv1alpha1.HighlyAvailableApp{Status: c.status.HighlyAvailableAppStatus}
			member.Generation = c.status.Generation
			state := stateOf(member)
			status, ready = string(state.Phase), c.status.ReadySummary
			info = append(info, "health "+c.health)
			if c.status.ResourceTemplateGeneration != app.Generation {
				info = append(info, fmt.Sprintf("runs generation %d", c.status.ResourceTemplateGeneration))
			}
			if state.Reason != "" {
				info = append(info, state.Reason)
			}
		}
		out = append(out, &treeNode{cells: []string{
			"Cluster/" + c.name, status, ready, "", "", "", strings.Join(info, ", "),
		}})
	}
	return out
}

// clusterLossLine says, on a Karmada control plane, how many member clusters run ready pods and what
// losing the one with most of them would leave; empty on a member cluster, where both are unset.
func clusterLossLine(st appsv1alpha1.HighlyAvailableAppStatus) string {
	if st.ClusterLoss == nil && st.Clusters == 0 {
		return ""
	}
	line := fmt.Sprintf("%d with ready pods", st.Clusters)
	if cl := st.ClusterLoss; cl != nil {
		verdict := "tolerated"
		if !cl.Tolerated {
			verdict = "NOT tolerated"
		}
		line += fmt.Sprintf(" | %s: losing cluster %s leaves %d ready, the budget needs %d",
			verdict, cl.WorstCluster, cl.RemainingReady, cl.MinimumReady)
	}
	return line
}
