package main

import (
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // 100, 99, ..., 1: unsorted on purpose
	}
	for _, tc := range []struct {
		name    string
		samples []time.Duration
		p       float64
		want    time.Duration
	}{
		{"no samples", nil, 50, 0},
		{"one sample", ms(7), 99, 7 * time.Millisecond},
		{"median of an odd count", ms(30, 10, 20), 50, 20 * time.Millisecond},
		{"median of an even count is the lower middle", ms(40, 10, 30, 20), 50, 20 * time.Millisecond},
		{"p99 of 100", ms(hundred...), 99, 99 * time.Millisecond},
		{"p50 of 100", ms(hundred...), 50, 50 * time.Millisecond},
		{"p100 is the maximum", ms(5, 9, 1), 100, 9 * time.Millisecond},
		{"p99 of few samples is the maximum", ms(5, 9, 1), 99, 9 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentile(tc.samples, tc.p); got != tc.want {
				t.Errorf("percentile(%v, %v) = %v, want %v", tc.samples, tc.p, got, tc.want)
			}
		})
	}
}

func TestNodesPerZone(t *testing.T) {
	for _, tc := range []struct {
		name string
		pods int
		want int
	}{
		{"a small run keeps the minimum", 150, 2},
		{"exactly the minimum's capacity with headroom", 528, 2}, // 528 × 1.25 = 660 = 6 × 110
		{"one pod more needs a node more, in every zone", 529, 3},
		{"200 apps", 600, 3},    // 750 pods → 7 nodes → 3 per zone
		{"1000 apps", 3000, 12}, // 3750 pods → 35 nodes → 12 per zone
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := nodesPerZone(tc.pods, 3, 110, 2, 0.25); got != tc.want {
				t.Errorf("nodesPerZone(%d) = %d, want %d", tc.pods, got, tc.want)
			}
		})
	}
}

func TestScaledCount(t *testing.T) {
	for _, tc := range []struct{ n, want int }{{50, 250}, {200, 1000}, {1000, 5000}, {4000, 5000}, {0, 1}} {
		if got := scaledCount(5000, tc.n, 1000); got != tc.want {
			t.Errorf("scaledCount(5000, %d, 1000) = %d, want %d", tc.n, got, tc.want)
		}
	}
}

func TestRenderTable(t *testing.T) {
	got := renderTable("N=50", []row{
		{Name: "all Ready", Unit: "s", Floor1: value(20), Floor8: value(10), Status: value(12), Guarded: value(14.5),
			Op: value(15), Argo: value(30)},
		{Name: "heap per app", Unit: "KiB", Op: value(38.25), Argo: value(155)},
		{Name: "idle writes per minute", Floor8: value(0), Op: value(0)},
	})
	want := strings.Join([]string{
		"| N=50                   | floor, 1 worker | floor, 8 workers | floor + status | guarded floor | ha-operator " +
			"| ratio to floor (8) | ratio to floor + status | ratio to guarded floor | Argo Rollouts |",
		"| ---------------------- | --------------: | ---------------: | -------------: | ------------: | ----------: " +
			"| -----------------: | ----------------------: | ---------------------: | ------------: |",
		"| all Ready [s]          |            20.0 |             10.0 |           12.0 |          14.5 |        15.0 " +
			"|              1.50× |                   1.25× |                  1.03× |          30.0 |",
		"| heap per app [KiB]     |               – |                – |              – |             – |        38.2 " +
			"|                  – |                       – |                      – |           155 |",
		"| idle writes per minute |               – |                0 |              – |             – |           0 " +
			"|                  – |                       – |                      – |             – |",
		"",
	}, "\n")
	if got != want {
		t.Errorf("renderTable:\n%s\nwant:\n%s", got, want)
	}
}

func TestFormatFigure(t *testing.T) {
	for _, tc := range []struct {
		in   figure
		want string
	}{{nil, "–"}, {value(0), "0"}, {value(0.123), "0.12"}, {value(12.34), "12.3"}, {value(1234.5), "1234"}} {
		if got := formatFigure(tc.in); got != tc.want {
			t.Errorf("formatFigure(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTableRowsLeaveOutPhasesThatDidNotRun(t *testing.T) {
	idle := 0
	r := results{
		N:       10,
		Ran:     []string{"floor8", "catchup"},
		Floor1:  floorRun{ReadySeconds: 99},
		Floor8:  floorRun{ChildrenSeconds: 2, ReadySeconds: 4, RequestsPerApp: 3, IdleWrites: &idle, IdleWindowSecs: 30},
		CatchUp: operatorRun{ChildrenSeconds: 3, ReadySeconds: 5, ReconcilesPerApp: 2, RequestsPerApp: 9},
	}
	rows := tableRows(r)
	byName := map[string]row{}
	for _, x := range rows {
		byName[x.Name] = x
	}
	ready := byName["catch-up: all Ready"]
	if ready.Floor1 != nil || ready.Floor8 == nil || *ready.Floor8 != 4 || ready.Op == nil || *ready.Op != 5 {
		t.Errorf("catch-up row = %s / %s / %s, want – / 4 / 5",
			formatFigure(ready.Floor1), formatFigure(ready.Floor8), formatFigure(ready.Op))
	}
	if e2e := byName["end to end: create the apps, all Ready"]; e2e.Op != nil {
		t.Errorf("end to end = %s, want – (the phase did not run)", formatFigure(e2e.Op))
	}
	if idleRow := byName["idle writes per minute"]; idleRow.Floor8 == nil || *idleRow.Floor8 != 0 || idleRow.Op != nil {
		t.Errorf("idle row = %s / %s, want 0 / –", formatFigure(idleRow.Floor8), formatFigure(idleRow.Op))
	}
}

func TestTableRowsArgoRollouts(t *testing.T) {
	argo := argoRun{ChildrenSeconds: 7, ReadySeconds: 9, HeapPerAppKiB: 150, RSSPerAppKiB: 300}
	withArgo := func(r results) map[string]row {
		byName := map[string]row{}
		for _, x := range tableRows(r) {
			byName[x.Name] = x
		}
		return byName
	}
	ran := withArgo(results{Ran: []string{"argo"}, ArgoRollouts: argo})
	for name, want := range map[string]float64{
		"catch-up: children exist, observedGeneration current": 7,
		"catch-up: all Ready":      9,
		"Go heap per app, settled": 150,
	} {
		if got := ran[name].Argo; got == nil || *got != want {
			t.Errorf("%s: Argo Rollouts = %s, want %v", name, formatFigure(got), want)
		}
	}
	for name, x := range ran {
		if _, measured := map[string]bool{
			"catch-up: children exist, observedGeneration current": true,
			"catch-up: all Ready":      true,
			"Go heap per app, settled": true,
		}[name]; !measured && x.Argo != nil {
			t.Errorf("%s: Argo Rollouts = %s, want – (not measured)", name, formatFigure(x.Argo))
		}
	}
	for name, x := range withArgo(results{Ran: []string{"catchup"}, ArgoRollouts: argo}) {
		if x.Argo != nil {
			t.Errorf("%s: Argo Rollouts = %s, want – (the phase did not run)", name, formatFigure(x.Argo))
		}
	}
}
