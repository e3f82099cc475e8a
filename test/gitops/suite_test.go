package gitops

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlconfig "sigs.k8s.io/controller-runtime/pkg/config"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/haoperator/ha-operator/internal/controller"
	"github.com/haoperator/ha-operator/internal/testenv"
)

// The suite runs the real reconciler against a real kube-apiserver and etcd (KUBEBUILDER_ASSETS) and
// reads the apps it writes the way GitOps tools do. envtest has no controller-manager or kubelet: the
// tests play the Deployment controller by writing Deployment status and pods by hand.
var (
	ctx       context.Context
	cancel    context.CancelFunc
	testEnv   *testenv.Env
	cfg       *rest.Config
	k8sClient client.Client
	scheme    *runtime.Scheme

	// stopOperator stops the manager and returns once it has stopped, so that a test can change an
	// app the operator will not see.
	stopOperator func()
)

const (
	timeout = 15 * time.Second
	poll    = 50 * time.Millisecond
)

func TestGitOps(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "GitOps Suite")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	ctx, cancel = context.WithCancel(context.Background())

	By("starting kube-apiserver and etcd")
	var err error
	testEnv, err = testenv.Start(filepath.Join("..", ".."))
	Expect(err).NotTo(HaveOccurred())
	cfg, k8sClient, scheme = testEnv.Config, testEnv.Client, testEnv.Scheme

	startOperator()
})

// startOperator starts the operator, wired as cmd/main.go wires it, and sets stopOperator. A test
// that stopped it starts it again, so that the containers that run after it (in random order) have an
// operator.
func startOperator() {
	By("starting the operator, wired as cmd/main.go wires it")
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:  scheme,
		Metrics: metricsserver.Options{BindAddress: "0"},
		Cache:   controller.CacheOptions(),
		// The controller of a stopped manager keeps its name registered.
		Controller: ctrlconfig.Controller{SkipNameValidation: new(true)},
	})
	Expect(err).NotTo(HaveOccurred())
	Expect(controller.NewReconciler(mgr, "cluster.local").SetupWithManager(mgr)).To(Succeed())
	mgrCtx, stopMgr := context.WithCancel(ctx)
	stopped := make(chan struct{})
	go func() {
		defer GinkgoRecover()
		defer close(stopped)
		Expect(mgr.Start(mgrCtx)).To(Succeed())
	}()
	stopOperator = func() {
		stopMgr()
		Eventually(stopped, timeout).Should(BeClosed())
	}
}

var _ = AfterSuite(func() {
	if stopOperator != nil {
		stopOperator()
	}
	cancel()
	Expect(testEnv.Stop()).To(Succeed())
})
