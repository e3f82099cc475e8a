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
		switch n.Add(1) % 10 {
		case 0:
			http.Error(w, "down", http.StatusServiceUnavailable)
		case 5:
			time.Sleep(300 * time.Millisecond)
			_, _ = fmt.Fprintln(w, "v2 pod-b")
		default:
			_, _ = fmt.Fprintln(w, "v1 pod-a")
		}
	}))
	defer srv.Close()

	run := Start(context.Background(), Options{URL: srv.URL, Clients: 4, Interval: time.Millisecond,
		Timeout: 2 * time.Second, Slow: 250 * time.Millisecond, MaxRequests: 200})
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
	if rep.Versions["v2"] != 20 || rep.Versions["v1"] != 160 {
		t.Errorf("Versions = %v; want 20 v2 and 160 v1", rep.Versions)
	}
	// The 20 answers delayed by 300ms are slow; on a busy machine a few others may be too.
	if rep.Slow < 20 || rep.Slow > 30 {
		t.Errorf("Slow = %d, want the 20 delayed answers (and at most a few more)", rep.Slow)
	}
	if rep.P99 < 300*time.Millisecond || rep.P50 >= 300*time.Millisecond {
		t.Errorf("p50 = %s, p99 = %s: want p50 below and p99 among the 300ms answers", rep.P50, rep.P99)
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
