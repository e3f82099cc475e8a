package main

import (
	"maps"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

// The same seed gives the same changes, change for change: a soak can be run again as it was.
func TestSoakPlanIsReproducible(t *testing.T) {
	want := []soakStep{
		{Kind: replaceApp, App: "app-0001", New: "app-0003"},
		{Kind: changeImage, App: "app-0000", Image: imageChurn},
		{Kind: changeScale, App: "app-0000", Replicas: 5},
		{Kind: replaceApp, App: "app-0002", New: "app-0004"},
		{Kind: changeImage, App: "app-0004", Image: imageChurn},
		{Kind: changeScale, App: "app-0000", Replicas: 2},
	}
	p := newSoakPlan(1, 3)
	for i, w := range want {
		if got := p.next(); got != w {
			t.Errorf("seed 1, change %d = %+v, want %+v", i, got, w)
		}
	}
	a, b, other := newSoakPlan(42, 100), newSoakPlan(42, 100), newSoakPlan(43, 100)
	differs := false
	for i := range 300 {
		sa, sb, so := a.next(), b.next(), other.next()
		if sa != sb {
			t.Fatalf("change %d: %+v, then %+v from the same seed", i, sa, sb)
		}
		differs = differs || sa != so
	}
	if !differs {
		t.Error("seeds 42 and 43 gave the same 300 changes")
	}
}

// Every change is a change to an app that exists then, the kinds take turns, and the number of apps
// stays the same.
func TestSoakPlanChanges(t *testing.T) {
	for _, tc := range []struct {
		name  string
		seed  uint64
		apps  int
		steps int
	}{
		{"one app", 7, 1, 300},
		{"a few apps", 1, 5, 3000},
		{"the bench's default", 2, 200, 3000},
		{"the issue's size, 30 minutes at 2 a second", 1, 1000, 3600},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newSoakPlan(tc.seed, tc.apps)
			live := map[string]bool{}
			image, replicas := map[string]string{}, map[string]int32{}
			for i := range tc.apps {
				live[appName(i)], image[appName(i)], replicas[appName(i)] = true, imageStart, 3
			}
			named := map[string]bool{}
			for name := range live {
				named[name] = true
			}
			for i := range tc.steps {
				s := p.next()
				if want := changeOrder[i%len(changeOrder)]; s.Kind != want {
					t.Fatalf("change %d is a %s, want a %s", i, s.Kind, want)
				}
				if !live[s.App] {
					t.Fatalf("change %d (%+v) is to an app that does not exist", i, s)
				}
				switch s.Kind {
				case replaceApp:
					if named[s.New] {
						t.Fatalf("change %d creates %s, a name given before", i, s.New)
					}
					delete(live, s.App)
					live[s.New], named[s.New], image[s.New], replicas[s.New] = true, true, imageStart, 3
				case changeImage:
					if s.Image == image[s.App] || !slices.Contains(soakImages, s.Image) {
						t.Fatalf("change %d sets %s on %s, which has %s", i, s.Image, s.App, image[s.App])
					}
					image[s.App] = s.Image
				case changeScale:
					if s.Replicas == replicas[s.App] || s.Replicas < soakMinReplicas || s.Replicas > soakMaxReplicas {
						t.Fatalf("change %d scales %s to %d from %d", i, s.App, s.Replicas, replicas[s.App])
					}
					replicas[s.App] = s.Replicas
				}
				if len(live) != tc.apps {
					t.Fatalf("after change %d: %d apps, want %d", i, len(live), tc.apps)
				}
			}
		})
	}
}

