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
	"os"
	"runtime/debug"
	"time"

	// Import all Kubernetes client auth plugins (e.g. Azure, GCP, OIDC, etc.)
	// to ensure that exec-entrypoint and run can make use of them.
	_ "k8s.io/client-go/plugin/pkg/client/auth"

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

// nolint:gocyclo
func main() {
	var metricsAddr string
	var metricsCertPath, metricsCertName, metricsCertKey string
	var clusterDomain string
	var enableLeaderElection bool
	var leaderElectionNamespace string
	var gracefulShutdownTimeout, reconcileTimeout, leaderElectionRetryPeriod time.Duration
	var allowedServiceTypes string
	var probeAddr, pprofAddr string
	var secureMetrics bool
	var enableHTTP2 bool
	var maxConcurrentReconciles int
	var kubeAPIQPS float64
	var kubeAPIBurst int
	var wakeWindow time.Duration
	var tlsOpts []func(*tls.Config)
	flag.StringVar(&metricsAddr, "metrics-bind-address", "0", "The address the metrics endpoint binds to. "+
		"Use :8443 for HTTPS or :8080 for HTTP, or leave as 0 to disable the metrics service.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "The address the probe endpoint binds to.")
	flag.StringVar(&pprofAddr, "pprof-bind-address", "0", "The address Go's profiles are served on (/debug/pprof/), "+
		"over plain HTTP and without authentication: bind it to localhost. 0 turns them off.")
	flag.BoolVar(&enableLeaderElection, "leader-elect", false,
		"Enable leader election for controller manager. "+
			"Enabling this will ensure there is only one active controller manager.")
	flag.StringVar(&leaderElectionNamespace, "leader-election-namespace", "",
		"The namespace of the leader election Lease. Empty: the namespace the manager runs in, which a manager "+
			"running outside the cluster does not have, so it must set this.")
	// A standby checks the Lease every retry period (plus up to 120% jitter), and counts the lease
	// duration (15 s) from the last time it saw it renewed: it takes over at most about two of its
	// checks after the lease runs out, 2.2 s with 500 ms, against 8.8 s with client-go's 2 s.
	flag.DurationVar(&leaderElectionRetryPeriod, "leader-election-retry-period", 500*time.Millisecond,
		"How often the leader renews the Lease and a standby checks it.")
	flag.DurationVar(&gracefulShutdownTimeout, "graceful-shutdown-timeout", defaultGracefulShutdownTimeout,
		"How long the manager waits on shutdown for running reconciles to finish before it exits. Keep it "+
			"below the pod's terminationGracePeriodSeconds.")
	flag.DurationVar(&reconcileTimeout, "reconcile-timeout", 2*time.Minute,
		"The longest one reconcile may take: its requests are cancelled after that and the app is retried, "+
			"so that a hung API call cannot hold a worker for ever.")
	flag.StringVar(&allowedServiceTypes, "allowed-service-types", "ClusterIP,NodePort,LoadBalancer",
		"Comma-separated Service types apps may ask for in spec.service.type (ClusterIP, NodePort, LoadBalancer); "+
			"an app asking for another type is refused, naming spec.service.type.")
	flag.BoolVar(&secureMetrics, "metrics-secure", true,
		"If set, the metrics endpoint is served securely via HTTPS. Use --metrics-secure=false to use HTTP instead.")
	flag.StringVar(&clusterDomain, "cluster-domain", workload.DefaultClusterDomain,
		"The cluster's DNS domain, used in the stable names of Stateful pods (HA_PEERS).")
	flag.StringVar(&metricsCertPath, "metrics-cert-path", "",
		"The directory that contains the metrics server certificate.")
	flag.StringVar(&metricsCertName, "metrics-cert-name", "tls.crt", "The name of the metrics server certificate file.")
	flag.StringVar(&metricsCertKey, "metrics-cert-key", "tls.key", "The name of the metrics server key file.")
	flag.BoolVar(&enableHTTP2, "enable-http2", false,
		"If set, HTTP/2 will be enabled for the metrics server")
	// A reconcile mostly waits on the API server: at 1,000 apps, 16 workers brought the catch-up from
	// 1.76 to 1.28 times the floor's time against 4, and 64 all Ready from 1.43-1.60 to 1.33-1.34
	// times against 16 (docs/scaling.md).
	flag.IntVar(&maxConcurrentReconciles, "max-concurrent-reconciles", 64,
		"How many apps are reconciled at the same time. One app is never reconciled by two workers at once.")
	// client-go's defaults (20 and 30) would make the operator's own client the bottleneck of a
	// catch-up: each new app needs about five requests. The API server protects itself with its
	// priority and fairness; these are the same figures as kube-controller-manager runs with here.
	flag.Float64Var(&kubeAPIQPS, "kube-api-qps", 100,
		"The most requests per second the operator sends to the API server, on average.")
	flag.IntVar(&kubeAPIBurst, "kube-api-burst", 200,
		"The most requests the operator sends to the API server in a burst, above --kube-api-qps.")
	flag.DurationVar(&wakeWindow, "wake-window", controller.DefaultWakeWindow,
		"How long the progress of an app's pods and workload (a pod scheduled or ready, the workload's counts) may "+
			"wait before the app is reconciled, so that a burst of such events makes one reconcile. Changes, "+
			"deletions, failure signals and a workload reaching or leaving its goal wake the app at once. 0: "+
			"every event at once.")
	opts := zap.Options{
		Development: true,
	}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()

	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))

	serviceTypes, err := workload.ParseServiceTypes(allowedServiceTypes)
	if err != nil {
		setupLog.Error(err, "Invalid --allowed-service-types")
		os.Exit(1)
	}
	if gracefulShutdownTimeout < 0 || reconcileTimeout <= 0 {
		setupLog.Error(nil, "--graceful-shutdown-timeout must not be negative and --reconcile-timeout must be positive",
			"graceful-shutdown-timeout", gracefulShutdownTimeout, "reconcile-timeout", reconcileTimeout)
		os.Exit(1)
	}
	memLimit, setMemLimit, err := softMemoryLimit(os.Getenv("GOMEMLIMIT"), os.Getenv(envMemoryLimit))
	if err != nil {
		setupLog.Error(err, "Invalid memory limit")
		os.Exit(1)
	}
	if setMemLimit {
		debug.SetMemoryLimit(memLimit)
		setupLog.Info("Set the Go runtime's soft memory limit to 90% of the container's", "bytes", memLimit)
	}

	// if the enable-http2 flag is false (the default), http/2 should be disabled
	// due to its vulnerabilities. More specifically, disabling http/2 will
	// prevent from being vulnerable to the HTTP/2 Stream Cancellation and
	// Rapid Reset CVEs. For more information see:
	// - https://github.com/advisories/GHSA-qppj-fm5r-hxr3
	// - https://github.com/advisories/GHSA-4374-p667-p6c8
	disableHTTP2 := func(c *tls.Config) {
		setupLog.Info("Disabling HTTP/2")
		c.NextProtos = []string{"http/1.1"}
	}

	if !enableHTTP2 {
		tlsOpts = append(tlsOpts, disableHTTP2)
	}

	// Metrics endpoint is enabled in 'config/default/kustomization.yaml'. The Metrics options configure the server.
	// More info:
	// - https://pkg.go.dev/sigs.k8s.io/controller-runtime@v0.25.0/pkg/metrics/server
	// - https://book.kubebuilder.io/reference/metrics.html
	metricsServerOptions := metricsserver.Options{
		BindAddress:   metricsAddr,
		SecureServing: secureMetrics,
		TLSOpts:       tlsOpts,
	}

	if secureMetrics {
		// FilterProvider is used to protect the metrics endpoint with authn/authz.
		// These configurations ensure that only authorized users and service accounts
		// can access the metrics endpoint. The RBAC are configured in 'config/rbac/kustomization.yaml'. More info:
		// https://pkg.go.dev/sigs.k8s.io/controller-runtime@v0.25.0/pkg/metrics/filters#WithAuthenticationAndAuthorization
		metricsServerOptions.FilterProvider = filters.WithAuthenticationAndAuthorization
	}

	// If the certificate is not specified, controller-runtime will automatically
	// generate self-signed certificates for the metrics server. While convenient for development and testing,
	// this setup is not recommended for production.
	//
	// Without a certificate, controller-runtime serves metrics with a self-signed one; in production,
	// mount one (cert-manager's, say) and point --metrics-cert-path at it.
	if len(metricsCertPath) > 0 {
		setupLog.Info("Initializing metrics certificate watcher using provided certificates",
			"metrics-cert-path", metricsCertPath, "metrics-cert-name", metricsCertName, "metrics-cert-key", metricsCertKey)

		metricsServerOptions.CertDir = metricsCertPath
		metricsServerOptions.CertName = metricsCertName
		metricsServerOptions.KeyName = metricsCertKey
	}

	if wakeWindow < 0 {
		setupLog.Error(nil, "--wake-window must not be negative", "wake-window", wakeWindow)
		os.Exit(1)
	}
	if kubeAPIQPS <= 0 || kubeAPIBurst < 1 {
		setupLog.Error(nil, "--kube-api-qps must be positive and --kube-api-burst at least 1",
			"kube-api-qps", kubeAPIQPS, "kube-api-burst", kubeAPIBurst)
		os.Exit(1)
	}
	if maxConcurrentReconciles < 1 {
		setupLog.Error(nil, "--max-concurrent-reconciles must be at least 1", "value", maxConcurrentReconciles)
		os.Exit(1)
	}
	cacheOptions := controller.CacheOptions()

	restConfig := ctrl.GetConfigOrDie()
	restConfig.QPS, restConfig.Burst = float32(kubeAPIQPS), kubeAPIBurst
	// The API server's warnings about the operator's writes (Pod Security, deprecations) become Events
	// on the app they concern.
	restConfig.WarningHandlerWithContext = controller.WarningHandler{}
	mgr, err := ctrl.NewManager(restConfig, ctrl.Options{
		Scheme:                  scheme,
		Metrics:                 metricsServerOptions,
		Cache:                   cacheOptions,
		HealthProbeBindAddress:  probeAddr,
		PprofBindAddress:        pprofAddr,
		LeaderElection:          enableLeaderElection,
		LeaderElectionID:        "9a46c84c.haoperator.dev",
		LeaderElectionNamespace: leaderElectionNamespace,
		// The leader steps down as it stops, so that the other replica takes over at once instead of
		// after the lease expires. Safe because the program ends as soon as the manager returns.
		LeaderElectionReleaseOnCancel: true,
		RetryPeriod:                   &leaderElectionRetryPeriod,
		GracefulShutdownTimeout:       &gracefulShutdownTimeout,
		Controller: config.Controller{MaxConcurrentReconciles: maxConcurrentReconciles,
			ReconciliationTimeout: reconcileTimeout},
	})
	if err != nil {
		setupLog.Error(err, "Failed to start manager")
		os.Exit(1)
	}

	reconciler := controller.NewReconciler(mgr, clusterDomain)
	reconciler.Options.AllowedServiceTypes = serviceTypes
	reconciler.WakeWindow = wakeWindow
	if err := reconciler.SetupWithManager(mgr); err != nil {
		setupLog.Error(err, "Failed to create controller", "controller", "highlyavailableapp")
		os.Exit(1)
	}
	// +kubebuilder:scaffold:builder

	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		setupLog.Error(err, "Failed to set up health check")
		os.Exit(1)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		setupLog.Error(err, "Failed to set up ready check")
		os.Exit(1)
	}

	setupLog.Info("Starting manager")
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		setupLog.Error(err, "Failed to run manager")
		os.Exit(1)
	}
}
