package rollout

import (
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// rev is a revision for history tests: number, hash and outcome ("" in progress).
func rev(number int64, hash string, outcome Outcome) appsv1.ControllerRevision {
	cr := appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{Name: RevisionName(webName, hash), Labels: map[string]string{LabelRevisionHash: hash}},
		Revision:   number,
	}
	if outcome != OutcomeNone {
		cr.Annotations = map[string]string{AnnotationOutcome: string(outcome)}
	}
	return cr
}

func numbers(revs []*appsv1.ControllerRevision) []int64 {
	out := make([]int64, 0, len(revs))
	for _, r := range revs {
		out = append(out, r.Revision)
	}
	return out
}

func TestByNumber(t *testing.T) {
	tests := []struct {
		name      string
		revs      []appsv1.ControllerRevision
		wantOrder []int64
	}{
		{"none", nil, []int64{}},
		{"one", []appsv1.ControllerRevision{rev(1, "a", OutcomeComplete)}, []int64{1}},
		{"unordered with a gap", []appsv1.ControllerRevision{
			rev(7, "g", OutcomeNone), rev(2, "b", OutcomeComplete), rev(5, "e", OutcomeFailed),
		}, []int64{2, 5, 7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := numbers(ByNumber(tt.revs)); !slices.Equal(got, tt.wantOrder) {
				t.Errorf("order %v, want %v", got, tt.wantOrder)
			}
		})
	}
}

func TestFind(t *testing.T) {
	revs := []appsv1.ControllerRevision{rev(1, "a", OutcomeComplete), rev(2, "b", OutcomeComplete)}
	if got := FindByNumber(revs, 1); got == nil || RevisionHash(got) != "a" {
		t.Errorf("FindByNumber(1) = %v", got)
	}
	if got := FindByNumber(revs, 3); got != nil {
		t.Errorf("FindByNumber(3) = %v, want nil", got)
	}
	// The pointer is into the caller's slice, so a caller can hand it to a patch.
	if FindByNumber(revs, 1) != &revs[0] {
		t.Error("FindByNumber did not return a pointer into the slice")
	}
}

func TestPrune(t *testing.T) {
	five := []appsv1.ControllerRevision{
		rev(3, "c", OutcomeComplete), rev(1, "a", OutcomeComplete), rev(5, "e", OutcomeNone),
		rev(2, "b", OutcomeFailed), rev(4, "d", OutcomeComplete),
	}
	tests := []struct {
		name  string
		revs  []appsv1.ControllerRevision
		limit int32
		keep  []string
		want  []int64
	}{
		{"within limit", five, 10, nil, []int64{}},
		{"at limit", five, 5, nil, []int64{}},
		{"oldest first", five, 3, []string{"e"}, []int64{1, 2}},
		{"kept old revision survives", five, 3, []string{"a", "e"}, []int64{2, 3}},
		{"serving, last good and update kept", five, 2, []string{"a", "c", "e"}, []int64{2, 4}},
		{"limit zero keeps only kept", five, 0, []string{"d", "e"}, []int64{1, 2, 3}},
		{"kept alone exceed limit", five, 1, []string{"a", "b", "c", "d", "e"}, []int64{}},
		{"negative limit reads as zero", five, -1, nil, []int64{1, 2, 3, 4, 5}},
		{"empty keep hash keeps nothing extra", five, 4, []string{""}, []int64{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Prune(tt.revs, tt.limit, tt.keep...)
			if n := numbers(got); !slices.Equal(n, tt.want) {
				t.Fatalf("pruned %v, want %v", n, tt.want)
			}
			for _, r := range got {
				if slices.Contains(tt.keep, RevisionHash(r)) {
					t.Errorf("pruned kept revision %s", r.Name)
				}
			}
		})
	}
}
