package main

import (
	"math/rand/v2"
	"slices"

	"k8s.io/utils/ptr"
)

// changeKind is what one change of the soak's churn does.
type changeKind string

const (
	// replaceApp deletes an app and creates a new one under a new name, so that the number of apps
	// stays the same while the apps the operator has seen keep growing.
	replaceApp changeKind = "replace"
	// changeImage gives an app's container another image: a new revision and a rolling update.
	changeImage changeKind = "image"
	// changeScale gives an app another replica count.
	changeScale changeKind = "scale"
)

// changeOrder is the order the kinds of change take turns in.
var changeOrder = []changeKind{replaceApp, changeImage, changeScale}

// The replica counts a scale change picks from.
const (
	soakMinReplicas = 2
	soakMaxReplicas = 5
)

// soakImages are the images an image change picks from; none is one the cluster cannot pull.
var soakImages = []string{imageStart, imageChurn, "nginx:1.7.11"}

// soakStep is one change of the soak's churn.
type soakStep struct {
	Kind changeKind
	// App is the app changed, or deleted by a replacement.
	App string
	// New is the app a replacement creates.
	New string
	// Image is the image an image change sets, Replicas the count a scale change sets.
	Image    string
	Replicas int32
}

// soakPlan draws the churn's changes from a seeded source, so that a run can be repeated change for
// change: in turn an app replaced, an image changed and a replica count changed, each on an app
// picked at random among those that exist then, and each an actual change (another image, another
// count). It keeps the number of apps it started with.
type soakPlan struct {
	rng *rand.Rand
	// live are the apps that exist, in the order they were created.
	live     []string
	image    map[string]string
	replicas map[string]int32
	// created are the replica counts the live apps were created with.
	created map[string]int32
	// named is how many app names were given, the next app's index.
	named int
	steps int
}

// newSoakPlan is the plan of a churn on the n apps the bench creates first (appName(0) to
// appName(n-1)), its random choices drawn from seed.
func newSoakPlan(seed uint64, n int) *soakPlan {
	p := &soakPlan{rng: rand.New(rand.NewPCG(seed, 0)), image: map[string]string{}, replicas: map[string]int32{},
		created: map[string]int32{}}
	for range n {
		p.add()
	}
	return p
}

// add names a new app, as the bench creates it.
func (p *soakPlan) add() string {
	name := appName(p.named)
	p.named++
	app := newApp(appNamespace, name)
	p.live = append(p.live, name)
	p.image[name] = templateImage(app.Spec.Template.Spec)
	p.replicas[name] = ptr.Deref(app.Spec.Replicas, 1)
	p.created[name] = p.replicas[name]
	return name
}

// next is the plan's next change.
func (p *soakPlan) next() soakStep {
	kind := changeOrder[p.steps%len(changeOrder)]
	p.steps++
	i := p.rng.IntN(len(p.live))
	step := soakStep{Kind: kind, App: p.live[i]}
	switch kind {
	case replaceApp:
		p.live = slices.Delete(p.live, i, i+1)
		delete(p.image, step.App)
		delete(p.replicas, step.App)
		delete(p.created, step.App)
		step.New = p.add()
	case changeImage:
		step.Image = pickOther(p.rng, soakImages, p.image[step.App])
		p.image[step.App] = step.Image
	case changeScale:
		counts := make([]int32, 0, soakMaxReplicas-soakMinReplicas+1)
		for r := int32(soakMinReplicas); r <= soakMaxReplicas; r++ {
			counts = append(counts, r)
		}
		step.Replicas = pickOther(p.rng, counts, p.replicas[step.App])
		p.replicas[step.App] = step.Replicas
	}
	return step
}

// restores are the scale changes that take every live app back to the replica count it was created
// with, in the order the apps were created: after them the apps hold as many pods as before the
// churn, so that what the operator keeps can be set against what it kept then. The images stay as the
// churn left them: going back to an image is one more rollout, and the revision records the churn
// added are history the apps keep (up to their revisionHistoryLimit).
func (p *soakPlan) restores() []soakStep {
	var steps []soakStep
	for _, name := range p.live {
		if want := p.created[name]; p.replicas[name] != want {
			steps = append(steps, soakStep{Kind: changeScale, App: name, Replicas: want})
			p.replicas[name] = want
		}
	}
	return steps
}

// pickOther picks one of the options other than current at random.
func pickOther[T comparable](rng *rand.Rand, options []T, current T) T {
	others := slices.DeleteFunc(slices.Clone(options), func(o T) bool { return o == current })
	return others[rng.IntN(len(others))]
}
