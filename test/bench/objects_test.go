package main

import (
	"slices"
	"testing"
)

// With -apps-per-namespace the apps fill namespaces in order, each namespace listed once, and only
// the apps' namespaces count as theirs.
func TestAppsPerNamespace(t *testing.T) {
	for _, tc := range []struct {
		n, per int
		want   []string
		last   string
	}{
		{n: 5, per: 0, want: []string{"bench"}, last: "bench"},
		{n: 5, per: 2, want: []string{"bench-ns000", "bench-ns001", "bench-ns002"}, last: "bench-ns002"},
		{n: 4, per: 2, want: []string{"bench-ns000", "bench-ns001"}, last: "bench-ns001"},
		{n: 3, per: 100, want: []string{"bench-ns000"}, last: "bench-ns000"},
	} {
		b := &bench{n: tc.n, perNamespace: tc.per}
		if got := b.appNamespaces(); !slices.Equal(got, tc.want) {
			t.Errorf("n=%d per=%d: namespaces %v, want %v", tc.n, tc.per, got, tc.want)
		}
		apps := b.apps()
		if got := apps[len(apps)-1].Namespace; got != tc.last {
			t.Errorf("n=%d per=%d: the last app is in %s, want %s", tc.n, tc.per, got, tc.last)
		}
		if got := b.appNamespaces(floorNamespace); got[len(got)-1] != floorNamespace {
			t.Errorf("n=%d per=%d: the extra namespace is missing from %v", tc.n, tc.per, got)
		}
	}
	for ns, want := range map[string]bool{"bench": true, "bench-ns007": true, floorNamespace: false,
		"unrelated": false, "kube-system": false} {
		if isAppNamespace(ns) != want {
			t.Errorf("isAppNamespace(%s) = %v, want %v", ns, !want, want)
		}
	}
}
