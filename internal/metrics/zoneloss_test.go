package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestZoneLossGauges(t *testing.T) {
	z := newZoneLoss()
	z.set(shop, web, true, false, 1, 2)
	z.set(shop, "cart", true, true, 4, 2)
	want := `
# HELP haoperator_app_zone_loss_headroom Ready pods left after the loss of the zone holding most of them, minus the disruption budget's minimum: below 0 the loss is not tolerated.
# TYPE haoperator_app_zone_loss_headroom gauge
haoperator_app_zone_loss_headroom{name="cart",namespace="shop"} 2
haoperator_app_zone_loss_headroom{name="web",namespace="shop"} -1
`
	if err := testutil.CollectAndCompare(z.headroom, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	// No ready pod, then deletion: the series go.
	z.set(shop, web, false, false, 0, 0)
	z.forget(shop, "cart")
	if n := testutil.CollectAndCount(z.tolerated); n != 0 {
		t.Errorf("%d tolerated series left, want 0", n)
	}
}
