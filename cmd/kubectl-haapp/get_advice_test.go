package main

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/advice"
)

// TestGetTreeAdvice: the summary lists the app's advice by what is wrong, and says where the rest is.
func TestGetTreeAdvice(t *testing.T) {
	objs := world(t)
	app := objs[0].(*appsv1alpha1.HighlyAvailableApp)
	withAdvice := app.DeepCopy()
	shipper := corev1.Container{Name: "log-shipper", Image: "fluent-bit",
		Command: []string{"sh", "-c", "fluent-bit -c /etc/fb.conf"}}
	withAdvice.Spec.Template.Spec.Containers = append(withAdvice.Spec.Template.Spec.Containers, shipper)
	app.Status.Advice = advice.For(advice.Input{App: withAdvice})
	if len(app.Status.Advice) < 4 {
		t.Fatalf("the fixture gets %d pieces of advice: %+v", len(app.Status.Advice), app.Status.Advice)
	}
	for _, width := range []int{80, 100} {
		s, out, _ := newSession(t, nil, objs...)
		s.width = width
		if err := s.tree(context.Background(), appName, out); err != nil {
			t.Fatal(err)
		}
		for line := range strings.SplitSeq(out.String(), "\n") {
			if n := utf8.RuneCountInString(line); n > width {
				t.Errorf("width %d: line of %d characters: %q", width, n, line)
			}
		}
		if width == 100 {
			golden(t, "get-advice.golden", out.String())
		}
	}
}
