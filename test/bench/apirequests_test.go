package main

import (
	"slices"
	"strings"
	"testing"
)

// What the API server's counters look like: one series per verb, group, version, resource,
// subresource, scope, component and code.
const apiServerBefore = `# TYPE apiserver_request_total counter
apiserver_request_total{code="200",component="apiserver",dry_run="",group="apps",resource="deployments",scope="resource",subresource="",verb="GET",version="v1"} 4
apiserver_request_total{code="201",component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="binding",verb="POST",version="v1"} 6
apiserver_request_total{code="201",component="apiserver",dry_run="",group="events.k8s.io",resource="events",scope="resource",subresource="",verb="POST",version="v1"} 6
`

const apiServerAfter = `# TYPE apiserver_request_total counter
apiserver_request_total{code="200",component="apiserver",dry_run="",group="apps",resource="deployments",scope="resource",subresource="",verb="GET",version="v1"} 4
apiserver_request_total{code="404",component="apiserver",dry_run="",group="apps",resource="deployments",scope="resource",subresource="",verb="GET",version="v1"} 10
apiserver_request_total{code="201",component="apiserver",dry_run="",group="apps",resource="deployments",scope="resource",subresource="",verb="APPLY",version="v1"} 10
apiserver_request_total{code="200",component="apiserver",dry_run="",group="apps",resource="deployments",scope="resource",subresource="status",verb="PUT",version="v1"} 25
apiserver_request_total{code="200",component="apiserver",dry_run="",group="apps.haoperator.dev",resource="highlyavailableapps",scope="resource",subresource="status",verb="PATCH",version="v1alpha1"} 20
apiserver_request_total{code="409",component="apiserver",dry_run="",group="apps.haoperator.dev",resource="highlyavailableapps",scope="resource",subresource="status",verb="PATCH",version="v1alpha1"} 1
apiserver_request_total{code="201",component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="binding",verb="POST",version="v1"} 36
apiserver_request_total{code="201",component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="",verb="POST",version="v1"} 30
apiserver_request_total{code="201",component="apiserver",dry_run="",group="events.k8s.io",resource="events",scope="resource",subresource="",verb="POST",version="v1"} 76
apiserver_request_total{code="201",component="apiserver",dry_run="",group="",resource="events",scope="resource",subresource="",verb="POST",version="v1"} 70
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="",scope="",subresource="/metrics",verb="GET",version=""} 2
`

func TestRequestsBetween(t *testing.T) {
	before, after := requestCounts(parseMetrics(apiServerBefore)), requestCounts(parseMetrics(apiServerAfter))
	resources, err := resourcesOf(writtenKinds)
	if err != nil {
		t.Fatal(err)
	}
	got := requestsBetween(before, after, resources, 10)
	want := []apiRequests{
		{Verb: "POST", Group: "events.k8s.io", Resource: "events", Count: 70, PerApp: 7,
			ControlPlanePerApp: 3, ControlPlane: "the scheduler's, one per pod bound"},
		{Verb: "PATCH", Group: "apps.haoperator.dev", Resource: "highlyavailableapps", Subresource: "status",
			Count: 21, PerApp: 2.1},
		{Verb: "APPLY", Group: "apps", Resource: "deployments", Count: 10, PerApp: 1},
		{Verb: "GET", Group: "apps", Resource: "deployments", Count: 10, PerApp: 1},
		{Verb: "POST", Resource: "events", Count: 70, PerApp: 7, ControlPlanePerApp: 7,
			ControlPlane: "the controllers' and kwok's"},
		{Verb: "PUT", Group: "apps", Resource: "deployments", Subresource: "status", Count: 25, PerApp: 2.5,
			ControlPlanePerApp: 2.5, ControlPlane: "the Deployment controller's"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("requestsBetween:\n%+v\nwant\n%+v", got, want)
	}
	if sum := operatorSum(got); sum != 4+2.1+1+1 {
		t.Errorf("the operator's requests per app = %v, want 8.1", sum)
	}
	wantText := strings.Join([]string{
		"  POST   events (events.k8s.io)        7.00  of which 3.00 the scheduler's, one per pod bound",
		"  PATCH  highlyavailableapps/status    2.10",
		"  APPLY  deployments                   1.00",
		"  GET    deployments                   1.00",
		"  POST   events (core)                 7.00  the controllers' and kwok's",
		"  PUT    deployments/status            2.50  the Deployment controller's",
		"",
	}, "\n")
	if text := renderRequests(got); text != wantText {
		t.Errorf("renderRequests:\n%s\nwant\n%s", text, wantText)
	}
}

func TestControlPlaneShare(t *testing.T) {
	for _, tc := range []struct {
		name     string
		row      apiRequests
		bindings float64
		want     float64
		who      string
	}{
		{"the operator's apply", apiRequests{Verb: "APPLY", Resource: "deployments", PerApp: 1}, 3, 0, ""},
		{"a status update of a PDB", apiRequests{Verb: "PUT", Resource: "poddisruptionbudgets",
			Subresource: "status", PerApp: 2}, 3, 2, "the disruption controller's"},
		{"the operator's status patch of an app", apiRequests{Verb: "PATCH", Resource: "highlyavailableapps",
			Subresource: "status", PerApp: 2}, 3, 0, ""},
		{"core Events", apiRequests{Verb: "POST", Resource: "events", PerApp: 8}, 3, 8, "the controllers' and kwok's"},
		{"events.k8s.io Events, fewer than the bindings", apiRequests{Verb: "POST", Group: "events.k8s.io",
			Resource: "events", PerApp: 2}, 3, 2, "the scheduler's, one per pod bound"},
		{"events.k8s.io Events with no binding", apiRequests{Verb: "POST", Group: "events.k8s.io",
			Resource: "events", PerApp: 5}, 0, 0, ""},
		{"a series of Events", apiRequests{Verb: "PATCH", Group: "events.k8s.io", Resource: "events",
			PerApp: 1}, 3, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, who := controlPlaneShare(tc.row, tc.bindings)
			if got != tc.want || who != tc.who {
				t.Errorf("controlPlaneShare = %v %q, want %v %q", got, who, tc.want, tc.who)
			}
		})
	}
}

func TestResourcesOfWrittenKinds(t *testing.T) {
	got, err := resourcesOf(writtenKinds)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"highlyavailableapps", "deployments", "statefulsets", "services", "poddisruptionbudgets",
		"horizontalpodautoscalers", "controllerrevisions", "events"}
	if !slices.Equal(got, want) {
		t.Errorf("resourcesOf(writtenKinds) = %v, want %v", got, want)
	}
}

func TestRequestsNote(t *testing.T) {
	cu := operatorRun{RequestsPerApp: 9, ReadsPerApp: 0.05, BindingsPerApp: 3,
		APIServerRequests: []apiRequests{{Verb: "GET", Resource: "services", Count: 5, PerApp: 1}}}
	if note := requestsNote(results{Ran: []string{"endtoend"}, CatchUp: cu}); note != "" {
		t.Errorf("without the catch-up: %q, want none", note)
	}
	note := requestsNote(results{Ran: []string{"catchup"}, CatchUp: cu})
	for _, part := range []string{"binds: 3.00 per app", "add up to 1.00 per app", "(rest_client_requests_total)",
		"to 9.00,", "of which 0.05 GETs", "  GET  services    1.00\n"} {
		if !strings.Contains(note, part) {
			t.Errorf("the note lacks %q:\n%s", part, note)
		}
	}
}
