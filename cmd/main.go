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

package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	// Import all Kubernetes client auth plugins (e.g. Azure, GCP, OIDC, etc.)
	// to ensure that exec-entrypoint and run can make use of them.
	_ "k8s.io/client-go/plugin/pkg/client/auth"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
	"github.com/haoperator/ha-operator/internal/controller"
	"github.com/haoperator/ha-operator/internal/workload"
	// +kubebuilder:scaffold:imports
)

// defaultGracefulShutdownTimeout is how long a stopping manager waits for running reconciles unless
// --graceful-shutdown-timeout says otherwise; config/manager's pod grace period is longer.
const defaultGracefulShutdownTimeout = 30 * time.Second

var (
	scheme   = runtime.NewScheme()
	setupLog = ctrl.Log.WithName("setup")
)

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))

	utilruntime.Must(appsv1alpha1.AddToScheme(scheme))
	// +kubebuilder:scaffold:scheme
}

func main() {
	opts, zapOpts, err := parseOptions(flag.CommandLine, os.Args[1:])
	if err == nil {
		err = opts.validate()
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(zapOpts)))
	if err != nil {
		setupLog.Error(err, "Invalid flags")
		os.Exit(1)
	}
	if err := run(opts); err != nil {
		setupLog.Error(err, "Failed to run the manager")
		os.Exit(1)
	}
}

// options are the manager's settings, from its flags.
type options struct {
	metricsAddr                                      string
	metricsCertPath, metricsCertName, metricsCertKey string
	secureMetrics, enableHTTP2                       bool
	probeAddr, pprofAddr                             string
	clusterDomain                                    string
	enableLeaderElection                             bool
	leaderElectionNamespace                          string
	leaderElectionRetryPeriod                        time.Duration
	gracefulShutdownTimeout, reconcileTimeout        time.Duration
	allowedServiceTypes                              string
	maxConcurrentReconciles                          int
	kubeAPIQPS                                       float64
	kubeAPIBurst                                     int
	wakeWindow                                       time.Duration

	// serviceTypes are allowedServiceTypes, read by validate.
	serviceTypes []corev1.ServiceType
}

