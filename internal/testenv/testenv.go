// Package testenv holds what the project's envtest suites share: a real kube-apiserver and etcd
// (from KUBEBUILDER_ASSETS, or else from bin/ at the module's root) with the project's CRDs
// installed, a scheme that knows the API types, and the way a test changes an app as a user would.
// Only tests import it.
package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
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
// repository's root as seen from the calling package ("../.." for internal/controller). The binaries
// come from KUBEBUILDER_ASSETS when it is set, else from bin/ at the module's root, where `make
// envtest-assets` builds them: a plain `go test ./...` needs no environment variable.
func Start(root string) (*Env, error) {
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(appsv1alpha1.AddToScheme(scheme))
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, fmt.Errorf("working directory: %w", err)
		}
		bin, err := BinDir(wd)
		if err != nil {
			return nil, err
		}
		env.BinaryAssetsDirectory = bin
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("start kube-apiserver and etcd (make envtest-assets builds them into bin/): %w", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	return &Env{Environment: env, Config: cfg, Client: c, Scheme: scheme}, nil
}

// BinDir returns bin/ at the root of the module that holds dir (a test runs in its package's
// directory), after checking that kube-apiserver and etcd are there.
func BinDir(dir string) (string, error) {
	root, err := moduleRoot(dir)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(root, "bin")
	for _, name := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(bin, name)); err != nil {
			return "", fmt.Errorf("KUBEBUILDER_ASSETS is not set and %s is missing (make envtest-assets builds it): %w",
				filepath.Join(bin, name), err)
		}
	}
	return bin, nil
}

// moduleRoot walks up from dir to the nearest directory with a go.mod.
func moduleRoot(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		_, err := os.Stat(filepath.Join(d, "go.mod"))
		if err == nil {
			return d, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("look for go.mod in %s: %w", d, err)
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod in %s or any directory above it", dir)
		}
	}
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
