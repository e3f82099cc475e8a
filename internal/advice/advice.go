// Package advice finds the practices of highly available apps that an app does not follow: what an
// app itself must get right (a shell as PID 1, a liveness probe that equals the readiness probe, a Job
// without a deadline...) and what trips HA apps in real clusters (a zonal StorageClass that binds
// volumes before the pods are scheduled). Each rule is a pure check in the project's idiom
// (check.Func): the operator writes what For returns on status.advice, and `kubectl haapp check`
// runs the same rules on manifests without a cluster. Advice never blocks anything.
package advice

import (
	"cmp"
	"slices"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/check"
)

// The rules: the names are the API's contract (status.advice[].rule).
const (
	// NoReadinessProbe: a container of a Stateless, Stateful or Daemon app has no readiness probe,
	// and the operator gives it none (the default is off, or it declares no TCP port).
	NoReadinessProbe = "NoReadinessProbe"
	// IdenticalProbes: the liveness probe equals the readiness probe.
	IdenticalProbes = "IdenticalProbes"
	// LivenessWithoutReadiness: a liveness probe and no readiness probe, and the operator adds none.
	LivenessWithoutReadiness = "LivenessWithoutReadiness"
	// LongInitialDelay: a liveness or readiness probe waits LongInitialDelaySeconds or more before
	// its first check, and the container has no startup probe.
	LongInitialDelay = "LongInitialDelay"
	// ShellAsPID1: the container's command runs a shell script that does not exec the app.
	ShellAsPID1 = "ShellAsPID1"
	// NoResourceRequests: the container requests no CPU or no memory.
	NoResourceRequests = "NoResourceRequests"
	// MutableImage: an image without a tag, or tagged latest, and without a digest.
	MutableImage = "MutableImage"
	// UnboundedJob: a Job app without job.activeDeadlineSeconds.
	UnboundedJob = "UnboundedJob"
	// ImmediateZonalStorage: a Stateful app's StorageClass binds volumes at once, on a zonal
	// provisioner.
	ImmediateZonalStorage = "ImmediateZonalStorage"
)

// rules lists every rule name, in the order of the API's documentation.
var rules = []string{
	NoReadinessProbe, IdenticalProbes, LivenessWithoutReadiness, LongInitialDelay, ShellAsPID1,
	NoResourceRequests, MutableImage, UnboundedJob, ImmediateZonalStorage,
}

// Rules lists every rule name, in the order of the API's documentation.
func Rules() []string { return slices.Clone(rules) }

// Input is what the rules look at.
type Input struct {
	// App is the app as its spec asks for it (the user's template, before the operator's additions).
	App *appsv1alpha1.HighlyAvailableApp
	// StorageClasses are the cluster's StorageClasses (or, offline, those given with the manifests):
	// ImmediateZonalStorage reads the classes the app's storage names, and the default class (by
	// the annotation storageclass.kubernetes.io/is-default-class) for storage that names none. A
	// class that is not among them yields no advice. Only Stateful apps need them.
	StorageClasses []storagev1.StorageClass
}

// For is the advice for the app: every rule that applies, at most one per rule and container
// (container names are unique in a pod), sorted by rule then container, the whole-app advice
// (container "") first within its rule. Nil when nothing applies; the same input always gives the
// same result.
//
// A message says what is wrong, then after ": " why it matters, then after "; " what to change; the
// first part alone ("container web has no readiness probe and declares no TCP port") is a summary.
//
// The list has no bound of its own: an app with many containers that each break several rules can
// get more entries than status.advice holds (MaxItems 64), so a caller that writes it on the status
// keeps the first 64.
func For(in Input) []appsv1alpha1.Advice {
	if in.App == nil {
		return nil
	}
	var out []appsv1alpha1.Advice
	add := func(container string, rule string, message string) {
		out = append(out, appsv1alpha1.Advice{Rule: rule, Container: container, Message: message})
	}
	for _, f := range appRules {
		if rule, message, applies := f(in); applies {
			add("", rule, message)
		}
	}
	spec := &in.App.Spec.Template.Spec
	for i := range spec.InitContainers {
		c := containerInput{App: in.App, Container: &spec.InitContainers[i], Init: true}
		for _, f := range initContainerRules {
			if rule, message, applies := f(c); applies {
				add(c.Container.Name, rule, message)
			}
		}
	}
	for i := range spec.Containers {
		c := containerInput{App: in.App, Container: &spec.Containers[i]}
		for _, f := range containerRules {
			if rule, message, applies := f(c); applies {
				add(c.Container.Name, rule, message)
			}
		}
	}
	slices.SortFunc(out, func(a, b appsv1alpha1.Advice) int {
		return cmp.Or(cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Container, b.Container), cmp.Compare(a.Message, b.Message))
	})
	return out
}

// containerInput is what a per-container rule looks at: one container of the app's pod template.
type containerInput struct {
	App       *appsv1alpha1.HighlyAvailableApp
	Container *corev1.Container
	// Init is true for an init container.
	Init bool
}

// what names the container in a message: "container web" or "init container migrate".
func (c containerInput) what() string {
	if c.Init {
		return "init container " + c.Container.Name
	}
	return "container " + c.Container.Name
}

// The rules, each a check whose reason is the rule's name. Every check applies (failed is true)
// when the app does not follow the practice.
var (
	// appRules are about the whole app (container "").
	appRules = []check.Func[Input]{checkUnboundedJob, checkImmediateZonalStorage}
	// containerRules run on each container of the pod template.
	containerRules = []check.Func[containerInput]{
		checkNoReadinessProbe, checkIdenticalProbes, checkLivenessWithoutReadiness, checkLongInitialDelay,
		checkShellAsPID1, checkNoResourceRequests, checkMutableImage,
	}
	// initContainerRules run on each init container: only the image is part of what a rollback must
	// bring back; probes, signals and requests are about the containers that serve.
	initContainerRules = []check.Func[containerInput]{checkMutableImage}
)