// parseOptions reads the manager's flags from args, and the logger's. The logger writes JSON at the
// info level unless --zap-devel or the other --zap-* flags say otherwise.
func parseOptions(fs *flag.FlagSet, args []string) (*options, *zap.Options, error) {
	o := &options{}
	fs.StringVar(&o.metricsAddr, "metrics-bind-address", "0", "The address the metrics endpoint binds to. "+
		"Use :8443 for HTTPS or :8080 for HTTP, or leave as 0 to disable the metrics service.")
	fs.StringVar(&o.probeAddr, "health-probe-bind-address", ":8081", "The address the probe endpoint binds to.")
	fs.StringVar(&o.pprofAddr, "pprof-bind-address", "0", "The address Go's profiles are served on (/debug/pprof/), "+
		"over plain HTTP and without authentication: bind it to localhost. 0 turns them off.")
	fs.BoolVar(&o.enableLeaderElection, "leader-elect", false,
		"Enable leader election for controller manager. "+
			"Enabling this will ensure there is only one active controller manager.")
	fs.StringVar(&o.leaderElectionNamespace, "leader-election-namespace", "",
		"The namespace of the leader election Lease. Empty: the namespace the manager runs in, which a manager "+
			"running outside the cluster does not have, so it must set this.")
	// A standby checks the Lease every retry period (plus up to 120% jitter), and counts the lease
	// duration (15 s) from the last time it saw it renewed: it takes over at most about two of its
	// checks after the lease runs out, 2.2 s with 500 ms, against 8.8 s with client-go's 2 s.
	fs.DurationVar(&o.leaderElectionRetryPeriod, "leader-election-retry-period", 500*time.Millisecond,
		"How often the leader renews the Lease and a standby checks it.")
	fs.DurationVar(&o.gracefulShutdownTimeout, "graceful-shutdown-timeout", defaultGracefulShutdownTimeout,
		"How long the manager waits on shutdown for running reconciles to finish before it exits. Keep it "+
			"below the pod's terminationGracePeriodSeconds.")
	fs.DurationVar(&o.reconcileTimeout, "reconcile-timeout", 2*time.Minute,
		"The longest one reconcile may take: its requests are cancelled after that and the app is retried, "+
			"so that a hung API call cannot hold a worker for ever.")
	fs.StringVar(&o.allowedServiceTypes, "allowed-service-types", "ClusterIP,NodePort,LoadBalancer",
		"Comma-separated Service types apps may ask for in spec.service.type (ClusterIP, NodePort, LoadBalancer); "+
			"an app asking for another type is refused, naming spec.service.type.")
	fs.BoolVar(&o.secureMetrics, "metrics-secure", true,
		"If set, the metrics endpoint is served securely via HTTPS. Use --metrics-secure=false to use HTTP instead.")
	fs.StringVar(&o.clusterDomain, "cluster-domain", workload.DefaultClusterDomain,
		"The cluster's DNS domain, used in the stable names of Stateful pods (HA_PEERS).")
	fs.StringVar(&o.metricsCertPath, "metrics-cert-path", "",
		"The directory that contains the metrics server certificate.")
	fs.StringVar(&o.metricsCertName, "metrics-cert-name", "tls.crt", "The name of the metrics server certificate file.")
	fs.StringVar(&o.metricsCertKey, "metrics-cert-key", "tls.key", "The name of the metrics server key file.")
	fs.BoolVar(&o.enableHTTP2, "enable-http2", false,
		"If set, HTTP/2 will be enabled for the metrics server")
	// A reconcile mostly waits on the API server: at 1,000 apps, 16 workers brought the catch-up from
	// 1.76 to 1.28 times the floor's time against 4, and 64 all Ready from 1.43-1.60 to 1.33-1.34
	// times against 16 (docs/scaling.md).
	fs.IntVar(&o.maxConcurrentReconciles, "max-concurrent-reconciles", 64,
		"How many apps are reconciled at the same time. One app is never reconciled by two workers at once.")
	// client-go's defaults (20 and 30) would make the operator's own client the bottleneck of a
	// catch-up: each new app needs about five requests. The API server protects itself with its
	// priority and fairness; these are the same figures as kube-controller-manager runs with here.
	fs.Float64Var(&o.kubeAPIQPS, "kube-api-qps", 100,
		"The most requests per second the operator sends to the API server, on average.")
	fs.IntVar(&o.kubeAPIBurst, "kube-api-burst", 200,
		"The most requests the operator sends to the API server in a burst, above --kube-api-qps.")
	fs.DurationVar(&o.wakeWindow, "wake-window", controller.DefaultWakeWindow,
		"How long the progress of an app's pods and workload (a pod scheduled or ready, the workload's counts) may "+
			"wait before the app is reconciled, so that a burst of such events makes one reconcile. Changes, "+
			"deletions, failure signals and a workload reaching or leaving its goal wake the app at once. 0: "+
			"every event at once.")
	zapOpts := &zap.Options{}
	zapOpts.BindFlags(fs)
	return o, zapOpts, fs.Parse(args)
}

// validate checks the flags that can be wrong, naming the flag.
func (o *options) validate() error {
	var err error
	if o.serviceTypes, err = workload.ParseServiceTypes(o.allowedServiceTypes); err != nil {
		return fmt.Errorf("--allowed-service-types: %w", err)
	}
	switch {
	case o.gracefulShutdownTimeout < 0:
		return fmt.Errorf("--graceful-shutdown-timeout must not be negative, not %s", o.gracefulShutdownTimeout)
	case o.reconcileTimeout <= 0:
		return fmt.Errorf("--reconcile-timeout must be positive, not %s", o.reconcileTimeout)
	case o.wakeWindow < 0:
		return fmt.Errorf("--wake-window must not be negative, not %s", o.wakeWindow)
	case o.kubeAPIQPS <= 0:
		return fmt.Errorf("--kube-api-qps must be positive, not %v", o.kubeAPIQPS)
	case o.kubeAPIBurst < 1:
		return fmt.Errorf("--kube-api-burst must be at least 1, not %d", o.kubeAPIBurst)
	case o.maxConcurrentReconciles < 1:
		return fmt.Errorf("--max-concurrent-reconciles must be at least 1, not %d", o.maxConcurrentReconciles)
	}
	return nil
}

