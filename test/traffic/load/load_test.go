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

package load

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestRunCountsEveryRequest(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		switch i := n.Add(1); {
		case i%10 == 0:
			http.Error(w, "down", http.StatusServiceUnavailable)
		case i%10 == 5:
			time.Sleep(30 * time.Millisecond)
			_, _ = fmt.Fprintln(w, "v2 pod-b")
		default:
			_, _ = fmt.Fprintln(w, "v1 pod-a")
		}
	}))
	defer srv.Close()

	run := Start(context.Background(), Options{URL: srv.URL, Clients: 4, Interval: time.Millisecond,
		Timeout: time.Second, Slow: 20 * time.Millisecond, MaxRequests: 200})
	deadline := time.After(10 * time.Second)
	for run.Snapshot().Sent < 200 {
		select {
		case <-deadline:
			t.Fatalf("200 requests not sent within 10s: %s", run.Snapshot())
		case <-time.After(10 * time.Millisecond):
		}
	}
	rep := run.Stop()
	if rep.Sent != 200 {
		t.Fatalf("Sent = %d, want 200 (MaxRequests)", rep.Sent)
	}
	if rep.Failed != 20 || rep.Errors["503 Service Unavailable"] != 20 {
		t.Errorf("Failed = %d, Errors = %v; want 20 answers 503", rep.Failed, rep.Errors)
	}
	if rep.Slow != 20 || rep.Versions["v2"] != 20 || rep.Versions["v1"] != 160 {
		t.Errorf("Slow = %d, Versions = %v; want 20 slow v2 and 160 v1", rep.Slow, rep.Versions)
	}
	if rep.P99 < 30*time.Millisecond || rep.P50 >= 30*time.Millisecond {
		t.Errorf("p50 = %s, p99 = %s: want p50 fast and p99 among the 30ms answers", rep.P50, rep.P99)
	}
}

func TestRunCountsRefusedConnections(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more

	run := Start(context.Background(), Options{URL: url, Clients: 2, Interval: time.Millisecond,
		Timeout: time.Second, Slow: time.Second, MaxRequests: 10})
	deadline := time.After(10 * time.Second)
	for run.Snapshot().Sent < 10 {
		select {
		case <-deadline:
			t.Fatalf("10 requests not sent within 10s: %s", run.Snapshot())
		case <-time.After(10 * time.Millisecond):
		}
	}
	rep := run.Stop()
	if rep.Failed != 10 || rep.Errors["connection refused"] != 10 {
		t.Errorf("Failed = %d, Errors = %v; want 10 refused", rep.Failed, rep.Errors)
	}
	if rep.FirstFailure.IsZero() || rep.LastFailure.Before(rep.FirstFailure) {
		t.Errorf("FirstFailure = %v, LastFailure = %v", rep.FirstFailure, rep.LastFailure)
	}
}

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	for _, tc := range []struct {
		sorted []time.Duration
		p      int
		want   time.Duration
	}{
		{nil, 50, 0},
		{ms(7), 99, 7 * time.Millisecond},
		{ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{ms(1, 2, 3, 4), 99, 4 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 50, 5 * time.Millisecond},
	} {
		if got := percentile(tc.sorted, tc.p); got != tc.want {
			t.Errorf("percentile(%v, %d) = %s, want %s", tc.sorted, tc.p, got, tc.want)
		}
	}
}
