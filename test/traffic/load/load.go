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

// Package load is the traffic scenarios' harness: concurrent HTTP clients that send requests to one
// address for as long as a scenario lasts, each on a new connection (as curl in a loop does, so that
// every request goes through the Service's load balancing afresh), and count every one of them.
package load

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Options says how hard and how long to hit the target.
type Options struct {
	// URL is the address every request goes to, e.g. http://10.96.12.34/.
	URL string
	// Clients is the number of concurrent clients, each sending one request after another.
	Clients int
	// Interval is the pause of each client between two requests; it bounds the request rate.
	Interval time.Duration
	// Timeout fails a request that has not been answered within it.
	Timeout time.Duration
	// Slow is the latency above which an answered request counts as slow.
	Slow time.Duration
	// MaxRequests stops every client once this many requests were sent in all (a bound on any run).
	MaxRequests int
}

// Report is what a run saw.
type Report struct {
	// Sent counts every request; Failed those without a 200 answer within the timeout; Slow the
	// answered ones that took longer than Options.Slow.
	Sent, Failed, Slow int
	// P50 and P99 are latency percentiles over every request, failed ones included.
	P50, P99 time.Duration
	// Duration is how long the run lasted.
	Duration time.Duration
	// Errors counts the failures by kind (a short form of the error or the status code).
	Errors map[string]int
	// Versions counts the successful answers by the version the server named.
	Versions map[string]int
	// FirstFailure and LastFailure are when the first and the last failed request was sent (zero
	// when none failed).
	FirstFailure, LastFailure time.Time
}

// String is a one-line summary.
func (r Report) String() string {
	return fmt.Sprintf("%d requests in %s, %d failed, %d slow, p50 %s, p99 %s",
		r.Sent, r.Duration.Round(100*time.Millisecond), r.Failed, r.Slow, r.P50.Round(100*time.Microsecond),
		r.P99.Round(100*time.Microsecond))
}

// Run is a load generator that runs until Stop.
type Run struct {
	opts    Options
	started time.Time
	cancel  context.CancelFunc
	done    chan struct{}

	mu        sync.Mutex
	latencies []time.Duration
	report    Report
}

// Start begins sending; every client stops at Stop, when ctx ends, or at Options.MaxRequests.
func Start(ctx context.Context, opts Options) *Run {
	ctx, cancel := context.WithCancel(ctx)
	r := &Run{opts: opts, started: time.Now(), cancel: cancel, done: make(chan struct{}),
		report: Report{Errors: map[string]int{}, Versions: map[string]int{}}}
	client := &http.Client{
		Timeout: opts.Timeout,
		// A new connection for every request: no request rides on a connection to a pod that left.
		Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil},
	}
	var wg sync.WaitGroup
	for range opts.Clients {
		wg.Go(func() { r.client(ctx, client) })
	}
	go func() {
		wg.Wait()
		close(r.done)
	}()
	return r
}

func (r *Run) client(ctx context.Context, client *http.Client) {
	for ctx.Err() == nil {
		if !r.take() {
			return
		}
		begin := time.Now()
		version, failure := get(ctx, client, r.opts.URL)
		if ctx.Err() != nil && failure != "" {
			// Cut short by Stop, not by the server: not counted.
			r.untake()
			return
		}
		r.record(begin, time.Since(begin), version, failure)
		select {
		case <-ctx.Done():
		case <-time.After(r.opts.Interval):
		}
	}
}

// take reserves one request of the budget; untake gives it back.
func (r *Run) take() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.opts.MaxRequests > 0 && r.report.Sent >= r.opts.MaxRequests {
		return false
	}
	r.report.Sent++
	return true
}

func (r *Run) untake() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.report.Sent--
}

func (r *Run) record(sent time.Time, latency time.Duration, version, failure string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.latencies = append(r.latencies, latency)
	switch {
	case failure != "":
		r.report.Failed++
		r.report.Errors[failure]++
		if r.report.FirstFailure.IsZero() || sent.Before(r.report.FirstFailure) {
			r.report.FirstFailure = sent
		}
		if sent.After(r.report.LastFailure) {
			r.report.LastFailure = sent
		}
	default:
		r.report.Versions[version]++
		if latency > r.opts.Slow {
			r.report.Slow++
		}
	}
}

// get sends one request: it returns the version the server named, or why it failed.
func get(ctx context.Context, client *http.Client, url string) (version, failure string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err.Error()
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", errorKind(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return "", "read body: " + errorKind(err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", resp.Status
	}
	version, _, _ = strings.Cut(strings.TrimSpace(string(body)), " ")
	return version, ""
}

// errorKind shortens an error to its kind (connection refused, reset, timeout...), so that a
// report counts failures of one kind together.
func errorKind(err error) string {
	msg := err.Error()
	for _, kind := range []string{"connection refused", "connection reset", "Client.Timeout", "EOF",
		"no route to host", "i/o timeout", "broken pipe"} {
		if strings.Contains(msg, kind) {
			return kind
		}
	}
	return msg
}

// Stop ends the run and returns its report.
func (r *Run) Stop() Report {
	r.cancel()
	<-r.done
	return r.Snapshot()
}

// Snapshot is the report so far; the run goes on.
func (r *Run) Snapshot() Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	rep := r.report
	rep.Sent = len(r.latencies)
	rep.Duration = time.Since(r.started)
	rep.Errors = maps.Clone(r.report.Errors)
	rep.Versions = maps.Clone(r.report.Versions)
	sorted := slices.Clone(r.latencies)
	slices.Sort(sorted)
	rep.P50 = percentile(sorted, 50)
	rep.P99 = percentile(sorted, 99)
	return rep
}

// percentile of sorted latencies, by the nearest-rank method; 0 when there are none.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := (p*len(sorted) + 99) / 100
	return sorted[max(rank, 1)-1]
}