// run starts the manager with the operator's controller and serves until a signal stops it.
func run(o *options) error {
	memLimit, setMemLimit, err := softMemoryLimit(os.Getenv("GOMEMLIMIT"), os.Getenv(envMemoryLimit))
	if err != nil {
		return fmt.Errorf("memory limit: %w", err)
	}
	if setMemLimit {
		debug.SetMemoryLimit(memLimit)
		setupLog.Info("Set the Go runtime's soft memory limit to 90% of the container's", "bytes", memLimit)
	}
	restConfig, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	restConfig.QPS, restConfig.Burst = float32(o.kubeAPIQPS), o.kubeAPIBurst
	// The API server's warnings about the operator's writes (Pod Security, deprecations) become Events
	// on the app they concern.
	restConfig.WarningHandlerWithContext = controller.WarningHandler{}
	mgr, err := ctrl.NewManager(restConfig, ctrl.Options{
		Scheme:                  scheme,
		Metrics:                 o.metricsServer(),
		Cache:                   controller.CacheOptions(),
		HealthProbeBindAddress:  o.probeAddr,
		PprofBindAddress:        o.pprofAddr,
		LeaderElection:          o.enableLeaderElection,
		LeaderElectionID:        "9a46c84c.haoperator.dev",
		LeaderElectionNamespace: o.leaderElectionNamespace,
		// The leader steps down as it stops, so that the other replica takes over at once instead of
		// after the lease expires. Safe because the program ends as soon as the manager returns.
		LeaderElectionReleaseOnCancel: true,
		RetryPeriod:                   &o.leaderElectionRetryPeriod,
		GracefulShutdownTimeout:       &o.gracefulShutdownTimeout,
		Controller: config.Controller{MaxConcurrentReconciles: o.maxConcurrentReconciles,
			ReconciliationTimeout: o.reconcileTimeout},
	})
	if err != nil {
		return fmt.Errorf("start manager: %w", err)
	}
	reconciler := controller.NewReconciler(mgr, o.clusterDomain)
	reconciler.Options.AllowedServiceTypes = o.serviceTypes
	reconciler.WakeWindow = o.wakeWindow
	if err := reconciler.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("create controller highlyavailableapp: %w", err)
	}
	// +kubebuilder:scaffold:builder
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return fmt.Errorf("set up health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return fmt.Errorf("set up ready check: %w", err)
	}
	setupLog.Info("Starting manager")
	return mgr.Start(ctrl.SetupSignalHandler())
}

// metricsServer configures the metrics endpoint (enabled in config/default/kustomization.yaml): over
// HTTPS with authentication and authorization by default (the RBAC of config/rbac), HTTP/2 off
// unless --enable-http2 (the HTTP/2 Stream Cancellation and Rapid Reset CVEs: GHSA-qppj-fm5r-hxr3,
// GHSA-4374-p667-p6c8), and without a certificate a self-signed one; in production, mount one
// (cert-manager's, say) and point --metrics-cert-path at it.
func (o *options) metricsServer() metricsserver.Options {
	var tlsOpts []func(*tls.Config)
	if !o.enableHTTP2 {
		tlsOpts = append(tlsOpts, func(c *tls.Config) {
			setupLog.Info("Disabling HTTP/2")
			c.NextProtos = []string{"http/1.1"}
		})
	}
	opts := metricsserver.Options{BindAddress: o.metricsAddr, SecureServing: o.secureMetrics, TLSOpts: tlsOpts}
	if o.secureMetrics {
		opts.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	if o.metricsCertPath != "" {
		setupLog.Info("Initializing metrics certificate watcher using provided certificates",
			"metrics-cert-path", o.metricsCertPath, "metrics-cert-name", o.metricsCertName, "metrics-cert-key", o.metricsCertKey)
		opts.CertDir, opts.CertName, opts.KeyName = o.metricsCertPath, o.metricsCertName, o.metricsCertKey
	}
	return opts
}
