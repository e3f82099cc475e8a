package main

import "testing"

const exposition = `# HELP controller_runtime_reconcile_total Total number of reconciliations per controller
# TYPE controller_runtime_reconcile_total counter
controller_runtime_reconcile_total{controller="highlyavailableapp",result="error"} 2
controller_runtime_reconcile_total{controller="highlyavailableapp",result="success"} 150
controller_runtime_reconcile_total{controller="other",result="success"} 7
rest_client_requests_total{code="200",host="127.0.0.1:20443",method="GET"} 40
rest_client_requests_total{code="201",host="127.0.0.1:20443",method="PATCH"} 9
haoperator_wakes_total{source="Pod",urgency="soon"} 30
haoperator_wakes_total{source="Recheck",urgency="later"} 10
haoperator_wakes_total{source="Node",urgency="now"} 0
weird_label{msg="a \"quoted\", comma"} 1
go_memstats_heap_alloc_bytes 1.2345e+07
process_resident_memory_bytes 5.6e+07 1700000000000
`

func TestSumMetric(t *testing.T) {
	samples := parseMetrics(exposition)
	for _, tc := range []struct {
		name   string
		metric string
		match  map[string]string
		want   float64
	}{
		{"every result of one controller", "controller_runtime_reconcile_total",
			map[string]string{"controller": "highlyavailableapp"}, 152},
		{"every series", "controller_runtime_reconcile_total", nil, 159},
		{"by method", "rest_client_requests_total", map[string]string{"method": "PATCH"}, 9},
		{"no labels, exponent", "go_memstats_heap_alloc_bytes", nil, 12345000},
		{"a timestamp after the value", "process_resident_memory_bytes", nil, 56000000},
		{"an escaped label value", "weird_label", map[string]string{"msg": `a "quoted", comma`}, 1},
		{"an absent metric", "nothing_total", nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sumMetric(samples, tc.metric, tc.match); got != tc.want {
				t.Errorf("sumMetric(%s, %v) = %v, want %v", tc.metric, tc.match, got, tc.want)
			}
		})
	}
}

func TestLiveHeap(t *testing.T) {
	both := parseMetrics("go_gc_heap_live_bytes 100\ngo_memstats_heap_alloc_bytes 250\n")
	if got := liveHeap(both); got != 100 {
		t.Errorf("with the live heap exported: %v, want 100", got)
	}
	allocOnly := parseMetrics("go_memstats_heap_alloc_bytes 250\n")
	if got := liveHeap(allocOnly); got != 250 {
		t.Errorf("without it: %v, want 250", got)
	}
}

func TestWakesPerApp(t *testing.T) {
	c := countersIn(parseMetrics(exposition))
	if got, want := wakesNote(c.Wakes, 10), "Pod/soon 3.00, Recheck/later 1.00"; got != want {
		t.Errorf("wakes per app = %q, want %q", got, want)
	}
}
