package decide

import (
	"testing"
	"time"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// FuzzDecide drives the decision with fuzzed sequences of what happens to an app (each byte of
// steps is one event) and checks that it never panics and that the model test's invariants hold
// after every step.
func FuzzDecide(f *testing.F) {
	f.Add(false, uint8(3), []byte{0, 5, 4, 6, 1, 6, 2, 6, 3, 6})
	f.Add(true, uint8(1), []byte{0, 0, 0, 4, 4, 7, 8, 1, 1})
	f.Add(true, uint8(6), []byte{3, 3, 2, 2, 0, 6, 6, 6, 6, 6})
	images := []string{"nginx:1", "nginx:2", "nginx:1.91", ""}
	f.Fuzz(func(t *testing.T, stateful bool, replicas uint8, steps []byte) {
		typ := appsv1alpha1.Stateless
		if stateful {
			typ = appsv1alpha1.Stateful
		}
		w := newWorld(newApp(typ, "nginx:1"))
		n := int32(replicas % 8)
		w.app.Spec.Replicas = &n
		w.app.Spec.Rollout = &appsv1alpha1.RolloutSpec{ProgressDeadlineSeconds: new(int32(30))}
		state := podReady
		if len(steps) > 64 {
			steps = steps[:64]
		}
		for i, b := range steps {
			switch b % 8 {
			case 0:
				w.app.Spec.Template.Spec.Containers[0].Image = images[int(b/8)%len(images)]
				w.app.Generation++
			case 1:
				m := int32(b/8) % 8
				w.app.Spec.Replicas = &m
				w.app.Generation++
			case 2:
				w.app.Spec.Rollout.Paused = !w.app.Spec.Rollout.Paused
			case 3:
				if w.app.Spec.Autoscaling == nil {
					w.app.Spec.Autoscaling = &appsv1alpha1.AutoscalingSpec{MaxReplicas: 8}
				} else {
					w.app.Spec.Autoscaling = nil
				}
			case 4:
				state = podState(int(b/8) % 5)
			default:
				w.now = w.now.Add(time.Duration(b) * time.Second)
			}
			w.simulate(state)
			in := w.input()
			p := Decide(in)
			checkInvariants(t, w, in, p, func() string { return "step " + string(rune('0'+i%10)) })
			w.act(p)
		}
	})
}
