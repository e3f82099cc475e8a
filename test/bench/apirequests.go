package main

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The operator's API requests by verb and resource. Its own counter, rest_client_requests_total,
// has the HTTP method and the host only. The API server counts every request by verb, group,
// resource and subresource (apiserver_request_total), and tells a server-side apply (APPLY) from
// another patch, but cannot tell its clients apart: the local cluster runs without an audit log and
// without priority and fairness, and the bench runs the operator with the administrator's
// credentials. So a phase reads the API server's counters before the operator starts and once it has
// settled, and keeps the resources the operator writes: the difference is the operator's requests to
// them and those the control plane sent to the same resources meanwhile. The note under the table
// says which of the rows the control plane shares.

// apiRequests is how many requests of one verb the API server served on one resource (and
// subresource) during a phase, every client's, and how many of them, as far as the bench knows, the
// control plane sent.
type apiRequests struct {
	Verb        string  `json:"verb"`
	Group       string  `json:"group,omitempty"`
	Resource    string  `json:"resource"`
	Subresource string  `json:"subresource,omitempty"`
	Count       float64 `json:"count"`
	PerApp      float64 `json:"perApp"`
	// ControlPlanePerApp are the requests per app the control plane sent, ControlPlane who sent them.
	ControlPlanePerApp float64 `json:"controlPlanePerApp,omitempty"`
	ControlPlane       string  `json:"controlPlane,omitempty"`
}

// operatorPerApp are the row's requests per app less the control plane's.
func (r apiRequests) operatorPerApp() float64 { return r.PerApp - r.ControlPlanePerApp }

// requestKey is what the API server's request counter tells requests apart by, but for the
// version, the scope, the dry run and the response code, which are summed.
type requestKey struct {
	verb, group, resource, subresource string
}

// bindingKey is the scheduler's binding of a pod to a node.
var bindingKey = requestKey{verb: http.MethodPost, resource: "pods", subresource: "binding"}

// requestCounts sums the API server's apiserver_request_total by verb, group, resource and
// subresource.
func requestCounts(samples []sample) map[requestKey]float64 {
	counts := map[requestKey]float64{}
	for _, s := range samples {
		if s.name != "apiserver_request_total" {
			continue
		}
		key := requestKey{s.labels["verb"], s.labels["group"], s.labels["resource"], s.labels["subresource"]}
		counts[key] += s.value
	}
	return counts
}

// requestsBetween are the requests counted from before to after on the resources (plural names, of
// any group), per app of n apps, with the control plane's part of each: the operator's most frequent
// first, then the control plane's, then by resource and verb.
func requestsBetween(before, after map[requestKey]float64, resources []string, n int) []apiRequests {
	apps := float64(max(n, 1))
	bindings := (after[bindingKey] - before[bindingKey]) / apps
	var out []apiRequests
	for key, count := range after {
		count -= before[key]
		if count <= 0 || !slices.Contains(resources, key.resource) {
			continue
		}
		r := apiRequests{Verb: key.verb, Group: key.group, Resource: key.resource, Subresource: key.subresource,
			Count: count, PerApp: count / apps}
		r.ControlPlanePerApp, r.ControlPlane = controlPlaneShare(r, bindings)
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b apiRequests) int {
		return cmp.Or(cmp.Compare(b.operatorPerApp(), a.operatorPerApp()), cmp.Compare(b.PerApp, a.PerApp),
			cmp.Compare(a.Resource, b.Resource), cmp.Compare(a.Subresource, b.Subresource),
			cmp.Compare(a.Group, b.Group), cmp.Compare(a.Verb, b.Verb))
	})
	return out
}

// statusWriters are the controllers that write the status of the kinds the operator generates, with
// an update (the operator patches).
var statusWriters = map[string]string{
	"deployments":              "the Deployment controller's",
	"statefulsets":             "the StatefulSet controller's",
	"poddisruptionbudgets":     "the disruption controller's",
	"horizontalpodautoscalers": "the HPA controller's",
}

