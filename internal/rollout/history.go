package rollout

import (
	"slices"

	appsv1 "k8s.io/api/apps/v1"
)

// The history functions take the app's revisions as a client List returns them (list.Items) and
// return pointers into that slice; they never modify it.

// ByNumber returns the revisions ordered by revision number, oldest first (name breaks ties, so the
// order is the same whatever order the list came in).
func ByNumber(revs []appsv1.ControllerRevision) []*appsv1.ControllerRevision {
	out := make([]*appsv1.ControllerRevision, len(revs))
	for i := range revs {
		out[i] = &revs[i]
	}
	slices.SortStableFunc(out, func(a, b *appsv1.ControllerRevision) int {
		if a.Revision != b.Revision {
			if a.Revision < b.Revision {
				return -1
			}
			return 1
		}
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return out
}

// FindByNumber is the revision with the number, or nil.
func FindByNumber(revs []appsv1.ControllerRevision, number int64) *appsv1.ControllerRevision {
	for i := range revs {
		if revs[i].Revision == number {
			return &revs[i]
		}
	}
	return nil
}

// Prune returns the revisions to delete so that at most limit remain: the oldest first, never one
// whose hash is in keep (the serving revision, the last good one, the one the spec asks for). When
// kept revisions alone exceed the limit, they all stay and only the others go. A negative limit
// reads as 0.
func Prune(revs []appsv1.ControllerRevision, limit int32, keep ...string) []*appsv1.ControllerRevision {
	excess := len(revs) - max(int(limit), 0)
	if excess <= 0 {
		return nil
	}
	var out []*appsv1.ControllerRevision
	for _, r := range ByNumber(revs) {
		if len(out) == excess {
			break
		}
		if h := RevisionHash(r); h != "" && slices.Contains(keep, h) {
			continue
		}
		out = append(out, r)
	}
	return out
}
