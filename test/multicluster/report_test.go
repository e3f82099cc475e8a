//go:build multicluster

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

package multicluster

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"k8s.io/apimachinery/pkg/types"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// report collects the figures of the suite, printed as tables after it: they are measured, never
// asserted.
type report struct {
	mu sync.Mutex
	// failover: the steps after a member was lost, each timed from the loss; comeback: the steps
	// after it came back, timed from then.
	failover []step
	comeback []step
	// statusWrites: for each change, from the last member reporting it to the aggregate showing it.
	statusWrites []statusWrite
	// notes are printed under the tables.
	notes []string
}

type step struct {
	name    string
	seconds float64
	setBy   string
}

type statusWrite struct {
	change  string
	latency time.Duration
}

func (r *report) addStep(name string, since time.Time, at time.Time, setBy string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failover = append(r.failover, step{name: name, seconds: at.Sub(since).Seconds(), setBy: setBy})
}

func (r *report) addReturnStep(name string, since time.Time, at time.Time, setBy string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.comeback = append(r.comeback, step{name: name, seconds: at.Sub(since).Seconds(), setBy: setBy})
}

func (r *report) addStatusWrite(change string, latency time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.statusWrites = append(r.statusWrites, statusWrite{change: change, latency: latency})
}

func (r *report) addNote(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

// render lays the figures out as Markdown tables, as `make bench` does, with the flags that set them.
func (r *report) render(flags []string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	b.WriteString("\nA member cluster lost (its API server and its nodes stopped at 0 s):\n\n")
	rows := make([][]string, 0, 1+len(r.failover))
	rows = append(rows, []string{"step", "seconds after the loss", "set by"})
	for _, s := range r.failover {
		rows = append(rows, []string{s.name, fmt.Sprintf("%.1f", s.seconds), s.setBy})
	}
	b.WriteString(table(rows))
	b.WriteString("\nThe member back (member-up returned at 0 s: its API server answering, its nodes Ready):\n\n")
	rows = make([][]string, 0, 1+len(r.comeback))
	rows = append(rows, []string{"step", "seconds after it came back", "set by"})
	for _, s := range r.comeback {
		rows = append(rows, []string{s.name, fmt.Sprintf("%.1f", s.seconds), s.setBy})
	}
	b.WriteString(table(rows))
	b.WriteString("\nThe aggregated status on Karmada after a member's status changed:\n\n")
	rows = [][]string{{"change", "last member reported it → the aggregate showed it [ms]"}}
	latencies := make([]time.Duration, 0, len(r.statusWrites))
	for _, w := range r.statusWrites {
		rows = append(rows, []string{w.change, fmt.Sprint(w.latency.Milliseconds())})
		latencies = append(latencies, w.latency)
	}
	if len(latencies) > 0 {
		slices.Sort(latencies)
		rows = append(rows,
			[]string{fmt.Sprintf("median of %d", len(latencies)), fmt.Sprint(latencies[len(latencies)/2].Milliseconds())},
			[]string{"max", fmt.Sprint(latencies[len(latencies)-1].Milliseconds())})
	}
	b.WriteString(table(rows))
	fmt.Fprintf(&b, "\nkarmada-controller-manager: %s\n", strings.Join(flags, " "))
	b.WriteString("Times are taken by polling the API servers every 50 to 100 ms, on one machine shared by " +
		"Karmada, two clusters and their operators.\n")
	for _, n := range r.notes {
		b.WriteString(n + "\n")
	}
	return b.String()
}

// table renders rows (the first is the header) as a Markdown table: columns of numbers aligned to
// the right, the others to the left.
func table(rows [][]string) string {
	widths := make([]int, len(rows[0]))
	numeric := make([]bool, len(rows[0]))
	for i := range numeric {
		numeric[i] = len(rows) > 1
	}
	for r, row := range rows {
		for i, c := range row {
			widths[i] = max(widths[i], len([]rune(c)))
			if _, err := strconv.ParseFloat(c, 64); r > 0 && err != nil {
				numeric[i] = false
			}
		}
	}
	var b strings.Builder
	line := func(row []string) {
		b.WriteString("|")
		for i, c := range row {
			pad := strings.Repeat(" ", widths[i]-len([]rune(c)))
			if numeric[i] {
				b.WriteString(" " + pad + c + " |")
			} else {
				b.WriteString(" " + c + pad + " |")
			}
		}
		b.WriteString("\n")
	}
	line(rows[0])
	b.WriteString("|")
	for i, w := range widths {
		if numeric[i] {
			b.WriteString(" " + strings.Repeat("-", w-1) + ": |")
		} else {
			b.WriteString(" " + strings.Repeat("-", w) + " |")
		}
	}
	b.WriteString("\n")
	for _, row := range rows[1:] {
		line(row)
	}
	return b.String()
}

// statusProbe times one change: when each member's copy of the app first reported it, and when the
// aggregated status on Karmada first showed it. It polls every 50 ms from its start until both are
// seen or it is stopped.
type statusProbe struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu        sync.Mutex
	members   int
	memberAt  map[string]time.Time
	aggregate time.Time
}

// probeStatusWrite starts timing a change of the app on the members named; memberShows and
// aggregateShows say whether a member's copy, and the aggregate, show it.
func probeStatusWrite(key types.NamespacedName, memberNames []string,
	memberShows, aggregateShows func(*appsv1alpha1.HighlyAvailableApp) bool) *statusProbe {
	pctx, cancel := context.WithCancel(ctx)
	p := &statusProbe{cancel: cancel, done: make(chan struct{}), members: len(memberNames),
		memberAt: map[string]time.Time{}}
	go func() {
		defer GinkgoRecover()
		defer close(p.done)
		ticker := time.NewTicker(50 * time.Millisecond)
		defer ticker.Stop()
		for {
			for _, name := range memberNames {
				if app, err := getApp(members[name], key); err == nil && memberShows(app) {
					p.mu.Lock()
					if _, seen := p.memberAt[name]; !seen {
						p.memberAt[name] = time.Now()
					}
					p.mu.Unlock()
				}
			}
			if app, err := getApp(karmada, key); err == nil && aggregateShows(app) {
				p.mu.Lock()
				if p.aggregate.IsZero() {
					p.aggregate = time.Now()
				}
				p.mu.Unlock()
			}
			p.mu.Lock()
			finished := len(p.memberAt) == len(memberNames) && !p.aggregate.IsZero()
			p.mu.Unlock()
			if finished {
				return
			}
			select {
			case <-pctx.Done():
				return
			case <-ticker.C:
			}
		}
	}()
	return p
}

// finished tells whether the members and the aggregate have all shown the change.
func (p *statusProbe) finished() bool {
	select {
	case <-p.done:
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.memberAt) == p.members && !p.aggregate.IsZero()
	default:
		return false
	}
}

// latency stops the probe and returns how long after the last member reported the change the
// aggregate showed it (0 when both were first seen by the same poll).
func (p *statusProbe) latency() time.Duration {
	p.cancel()
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	var last time.Time
	for _, at := range p.memberAt {
		if at.After(last) {
			last = at
		}
	}
	return max(p.aggregate.Sub(last), 0)
}
