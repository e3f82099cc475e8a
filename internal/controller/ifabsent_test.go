package controller

import (
	"context"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/decide"
	"github.com/haoperator/ha-operator/internal/kinds"
)

// The create's precondition is the API server's behaviour, not the operator's: this checks it on the
// real API server, for every kind the operator generates, so that a Kubernetes that changed it fails
// here rather than taking over someone else's object.
var _ = Describe("A create guarded by its precondition", func() {
	It("creates each kind the operator generates, as an apply, and refuses one that exists", func() {
		ns := newNamespace()
		web := nginx(ns, "web")
		web.Spec.Autoscaling = &appsv1alpha1.AutoscalingSpec{MaxReplicas: 5}
		cron := pi(ns, "nightly")
		cron.Spec.Job.Schedule = "0 3 * * *"
		var objects []decide.Desired
		for _, app := range []*appsv1alpha1.HighlyAvailableApp{web, cassandra(ns, "db"), agent(ns, "agent"), pi(ns, "pi"), cron} {
			app.UID = types.UID("uid-" + app.Name)
			plan := decide.Decide(decide.Input{App: app, Objects: map[decide.Ref]client.Object{}, Now: time.Now()})
			Expect(plan.Problem).To(BeNil(), app.Name)
			objects = append(objects, plan.Apply...)
		}
		seen := make([]string, 0, len(objects))
		for _, d := range objects {
			Expect(d.Create).To(BeTrue(), d.String())
			seen = append(seen, d.Kind)
		}
		for _, k := range kinds.Generated() {
			Expect(seen).To(ContainElement(k.Name), "a kind the operator generates is not checked")
		}

		ctx := context.Background()
		apply := func(d decide.Desired) error {
			return k8sClient.Apply(ctx, client.ApplyConfigurationFromUnstructured(IfAbsent(d.Apply)),
				client.FieldOwner(FieldOwner), client.ForceOwnership)
		}
		for _, d := range objects {
			Expect(apply(d)).To(Succeed(), "create %s", d)
			got := kinds.NewObject(d.Kind, d.Name, ns)
			Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(got), got)).To(Succeed())
			Expect(slices.ContainsFunc(got.GetManagedFields(), func(m metav1.ManagedFieldsEntry) bool {
				return m.Manager == FieldOwner && m.Operation == "Apply"
			})).To(BeTrue(), "%s: the fields are the operator's, as an apply sets them", d)
		}
		Expect(objects[0].Apply.GetResourceVersion()).To(BeEmpty(), "the plan's object is left as it is")
		for _, d := range objects {
			err := apply(d)
			Expect(apierrors.IsConflict(err)).To(BeTrue(), "%s exists: want a conflict, got %v", d, err)
		}
	})
})
