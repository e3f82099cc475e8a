package decide

import (
	"slices"
	"testing"
)

func TestDecideRun(t *testing.T) {
	active := func(name string, run int64) runState { return runState{name: name, run: run} }
	done := func(name string, run int64) runState { return runState{name: name, run: run, finished: true} }
	for _, tc := range []struct {
		name    string
		current string
		started bool
		jobs    []runState
		limit   int32
		want    runDecision
	}{
		{name: "first run: start it", current: "pi-1", limit: 10, want: runDecision{create: true}},
		{name: "the run exists: nothing to do", current: "pi-1", started: true, jobs: []runState{active("pi-1", 1)}, limit: 10},
		{name: "the run finished and its Job was deleted: never started again", current: "pi-1", started: true, limit: 10},
		{name: "a template change while run 1 is active: run 2 waits", current: "pi-2",
			jobs: []runState{active("pi-1", 1)}, limit: 10, want: runDecision{waitFor: "pi-1"}},
		{name: "it waits for the oldest active run", current: "pi-4",
			jobs: []runState{active("pi-3", 3), active("pi-2", 2), done("pi-1", 1)}, limit: 10, want: runDecision{waitFor: "pi-2"}},
		{name: "run 1 finished: run 2 starts", current: "pi-2",
			jobs: []runState{done("pi-1", 1)}, limit: 10, want: runDecision{create: true}},
		{name: "a run being deleted does not hold the next one", current: "pi-2",
			jobs: []runState{{name: "pi-1", run: 1, deleting: true}}, limit: 10, want: runDecision{create: true}},
		{name: "finished earlier runs beyond the limit are pruned, oldest first, the current one never", current: "pi-5", started: true,
			jobs: []runState{done("pi-5", 5), done("pi-1", 1), done("pi-4", 4), done("pi-2", 2), done("pi-3", 3)}, limit: 2,
			want: runDecision{prune: []string{"pi-2", "pi-1"}}},
		{name: "an active earlier run is never pruned", current: "pi-3",
			jobs: []runState{active("pi-1", 1), done("pi-2", 2)}, limit: 0,
			want: runDecision{waitFor: "pi-1", prune: []string{"pi-2"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := decideRun(tc.current, tc.started, tc.jobs, tc.limit)
			if got.create != tc.want.create || got.waitFor != tc.want.waitFor || !slices.Equal(got.prune, tc.want.prune) {
				t.Errorf("decideRun = %+v, want %+v", got, tc.want)
			}
		})
	}
}