func TestSettleState(t *testing.T) {
	app := func(name string, replicas int32, ready bool) appsv1alpha1.HighlyAvailableApp {
		a := *newApp(appNamespace, name)
		a.Spec.Replicas = new(replicas)
		a.Generation, a.Status.ObservedGeneration = 2, 2
		status := metav1.ConditionFalse
		if ready {
			status = metav1.ConditionTrue
		}
		a.Status.Conditions = []metav1.Condition{{Type: appsv1alpha1.ConditionReady, Status: status}}
		return a
	}
	deleting := app("app-0009", 3, true)
	deleting.DeletionTimestamp = &metav1.Time{}
	deployment := func(name string, replicas, available int32) appsv1.Deployment {
		return appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: name, Generation: 1,
				Labels: map[string]string{appsv1alpha1.LabelInstance: name}},
			Spec: appsv1.DeploymentSpec{Replicas: new(replicas)},
			Status: appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: available, UpdatedReplicas: available,
				ReadyReplicas: available, AvailableReplicas: available},
		}
	}
	for _, tc := range []struct {
		name        string
		apps        []appsv1alpha1.HighlyAvailableApp
		deployments []appsv1.Deployment
		want        settleState
		settled     bool
	}{
		{"every app Ready with its Deployment",
			[]appsv1alpha1.HighlyAvailableApp{app("app-0000", 3, true), app("app-0001", 5, true)},
			[]appsv1.Deployment{deployment("app-0000", 3, 3), deployment("app-0001", 5, 5)},
			settleState{Apps: 2, Deployments: 2}, true},
		{"an app not Ready",
			[]appsv1alpha1.HighlyAvailableApp{app("app-0000", 3, true), app("app-0001", 3, false)},
			[]appsv1.Deployment{deployment("app-0000", 3, 3), deployment("app-0001", 3, 3)},
			settleState{Apps: 2, NotReady: 1, Deployments: 2}, false},
		{"a Deployment not yet scaled to the app's replicas",
			[]appsv1alpha1.HighlyAvailableApp{app("app-0000", 4, true)},
			[]appsv1.Deployment{deployment("app-0000", 3, 3)},
			settleState{Apps: 1, NotReady: 1, Deployments: 1}, false},
		{"a Deployment still rolling",
			[]appsv1alpha1.HighlyAvailableApp{app("app-0000", 3, true)},
			[]appsv1.Deployment{deployment("app-0000", 3, 2)},
			settleState{Apps: 1, NotReady: 1, Deployments: 1}, false},
		{"a new app without its Deployment yet",
			[]appsv1alpha1.HighlyAvailableApp{app("app-0000", 3, true), app("app-0001", 3, false)},
			[]appsv1.Deployment{deployment("app-0000", 3, 3)},
			settleState{Apps: 2, NotReady: 1, Deployments: 1}, false},
		{"a deleted app's Deployment not yet collected",
			[]appsv1alpha1.HighlyAvailableApp{app("app-0000", 3, true)},
			[]appsv1.Deployment{deployment("app-0000", 3, 3), deployment("app-0005", 3, 3)},
			settleState{Apps: 1, Deployments: 2}, false},
		{"an app being deleted",
			[]appsv1alpha1.HighlyAvailableApp{app("app-0000", 3, true), deleting},
			[]appsv1.Deployment{deployment("app-0000", 3, 3)},
			settleState{Apps: 1, Deleting: 1, Deployments: 1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := settleStateOf(tc.apps, tc.deployments)
			if got != tc.want || got.settled() != tc.settled {
				t.Errorf("settleStateOf = %v (settled %v), want %v (settled %v)", got, got.settled(), tc.want, tc.settled)
			}
		})
	}
}

// Scaling back takes every live app, and only those a scale change left elsewhere, to the replicas it
// was created with; once done, there is nothing left to scale back.
func TestSoakPlanRestores(t *testing.T) {
	p := newSoakPlan(3, 50)
	for range 600 {
		p.next()
	}
	want := map[string]int32{}
	for _, name := range p.live {
		if p.replicas[name] != 3 {
			want[name] = 3
		}
	}
	if len(want) == 0 {
		t.Fatal("600 changes left every app at 3 replicas: the test shows nothing")
	}
	steps := p.restores()
	got := map[string]int32{}
	for _, s := range steps {
		if s.Kind != changeScale {
			t.Errorf("a restore is a %s, want a scale change: %+v", s.Kind, s)
		}
		got[s.App] = s.Replicas
	}
	if len(got) != len(steps) || !maps.Equal(got, want) {
		t.Errorf("restores %v, want %v", got, want)
	}
	for _, name := range p.live {
		if p.replicas[name] != 3 {
			t.Errorf("%s at %d replicas after the restores", name, p.replicas[name])
		}
	}
	if again := p.restores(); len(again) != 0 {
		t.Errorf("restores a second time: %+v", again)
	}
}

