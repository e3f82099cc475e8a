package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Zone-loss metric names.
const (
	ZoneLossToleratedMetric = "haoperator_app_zone_loss_tolerated"
	ZoneLossHeadroomMetric  = "haoperator_app_zone_loss_headroom"
)

// zoneLoss holds the per-app zone-loss gauges. Unlike the counters they name the app: an alert on a
// zone loss must say which app it is, and a gauge is deleted with its app, so the series do not
// outlive the apps.
type zoneLoss struct {
	tolerated *prometheus.GaugeVec
	headroom  *prometheus.GaugeVec
}

func newZoneLoss() *zoneLoss {
	labels := []string{namespaceLabel, "name"}
	return &zoneLoss{
		tolerated: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: ZoneLossToleratedMetric,
			Help: "1 when the app keeps its disruption budget's minimum of ready pods if the zone (on a one-zone cluster, the node) holding most of them is lost, else 0 (status.zoneLoss.tolerated).",
		}, labels),
		headroom: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: ZoneLossHeadroomMetric,
			Help: "Ready pods left after the loss of the zone holding most of them, minus the disruption budget's minimum: below 0 the loss is not tolerated.",
		}, labels),
	}
}

func (z *zoneLoss) set(namespace, name string, known, tolerated bool, remaining, minimum int32) {
	if !known {
		z.forget(namespace, name)
		return
	}
	v := 0.0
	if tolerated {
		v = 1
	}
	z.tolerated.WithLabelValues(namespace, name).Set(v)
	z.headroom.WithLabelValues(namespace, name).Set(float64(remaining - minimum))
}

func (z *zoneLoss) forget(namespace, name string) {
	z.tolerated.DeleteLabelValues(namespace, name)
	z.headroom.DeleteLabelValues(namespace, name)
}

// SetZoneLoss records an app's zone-loss headroom; known is false while the app has no ready pod, and
// then its series are removed.
func SetZoneLoss(namespace, name string, known, tolerated bool, remaining, minimum int32) {
	defaultRecorder.zoneLoss.set(namespace, name, known, tolerated, remaining, minimum)
}