// controlPlaneShare is the part of a row, per app, that the local cluster's control plane sends
// while the operator catches up, and who sends it: the controllers' status updates of the objects
// the operator generates, the core Events of the controllers and kwok (the operator sends its Events
// through events.k8s.io), and the scheduler's Events (events.k8s.io), one per pod it binds
// (bindingsPerApp).
func controlPlaneShare(r apiRequests, bindingsPerApp float64) (float64, string) {
	switch {
	case r.Verb == http.MethodPut && r.Subresource == "status" && statusWriters[r.Resource] != "":
		return r.PerApp, statusWriters[r.Resource]
	case r.Resource == "events" && r.Group == "":
		return r.PerApp, "the controllers' and kwok's"
	case r.Resource == "events" && r.Group == "events.k8s.io" && r.Verb == http.MethodPost && bindingsPerApp > 0:
		return min(r.PerApp, bindingsPerApp), "the scheduler's, one per pod bound"
	}
	return 0, ""
}

// operatorSum adds up the rows' requests per app less the control plane's.
func operatorSum(rows []apiRequests) float64 {
	total := 0.0
	for _, r := range rows {
		total += r.operatorPerApp()
	}
	return total
}

// resourcesOf are the API server's (plural) resource names of the kinds.
func resourcesOf(kinds []client.Object) ([]string, error) {
	out := make([]string, 0, len(kinds))
	for _, obj := range kinds {
		gvks, _, err := scheme.ObjectKinds(obj)
		if err != nil {
			return nil, err
		}
		plural, _ := meta.UnsafeGuessKindToResource(gvks[0])
		out = append(out, plural.Resource)
	}
	return out, nil
}

// renderRequests prints the rows one a line: the verb, the resource (with its subresource, and with
// its group where two groups serve a resource of that name, "core" for the core group), the
// requests per app, and the control plane's part when it sent some.
func renderRequests(rows []apiRequests) string {
	groups := map[string]map[string]bool{}
	for _, r := range rows {
		if groups[r.Resource] == nil {
			groups[r.Resource] = map[string]bool{}
		}
		groups[r.Resource][r.Group] = true
	}
	names := make([]string, len(rows))
	verbWidth, nameWidth := 0, 0
	for i, r := range rows {
		names[i] = r.Resource
		if r.Subresource != "" {
			names[i] += "/" + r.Subresource
		}
		if len(groups[r.Resource]) > 1 {
			names[i] += " (" + cmp.Or(r.Group, "core") + ")"
		}
		verbWidth, nameWidth = max(verbWidth, len(r.Verb)), max(nameWidth, len(names[i]))
	}
	var b strings.Builder
	for i, r := range rows {
		line := fmt.Sprintf("  %-*s  %-*s  %6s", verbWidth, r.Verb, nameWidth, names[i], formatFigure(value(r.PerApp)))
		switch {
		case r.ControlPlane == "":
		case r.ControlPlanePerApp >= r.PerApp:
			line += "  " + r.ControlPlane
		default:
			line += fmt.Sprintf("  of which %s %s", formatFigure(value(r.ControlPlanePerApp)), r.ControlPlane)
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// apiServerRequests reads the API server's request counters.
func apiServerRequests(ctx context.Context, cfg *rest.Config) (map[requestKey]float64, error) {
	d, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	body, err := d.RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("the API server's metrics: %w", err)
	}
	return requestCounts(parseMetrics(string(body))), nil
}

// requestsNote is the catch-up's API requests by verb and resource, under the table; empty when the
// catch-up did not run.
func requestsNote(r results) string {
	cu := r.CatchUp
	if !slices.Contains(r.Ran, "catchup") || len(cu.APIServerRequests) == 0 {
		return ""
	}
	return fmt.Sprintf(`API requests per app, catch-up, by verb and resource: the API server's count
(apiserver_request_total) from just before the operator started until it had settled, on the kinds
the operator writes. The API server counts every client's requests and cannot tell them apart; the
control plane's part is marked, as the bench knows it (the scheduler sends one Event per pod it
binds: %s per app here). APPLY is a server-side apply, which the operator's own counter counts as a
PATCH. The rows less the control plane's add up to %s per app; the operator's own counter
(rest_client_requests_total), which also counts its start-up lists and watches of every kind, to %s,
of which %s GETs (lists and watches included): a row of GETs above that is another client's.
%s`, formatFigure(value(cu.BindingsPerApp)), formatFigure(value(operatorSum(cu.APIServerRequests))),
		formatFigure(value(cu.RequestsPerApp)), formatFigure(value(cu.ReadsPerApp)),
		renderRequests(cu.APIServerRequests))
}
