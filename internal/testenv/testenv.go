// Package testenv holds what the project's envtest suites share: a real kube-apiserver and etcd
// (found through KUBEBUILDER_ASSETS) with the project's CRDs installed, a scheme that knows the API
// types, and the way a test changes an app as a user would. Only tests import it.
package testenv

import (
	"context"
	"fmt"
	"path/filepath"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// Env is a running API server with the project's CRDs, and a client for it.
type Env struct {
	*envtest.Environment
	Config *rest.Config
	Client client.Client
	Scheme *runtime.Scheme
}

// Start starts kube-apiserver and etcd and installs the CRDs of config/crd/bases; root is the
// repository's root as seen from the calling package ("../.." for internal/controller).
func Start(root string) (*Env, error) {
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(appsv1alpha1.AddToScheme(scheme))
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("start kube-apiserver and etcd (is KUBEBUILDER_ASSETS set? make envtest-assets builds them): %w", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	return &Env{Environment: env, Config: cfg, Client: c, Scheme: scheme}, nil
}

// UpdateApp changes the app's spec or metadata as a user would, reading it afresh and retrying when
// the operator's status writes got in between.
func UpdateApp(ctx context.Context, c client.Client, key client.ObjectKey, change func(*appsv1alpha1.HighlyAvailableApp)) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		app := &appsv1alpha1.HighlyAvailableApp{}
		if err := c.Get(ctx, key, app); err != nil {
			return err
		}
		change(app)
		return c.Update(ctx, app)
	})
}