func TestSoakFigures(t *testing.T) {
	const mebibyte = 1 << 20
	run := soakRun{
		Empty:    memory{Heap: 10 * mebibyte},
		Before:   soakSample{Apps: 1000, memory: memory{Heap: 50 * mebibyte, Goroutines: 120}},
		After:    soakSample{Apps: 1000, memory: memory{Heap: 54 * mebibyte, Goroutines: 121}},
		Restored: soakSample{Apps: 1000, memory: memory{Heap: 51 * mebibyte, Goroutines: 190}},
		// Events for series: 1 MiB before, 2 MiB scaled back.
		EventSeriesPerAppBeforeKiB: 1.024, EventSeriesPerAppRestoredKiB: 2.048,
		Series: []soakSample{{memory: memory{Goroutines: 180}}, {memory: memory{Goroutines: 130}}},
	}
	soakFigures(&run)
	for _, tc := range []struct {
		name      string
		got, want float64
	}{
		{"heap per app before, KiB", run.HeapPerAppBeforeKiB, 40.96},
		{"heap per app after, KiB", run.HeapPerAppAfterKiB, 45.056},
		{"heap per app, after / before", run.HeapPerAppRatio, 1.1},
		{"heap, after / before", run.HeapRatio, 1.08},
		{"heap per app scaled back, KiB", run.HeapPerAppRestoredKiB, 41.984},
		{"heap, scaled back / before", run.HeapRestoredRatio, 1.02},
		{"heap less the Events for series, scaled back / before", run.HeapRestoredLessEventsRatio, 1}, // (51 - 2) / (50 - 1)
		{"most goroutines", run.MaxGoroutines, 190},
	} {
		if diff := tc.got - tc.want; diff > 1e-9 || diff < -1e-9 {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

func TestSoakRows(t *testing.T) {
	run := soakRun{
		HeapPerAppBeforeKiB: 40, HeapPerAppAfterKiB: 41, HeapPerAppRatio: 1.025, HeapRatio: 1.01,
		HeapPerAppRestoredKiB: 40.5, HeapRestoredRatio: 1.005, HeapRestoredLessEventsRatio: 0.995, Restores: 640,
		Before: soakSample{memory: memory{RSS: 200 << 20, Goroutines: 120}},
		After:  soakSample{memory: memory{RSS: 210 << 20, Goroutines: 121}}, MaxGoroutines: 180,
		Done: soakCounts{Creates: 1200, Deletes: 1200, ImageChanges: 1200, ScaleChanges: 1199, Failed: 1},
	}
	rowsOf := func(r results) map[string]row {
		byName := map[string]row{}
		for _, x := range tableRows(r) {
			byName[x.Name] = x
		}
		return byName
	}
	ran := rowsOf(results{Ran: []string{soakPhase}, Soak: run})
	for name, want := range map[string]float64{
		"soak: Go heap per app, before":                              40,
		"soak: Go heap per app, after":                               41,
		"soak: Go heap per app, after / before":                      1.025,
		"soak: Go heap, after / before":                              1.01,
		"soak: Go heap per app, apps scaled back":                    40.5,
		"soak: Go heap, apps scaled back / before":                   1.005,
		"soak: apps scaled back to their first replicas":             640,
		"soak: the same, less the Events client-go keeps for series": 0.995,
		"soak: RSS, before":                                          200,
		"soak: RSS, after":                                           210,
		"soak: goroutines, before":                                   120,
		"soak: goroutines, after":                                    121,
		"soak: goroutines, most in a sample":                         180,
		"soak: apps created":                                         1200,
		"soak: apps deleted":                                         1200,
		"soak: image changes":                                        1200,
		"soak: scale changes":                                        1199,
		"soak: changes the API server refused":                       1,
	} {
		if got := ran[name].Op; got == nil || *got != want {
			t.Errorf("%s = %s, want %v", name, formatFigure(got), want)
		}
	}
	failed := rowsOf(results{Failed: []string{"soak: the apps did not settle"}, Soak: run})
	if x, ok := failed["soak: Go heap per app, after"]; !ok || x.Op != nil {
		t.Errorf("a failed soak: heap per app after = %s (row shown: %v), want –", formatFigure(x.Op), ok)
	}
	for name := range rowsOf(results{Ran: []string{"catchup"}, Soak: run}) {
		if strings.HasPrefix(name, "soak:") {
			t.Errorf("row %q without the soak phase", name)
		}
	}
}

func TestSelectPhases(t *testing.T) {
	for _, tc := range []struct {
		list    string
		want    []string
		wantErr bool
	}{
		{list: strings.Join(phaseNames, ","), want: phaseNames},
		{list: "soak", want: []string{soakPhase}},
		{list: "catchup,soak", want: []string{"catchup", soakPhase}},
		{list: "soak,nope", wantErr: true},
	} {
		got, err := selectPhases(tc.list)
		if (err != nil) != tc.wantErr {
			t.Errorf("selectPhases(%q): error %v, want one: %v", tc.list, err, tc.wantErr)
			continue
		}
		names := make([]string, 0, len(got))
		for name := range got {
			names = append(names, name)
		}
		slices.Sort(names)
		want := slices.Sorted(slices.Values(tc.want))
		if !tc.wantErr && !slices.Equal(names, want) {
			t.Errorf("selectPhases(%q) = %v, want %v", tc.list, names, want)
		}
	}
	if slices.Contains(phaseNames, soakPhase) {
		t.Error("the soak runs by default")
	}
}

func TestSoakNote(t *testing.T) {
	run := soakRun{Apps: 1000, NodesPerZone: 19, Seed: 7, ChangesPerSecond: 2, ChurnSeconds: 1800, SettleSeconds: 12.5,
		Empty: memory{Heap: 20 << 20}, EventSeriesPerAppBeforeKiB: 4.1, EventSeriesPerAppAfterKiB: 2.5,
		EventSeriesPerAppRestoredKiB: 3.2, Restores: 640,
		HeapProfiles: []string{"logs/soak-heap-before.pb.gz", "logs/soak-heap-after.pb.gz", "logs/soak-heap-restored.pb.gz"}}
	note := soakNote(results{Ran: []string{soakPhase}, Soak: run})
	for _, part := range []string{"1000 apps on 57 nodes", "for 30m0s, 2 changes a second (seed 7)",
		"with no app (20.0 MiB)", "settled 12.5 s after", "another count (640)",
		"4.1 KiB per app before, 2.5 after, 3.2 scaled back",
		"-diff_base logs/soak-heap-before.pb.gz logs/soak-heap-restored.pb.gz."} {
		if !strings.Contains(note, part) {
			t.Errorf("the note lacks %q:\n%s", part, note)
		}
	}
	if note := soakNote(results{Failed: []string{"soak: timed out"}}); !strings.Contains(note, "failed") {
		t.Errorf("a failed soak's note: %q", note)
	}
}
