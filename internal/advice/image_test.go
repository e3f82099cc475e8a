package advice

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

func TestMutableImage(t *testing.T) {
	image := func(ref string) *appsv1alpha1.HighlyAvailableApp {
		return withWeb(appsv1alpha1.Stateless, func(c *corev1.Container) { c.Image = ref })
	}
	const digest = "@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31"
	untagged := []string{"has no tag, so it means latest", "a rollback cannot bring the old code back", "name a version tag"}
	runContainerCases(t, MutableImage, checkMutableImage, []containerCase{
		{name: "a version tag", app: image("nginx:1.27.2")},
		{name: "no tag", app: image("nginx"), applies: true, says: append(untagged, "(nginx:1.2.3)", "(nginx@sha256:...)")},
		{name: "latest", app: image("nginx:latest"), applies: true, says: []string{"is tagged latest", "(nginx:1.2.3)"}},
		{name: "a registry with a port and no tag", app: image("registry.local:5000/team/app"), applies: true,
			says: append(untagged, "(registry.local:5000/team/app:1.2.3)")},
		{name: "a registry with a port and a tag", app: image("registry.local:5000/team/app:2.1")},
		{name: "a registry with a port and latest", app: image("registry.local:5000/app:latest"), applies: true,
			says: []string{"is tagged latest", "(registry.local:5000/app:1.2.3)"}},
		{name: "a digest", app: image("nginx" + digest)},
		{name: "latest with a digest", app: image("nginx:latest" + digest)},
		{name: "a port and a digest", app: image("registry.local:5000/app" + digest)},
		{name: "a tag that is not latest but looks odd", app: image("quay.io/org/app:Latest")},
		{name: "an at sign that is not a digest", app: image("nginx@latest"), applies: true},
	})
}

// TestMutableImageInitContainers: an init container's image is part of the revision too.
func TestMutableImageInitContainers(t *testing.T) {
	app := goodApp(appsv1alpha1.Stateless)
	init := goodContainer("migrate")
	init.Image = "flyway/flyway"
	app.Spec.Template.Spec.InitContainers = []corev1.Container{init}
	got := For(Input{App: app})
	if len(got) != 1 || got[0].Rule != MutableImage || got[0].Container != "migrate" {
		t.Fatalf("got %+v, want MutableImage on migrate", got)
	}
	assertResult(t, MutableImage, got[0].Rule, got[0].Message, true, true, []string{"init container migrate runs image flyway/flyway"})
}
