// Package metrics defines the operator's Prometheus metrics: how many apps are in each phase and
// resilience, how many rollouts start, complete and are rolled back, and how long failure detection
// and rollbacks take. The collectors are registered on controller-runtime's registry, so the manager
// serves them on its secure metrics endpoint beside the controller-runtime metrics.
package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Metric names, for the docs and for tests.
const (
	AppsMetric              = "haoperator_apps"
	RolloutsStartedMetric   = "haoperator_rollouts_started_total"
	RolloutsCompletedMetric = "haoperator_rollouts_completed_total"
	RollbacksMetric         = "haoperator_rollbacks_total"
	FailureDetectionMetric  = "haoperator_failure_detection_seconds"
	RollbackDurationMetric  = "haoperator_rollback_duration_seconds"
	WakesMetric             = "haoperator_wakes_total"
)

// namespaceLabel is the label of the counters that says which namespace the app is in.
const namespaceLabel = "namespace"

// unknownLabel stands for a phase or resilience the app does not report yet.
const unknownLabel = "Unknown"

// OtherReason is the reason label of a rollback whose reason is not in RollbackReasons.
const OtherReason = "Other"

// RollbackReasons are the values the reason label of haoperator_rollbacks_total takes: the failure
// signals the operator acts on. Any other reason is counted as OtherReason, so that a free-form
// message can never create a new series.
var RollbackReasons = []string{
	"CrashLoopBackOff",
	"ImagePullBackOff",
	"ErrImagePull",
	"ErrImageNeverPull",
	"InvalidImageName",
	"CreateContainerConfigError",
	"CreateContainerError",
	"OOMKilled",
	"Unschedulable",
	"ProgressDeadlineExceeded",
}

// durationBuckets suit durations from a second to tens of minutes: a failing pod is usually seen
// within seconds, while the progress deadline (600 s by default) bounds the slowest detection and a
// rollback waits for pods to start and pass their readiness probes.
var durationBuckets = []float64{1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200}

// recorder holds every collector; the package functions use the one registered on controller-runtime's
// registry, and tests make their own.
type recorder struct {
	apps *appsCollector
	// The counters carry a namespace label but no app name. Namespaces are few and long-lived (a
	// team's tenancy, the unit most clusters alert and bill by), so namespace × reason stays small;
	// app names grow with every app ever created, preview apps included, and counters cannot be
	// forgotten the way a gauge can. The story of one app is in its status and Events.
	rolloutsStarted   *prometheus.CounterVec
	rolloutsCompleted *prometheus.CounterVec
	rollbacks         *prometheus.CounterVec
	failureDetection  prometheus.Histogram
	rollbackDuration  prometheus.Histogram
	knownReasons      map[string]bool
	zoneLoss          *zoneLoss
	wakes             *prometheus.CounterVec
}

func newRecorder() *recorder {
	r := &recorder{
		apps: newAppsCollector(),
		rolloutsStarted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: RolloutsStartedMetric,
			Help: "Rollouts started: the spec asked for a new revision and the operator began rolling it out.",
		}, []string{namespaceLabel}),
		rolloutsCompleted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: RolloutsCompletedMetric,
			Help: "Rollouts completed: every replica runs the new revision and is available.",
		}, []string{namespaceLabel}),
		rollbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: RollbacksMetric,
			Help: "Automatic rollbacks of a failed update to the last good revision, by failure reason.",
		}, []string{namespaceLabel, "reason"}),
		failureDetection: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    FailureDetectionMetric,
			Help:    "Seconds from the start of an update to the operator's verdict that it failed.",
			Buckets: durationBuckets,
		}),
		rollbackDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    RollbackDurationMetric,
			Help:    "Seconds from a failure verdict to the workload being ready again on the last good revision.",
			Buckets: durationBuckets,
		}),
		knownReasons: make(map[string]bool, len(RollbackReasons)),
		zoneLoss:     newZoneLoss(),
		wakes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: WakesMetric,
			Help: "Apps queued for a reconcile, by what woke them and how soon: the watch events of each kind, and the looks again the reconciler asked for.",
		}, []string{"source", "urgency"}),
	}
	for _, reason := range RollbackReasons {
		r.knownReasons[reason] = true
	}
	return r
}

func (r *recorder) collectors() []prometheus.Collector {
	return []prometheus.Collector{r.apps, r.rolloutsStarted, r.rolloutsCompleted, r.rollbacks, r.failureDetection, r.rollbackDuration,
		r.zoneLoss.tolerated, r.zoneLoss.headroom, r.wakes}
}

func (r *recorder) rollbackReason(reason string) string {
	if r.knownReasons[reason] {
		return reason
	}
	return OtherReason
}

var defaultRecorder = newRecorder()

func init() {
	ctrlmetrics.Registry.MustRegister(defaultRecorder.collectors()...)
}

