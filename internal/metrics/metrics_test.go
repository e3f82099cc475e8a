package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

const (
	phaseReady    = "Ready"
	zoneRedundant = "ZoneRedundant"
	shop          = "shop"
	web           = "web"
)

func TestAppsGauge(t *testing.T) {
	type set struct{ namespace, name, phase, resilience string }
	type forget struct{ namespace, name string }
	cases := []struct {
		name  string
		steps []any
		want  string
	}{
		{
			name:  "one app counts once however often it is reported",
			steps: []any{set{shop, web, phaseReady, zoneRedundant}, set{shop, web, phaseReady, zoneRedundant}},
			want:  `haoperator_apps{phase="Ready",resilience="ZoneRedundant"} 1`,
		},
		{
			name: "an app moves to its new state and the old one drops to 0",
			steps: []any{
				set{shop, web, phaseReady, zoneRedundant},
				set{shop, web, "Progressing", zoneRedundant},
			},
			want: `haoperator_apps{phase="Progressing",resilience="ZoneRedundant"} 1
haoperator_apps{phase="Ready",resilience="ZoneRedundant"} 0`,
		},
		{
			name: "apps with the same name in two namespaces are two apps",
			steps: []any{
				set{shop, web, phaseReady, zoneRedundant},
				set{"blog", web, phaseReady, zoneRedundant},
				set{"blog", "db", "Stalled", "SinglePointOfFailure"},
			},
			want: `haoperator_apps{phase="Ready",resilience="ZoneRedundant"} 2
haoperator_apps{phase="Stalled",resilience="SinglePointOfFailure"} 1`,
		},
		{
			name: "a deleted app is forgotten",
			steps: []any{
				set{shop, web, phaseReady, zoneRedundant},
				set{shop, "cart", phaseReady, zoneRedundant},
				forget{shop, web},
				forget{shop, "never-reported"},
			},
			want: `haoperator_apps{phase="Ready",resilience="ZoneRedundant"} 1`,
		},
		{
			name:  "an app without status yet counts as Unknown",
			steps: []any{set{shop, web, "", ""}},
			want:  `haoperator_apps{phase="Unknown",resilience="Unknown"} 1`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newAppsCollector()
			for _, step := range tc.steps {
				switch s := step.(type) {
				case set:
					c.set(appKey(s.namespace, s.name), s.phase, s.resilience)
				case forget:
					c.forget(appKey(s.namespace, s.name))
				}
			}
			want := "# HELP haoperator_apps HighlyAvailableApps by the phase and the resilience they report.\n" +
				"# TYPE haoperator_apps gauge\n" + tc.want + "\n"
			if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestRolloutCounters(t *testing.T) {
	r := newRecorder()
	r.rolloutStarted(shop)
	r.rolloutStarted(shop)
	r.rolloutStarted("blog")
	r.rolloutCompleted(shop)
	r.rolledBack(shop, "ImagePullBackOff")
	r.rolledBack(shop, "ImagePullBackOff")
	r.rolledBack(shop, "a reason nobody planned for")

	want := `# HELP haoperator_rollouts_started_total Rollouts started: the spec asked for a new revision and the operator began rolling it out.
# TYPE haoperator_rollouts_started_total counter
haoperator_rollouts_started_total{namespace="blog"} 1
haoperator_rollouts_started_total{namespace="shop"} 2
# HELP haoperator_rollouts_completed_total Rollouts completed: every replica runs the new revision and is available.
# TYPE haoperator_rollouts_completed_total counter
haoperator_rollouts_completed_total{namespace="shop"} 1
# HELP haoperator_rollbacks_total Automatic rollbacks of a failed update to the last good revision, by failure reason.
# TYPE haoperator_rollbacks_total counter
haoperator_rollbacks_total{namespace="shop",reason="ImagePullBackOff"} 2
haoperator_rollbacks_total{namespace="shop",reason="Other"} 1
`
	registry := prometheus.NewPedanticRegistry()
	registry.MustRegister(r.collectors()...)
	if err := testutil.GatherAndCompare(registry, strings.NewReader(want),
		RolloutsStartedMetric, RolloutsCompletedMetric, RollbacksMetric); err != nil {
		t.Error(err)
	}
}

func TestRollbackReasonLabel(t *testing.T) {
	r := newRecorder()
	cases := []struct{ reason, label string }{
		{"ImagePullBackOff", "ImagePullBackOff"},
		{"CrashLoopBackOff", "CrashLoopBackOff"},
		{"ProgressDeadlineExceeded", "ProgressDeadlineExceeded"},
		{"Unschedulable", "Unschedulable"},
		{"OOMKilled", "OOMKilled"},
		{"ErrImageNeverPull", "ErrImageNeverPull"},
		{"", OtherReason},
		{"pod web-7f9 container web: Back-off pulling image", OtherReason},
		{"imagepullbackoff", OtherReason},
	}
	for _, tc := range cases {
		if got := r.rollbackReason(tc.reason); got != tc.label {
			t.Errorf("rollbackReason(%q) = %q, want %q", tc.reason, got, tc.label)
		}
	}
}

func TestDurationHistograms(t *testing.T) {
	r := newRecorder()
	for _, s := range []float64{0.4, 3, 3, 45, 700} {
		r.failureDetection.Observe(s)
	}
	want := `# HELP haoperator_failure_detection_seconds Seconds from the start of an update to the operator's verdict that it failed.
# TYPE haoperator_failure_detection_seconds histogram
haoperator_failure_detection_seconds_bucket{le="1"} 1
haoperator_failure_detection_seconds_bucket{le="2"} 1
haoperator_failure_detection_seconds_bucket{le="5"} 3
haoperator_failure_detection_seconds_bucket{le="10"} 3
haoperator_failure_detection_seconds_bucket{le="20"} 3
haoperator_failure_detection_seconds_bucket{le="30"} 3
haoperator_failure_detection_seconds_bucket{le="60"} 4
haoperator_failure_detection_seconds_bucket{le="120"} 4
haoperator_failure_detection_seconds_bucket{le="300"} 4
haoperator_failure_detection_seconds_bucket{le="600"} 4
haoperator_failure_detection_seconds_bucket{le="1200"} 5
haoperator_failure_detection_seconds_bucket{le="+Inf"} 5
haoperator_failure_detection_seconds_sum 751.4
haoperator_failure_detection_seconds_count 5
`
	if err := testutil.CollectAndCompare(r.failureDetection, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	r.rollbackDuration.Observe(12)
	if n := testutil.CollectAndCount(r.rollbackDuration); n != 1 {
		t.Errorf("rollback duration histogram has %d series, want 1", n)
	}
}

// TestPackageFunctionsReachTheManagerRegistry checks that the functions the reconciler calls update
// collectors registered on controller-runtime's registry, which the manager's metrics endpoint serves.
func TestPackageFunctionsReachTheManagerRegistry(t *testing.T) {
	before := func(name string) float64 {
		return testutil.ToFloat64(defaultRecorder.rolloutsStarted.WithLabelValues(name))
	}
	startedBefore := before("registry-test")
	rolledBackBefore := testutil.ToFloat64(defaultRecorder.rollbacks.WithLabelValues("registry-test", "ImagePullBackOff"))
	otherBefore := testutil.ToFloat64(defaultRecorder.rollbacks.WithLabelValues("registry-test", OtherReason))

	SetAppState("registry-test", web, "Stalled", zoneRedundant)
	RolloutStarted("registry-test", web)
	RolloutCompleted("registry-test", web)
	RolledBack("registry-test", web, "ImagePullBackOff")
	RolledBack("registry-test", web, "something new")
	ObserveFailureDetection(4)
	ObserveRollback(9)
	Wakes("registry-test", WakeLater).Inc()

	if got := before("registry-test") - startedBefore; got != 1 {
		t.Errorf("RolloutStarted added %v, want 1", got)
	}
	if got := testutil.ToFloat64(defaultRecorder.rollbacks.WithLabelValues("registry-test", "ImagePullBackOff")) - rolledBackBefore; got != 1 {
		t.Errorf("RolledBack(ImagePullBackOff) added %v, want 1", got)
	}
	if got := testutil.ToFloat64(defaultRecorder.rollbacks.WithLabelValues("registry-test", OtherReason)) - otherBefore; got != 1 {
		t.Errorf("RolledBack(unknown reason) added %v to %s, want 1", got, OtherReason)
	}

	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatalf("gather the manager registry: %v", err)
	}
	found := map[string]bool{}
	for _, f := range families {
		found[f.GetName()] = true
	}
	for _, name := range []string{AppsMetric, RolloutsStartedMetric, RolloutsCompletedMetric, RollbacksMetric,
		FailureDetectionMetric, RollbackDurationMetric, WakesMetric} {
		if !found[name] {
			t.Errorf("%s is not served by the manager's registry", name)
		}
	}

	ForgetApp("registry-test", web)
	defaultRecorder.apps.mu.Lock()
	_, still := defaultRecorder.apps.apps[appKey("registry-test", web)]
	defaultRecorder.apps.mu.Unlock()
	if still {
		t.Error("ForgetApp left the app counted")
	}
}
