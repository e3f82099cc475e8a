/*
Copyright 2026.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package controller

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/haoperator/ha-operator/internal/testenv"
)

// The suite runs the real reconciler in a manager against a real kube-apiserver and etcd (built from
// source, found through KUBEBUILDER_ASSETS). envtest has no controller-manager, scheduler or kubelet:
// the tests play their part by writing workload and pod status by hand.

var (
	ctx       context.Context
	cancel    context.CancelFunc
	testEnv   *testenv.Env
	k8sClient client.Client
	// operatorCache is the operator's cache, with its indexes.
	operatorCache cache.Cache
	// writes counts every write the operator's client sends (create, update, patch, apply, delete,
	// status included), by the namespace of the object written: the apps of earlier specs live on in
	// theirs, and may still have something to do.
	writes writeCounts
	// clock is the reconciler's clock; tests move it forward to pass deadlines.
	clock atomic.Pointer[time.Time]
)

func TestControllers(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Controller Suite")
}

// writeCounts counts writes by namespace ("" for cluster-scoped objects).
type writeCounts struct{ byNamespace sync.Map }

func (w *writeCounts) add(obj client.Object) {
	n, _ := w.byNamespace.LoadOrStore(obj.GetNamespace(), new(atomic.Int64))
	n.(*atomic.Int64).Add(1)
}

func (w *writeCounts) addApplied(obj runtime.ApplyConfiguration) {
	ns := ""
	switch o := obj.(type) {
	case interface{ GetNamespace() string }: // an unstructured apply configuration
		ns = o.GetNamespace()
	case interface{ GetNamespace() *string }: // a typed one
		ns = ptr.Deref(o.GetNamespace(), "")
	}
	n, _ := w.byNamespace.LoadOrStore(ns, new(atomic.Int64))
	n.(*atomic.Int64).Add(1)
}

// in is the number of writes so far to objects in the namespace.
func (w *writeCounts) in(ns string) int64 {
	n, ok := w.byNamespace.Load(ns)
	if !ok {
		return 0
	}
	return n.(*atomic.Int64).Load()
}

// countingClient counts every write the operator sends, status included; reads go to the cache.
type countingClient struct{ client.Client }

func (c countingClient) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	writes.add(obj)
	return c.Client.Create(ctx, obj, opts...)
}

func (c countingClient) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	writes.add(obj)
	return c.Client.Update(ctx, obj, opts...)
}

func (c countingClient) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	writes.add(obj)
	return c.Client.Patch(ctx, obj, patch, opts...)
}

func (c countingClient) Apply(ctx context.Context, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
	writes.addApplied(obj)
	return c.Client.Apply(ctx, obj, opts...)
}

func (c countingClient) Delete(ctx context.Context, obj client.Object, opts ...client.DeleteOption) error {
	writes.add(obj)
	return c.Client.Delete(ctx, obj, opts...)
}

func (c countingClient) Status() client.SubResourceWriter {
	return countingStatus{c.Client.Status()}
}

type countingStatus struct{ client.SubResourceWriter }

func (c countingStatus) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	writes.add(obj)
	return c.SubResourceWriter.Patch(ctx, obj, patch, opts...)
}

func (c countingStatus) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	writes.add(obj)
	return c.SubResourceWriter.Update(ctx, obj, opts...)
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	ctx, cancel = context.WithCancel(context.TODO())

	By("starting kube-apiserver and etcd")
	var err error
	testEnv, err = testenv.Start(filepath.Join("..", ".."))
	Expect(err).NotTo(HaveOccurred())
	k8sClient = testEnv.Client

	By("starting the operator")
	now := time.Now()
	clock.Store(&now)
	operatorConfig := rest.CopyConfig(testEnv.Config)
	operatorConfig.WarningHandlerWithContext = WarningHandler{}
	mgr, err := ctrl.NewManager(operatorConfig, ctrl.Options{
		Scheme:  testEnv.Scheme,
		Metrics: metricsserver.Options{BindAddress: "0"},
		Cache:   CacheOptions(),
		NewClient: func(config *rest.Config, options client.Options) (client.Client, error) {
			c, err := client.New(config, options)
			if err != nil {
				return nil, err
			}
			return countingClient{c}, nil
		},
	})
	Expect(err).NotTo(HaveOccurred())
	r := NewReconciler(mgr, "cluster.local")
	r.Now = func() time.Time { return *clock.Load() }
	Expect(r.SetupWithManager(mgr)).To(Succeed())
	operatorCache = mgr.GetCache()
	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
})

var _ = AfterSuite(func() {
	cancel()
	Expect(testEnv.Stop()).To(Succeed())
})