// SetAppState records the phase (Ready, Progressing, Stalled, Paused...) and resilience
// (ZoneRedundant, NodeRedundant, SinglePointOfFailure, Unavailable) an app reports now. Each app
// counts once in haoperator_apps, under its latest state; an empty value counts as Unknown. The state
// lives only in memory: after a restart the gauge fills again as each app is reconciled.
func SetAppState(namespace, name, phase, resilience string) {
	defaultRecorder.apps.set(appKey(namespace, name), phase, resilience)
}

// ForgetApp removes a deleted app from haoperator_apps.
func ForgetApp(namespace, name string) {
	defaultRecorder.apps.forget(appKey(namespace, name))
	defaultRecorder.zoneLoss.forget(namespace, name)
}

// RolloutStarted counts a rollout of a new revision of the app. name identifies the app to the
// caller but is not a label (see recorder).
func RolloutStarted(namespace, name string) {
	defaultRecorder.rolloutStarted(namespace)
}

// RolloutCompleted counts a rollout that reached every replica. name is not a label (see recorder).
func RolloutCompleted(namespace, name string) {
	defaultRecorder.rolloutCompleted(namespace)
}

// RolledBack counts an automatic rollback; reason is the failure signal (one of RollbackReasons,
// any other value counts as OtherReason). name is not a label (see recorder).
func RolledBack(namespace, name, reason string) {
	defaultRecorder.rolledBack(namespace, reason)
}

// ObserveFailureDetection records the seconds from the start of an update to the verdict that it
// failed.
func ObserveFailureDetection(seconds float64) {
	defaultRecorder.failureDetection.Observe(seconds)
}

// ObserveRollback records the seconds from a failure verdict to the workload being ready again on the
// last good revision.
func ObserveRollback(seconds float64) {
	defaultRecorder.rollbackDuration.Observe(seconds)
}

// The urgency label of haoperator_wakes_total.
const (
	// WakeNow: the app is queued at once (a change someone made, a deletion, a failure, the goal).
	WakeNow = "now"
	// WakeSoon: progress, queued for the wake window.
	WakeSoon = "soon"
	// WakeInitial: an object listed when the manager starts.
	WakeInitial = "initial"
	// WakeLater: the reconciler asked to look again after a while.
	WakeLater = "later"
)

// Wakes is the counter of the apps that source (a kind, or why the reconciler looks again) queues
// with urgency (WakeNow, WakeSoon, WakeInitial, WakeLater). Both labels come from the code, never
// from an object, so the series are few; the caller keeps the counter.
func Wakes(source, urgency string) prometheus.Counter {
	return defaultRecorder.wakes.WithLabelValues(source, urgency)
}

func (r *recorder) rolloutStarted(namespace string) {
	r.rolloutsStarted.WithLabelValues(namespace).Inc()
}

func (r *recorder) rolloutCompleted(namespace string) {
	r.rolloutsCompleted.WithLabelValues(namespace).Inc()
}

func (r *recorder) rolledBack(namespace, reason string) {
	r.rollbacks.WithLabelValues(namespace, r.rollbackReason(reason)).Inc()
}

// appState is the last state an app reported.
type appState struct {
	phase, resilience string
}

// appsCollector counts apps by their last reported state. Keeping each app's state (rather than
// incrementing and decrementing a gauge) makes SetAppState idempotent: a reconcile that reports the
// same state again changes nothing, and an app never counts twice.
type appsCollector struct {
	desc *prometheus.Desc
	mu   sync.Mutex
	apps map[types.NamespacedName]appState
	// seen holds every state any app has been in, so that a state no app is in any more reports 0
	// rather than vanishing (graphs and rate() read a series that drops to 0 better than a gap). It
	// is bounded by phases × resiliences.
	seen map[appState]bool
}

func newAppsCollector() *appsCollector {
	return &appsCollector{
		desc: prometheus.NewDesc(AppsMetric,
			"HighlyAvailableApps by the phase and the resilience they report.",
			[]string{"phase", "resilience"}, nil),
		apps: map[types.NamespacedName]appState{},
		seen: map[appState]bool{},
	}
}

func (c *appsCollector) set(app types.NamespacedName, phase, resilience string) {
	if phase == "" {
		phase = unknownLabel
	}
	if resilience == "" {
		resilience = unknownLabel
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	state := appState{phase: phase, resilience: resilience}
	c.apps[app] = state
	c.seen[state] = true
}

func (c *appsCollector) forget(app types.NamespacedName) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.apps, app)
}

// Describe implements prometheus.Collector.
func (c *appsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.desc
}

// Collect implements prometheus.Collector: one gauge per state that an app is or has been in.
func (c *appsCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	counts := make(map[appState]int, len(c.seen))
	for state := range c.seen {
		counts[state] = 0
	}
	for _, state := range c.apps {
		counts[state]++
	}
	c.mu.Unlock()
	for state, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), state.phase, state.resilience)
	}
}

func appKey(namespace, name string) types.NamespacedName {
	return types.NamespacedName{Namespace: namespace, Name: name}
}
