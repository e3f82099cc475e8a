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

// Command app is the traffic scenarios' test server: a small HTTP server whose answer names its
// version and pod, with a readiness path, and a choice of what it does on SIGTERM.
//
//	-on-sigterm exit   exit at once, dropping what is in flight (like nginx's fast shutdown)
//	-on-sigterm drain  report not ready, keep serving until no request has come for -drain-idle
//	                   (the pod has left the Service's endpoints), then shut down gracefully
//	-fail-readiness    /readyz always fails: the pod never becomes Ready
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	var (
		listen        = flag.String("listen", ":80", "address to serve on")
		version       = flag.String("version", "v1", "the version the answers name")
		onSigterm     = flag.String("on-sigterm", "exit", "what SIGTERM does: exit (at once) or drain")
		drainIdle     = flag.Duration("drain-idle", time.Second, "drain: shut down once no request came for this long")
		drainMax      = flag.Duration("drain-max", 20*time.Second, "drain: shut down after this long in any case")
		failReadiness = flag.Bool("fail-readiness", false, "make /readyz fail, so the pod never becomes Ready")
	)
	flag.Parse()
	if *onSigterm != "exit" && *onSigterm != "drain" {
		log.Fatalf("-on-sigterm must be exit or drain, not %q", *onSigterm)
	}
	pod, _ := os.Hostname()

	var draining atomic.Bool
	var lastRequest atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		lastRequest.Store(time.Now().UnixNano())
		if draining.Load() {
			w.Header().Set("Connection", "close")
		}
		_, _ = fmt.Fprintf(w, "%s %s\n", *version, pod)
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if *failReadiness || draining.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		_, _ = fmt.Fprintln(w, "ok")
	})
	srv := &http.Server{Addr: *listen, Handler: mux, ReadHeaderTimeout: 5 * time.Second}

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	served := make(chan error, 1)
	go func() { served <- srv.ListenAndServe() }()
	log.Printf("%s serving on %s (on SIGTERM: %s)", *version, *listen, *onSigterm)

	select {
	case err := <-served:
		log.Fatalf("serve: %v", err)
	case sig := <-stop:
		if *onSigterm == "exit" {
			log.Printf("%v: exiting at once", sig)
			os.Exit(0)
		}
		log.Printf("%v: draining", sig)
	}
	draining.Store(true)
	lastRequest.Store(time.Now().UnixNano())
	deadline := time.Now().Add(*drainMax)
	for time.Now().Before(deadline) && time.Since(time.Unix(0, lastRequest.Load())) < *drainIdle {
		time.Sleep(100 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Printf("shutdown: %v", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		log.Printf("serve: %v", err)
	}
	log.Printf("drained")
}
