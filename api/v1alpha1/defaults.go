package v1alpha1

import (
	"time"

	"k8s.io/apimachinery/pkg/util/intstr"
)

// Defaults that depend on the app's type or on other fields, so that the CRD schema cannot hold them.
// The API server fills the simple ones (replicas, spread, progressDeadlineSeconds...); these helpers
// read a field with the same default whether or not the API server has seen the object.

// DesiredReplicas is spec.replicas, 3 when unset.
func (s *HighlyAvailableAppSpec) DesiredReplicas() int32 {
	if s.Replicas == nil {
		return 3
	}
	return *s.Replicas
}

// AppType is spec.type, Stateless when unset.
func (s *HighlyAvailableAppSpec) AppType() AppType {
	if s.Type == "" {
		return Stateless
	}
	return s.Type
}

// SpreadPolicy is spec.availability.spread, Zone when unset.
func (s *HighlyAvailableAppSpec) SpreadPolicy() SpreadPolicy {
	if s.Availability == nil || s.Availability.Spread == "" {
		return SpreadZone
	}
	return s.Availability.Spread
}

// DisruptionBudget returns the PodDisruptionBudget's minAvailable or maxUnavailable (exactly one is
// set): the user's choice, or maxUnavailable 1.
func (s *HighlyAvailableAppSpec) DisruptionBudget() (minAvailable, maxUnavailable *intstr.IntOrString) {
	if a := s.Availability; a != nil {
		if a.MinAvailable != nil {
			return a.MinAvailable, nil
		}
		if a.MaxUnavailable != nil {
			return nil, a.MaxUnavailable
		}
	}
	one := intstr.FromInt32(1)
	return nil, &one
}

// PreStopDelaySeconds is spec.availability.preStopDelaySeconds, 5 when unset.
func (s *HighlyAvailableAppSpec) PreStopDelaySeconds() int32 {
	if s.Availability == nil || s.Availability.PreStopDelaySeconds == nil {
		return 5
	}
	return *s.Availability.PreStopDelaySeconds
}

// ShutdownSeconds is spec.availability.terminationGracePeriodSeconds, 30 when unset.
func (s *HighlyAvailableAppSpec) ShutdownSeconds() int64 {
	if s.Availability == nil || s.Availability.TerminationGracePeriodSeconds == nil {
		return 30
	}
	return *s.Availability.TerminationGracePeriodSeconds
}

// RolloutMaxSurge is spec.rollout.maxSurge, 25% when unset (Stateless only).
func (s *HighlyAvailableAppSpec) RolloutMaxSurge() intstr.IntOrString {
	if s.Rollout != nil && s.Rollout.MaxSurge != nil {
		return *s.Rollout.MaxSurge
	}
	return intstr.FromString("25%")
}

// RolloutMaxUnavailable is spec.rollout.maxUnavailable; when unset 0 for a Stateless app (capacity
// never drops) and 1 for a Stateful one (a StatefulSet replaces pods in place).
func (s *HighlyAvailableAppSpec) RolloutMaxUnavailable() intstr.IntOrString {
	if s.Rollout != nil && s.Rollout.MaxUnavailable != nil {
		return *s.Rollout.MaxUnavailable
	}
	if s.AppType() == Stateful {
		return intstr.FromInt32(1)
	}
	return intstr.FromInt32(0)
}

// MinReadySeconds is spec.rollout.minReadySeconds, 0 when unset.
func (s *HighlyAvailableAppSpec) MinReadySeconds() int32 {
	if s.Rollout == nil || s.Rollout.MinReadySeconds == nil {
		return 0
	}
	return *s.Rollout.MinReadySeconds
}

// ProgressDeadlineSeconds is spec.rollout.progressDeadlineSeconds, 600 when unset.
func (s *HighlyAvailableAppSpec) ProgressDeadlineSeconds() int32 {
	if s.Rollout == nil || s.Rollout.ProgressDeadlineSeconds == nil {
		return 600
	}
	return *s.Rollout.ProgressDeadlineSeconds
}

// AutoRollback is spec.rollout.autoRollback, true when unset.
func (s *HighlyAvailableAppSpec) AutoRollback() bool {
	if s.Rollout == nil || s.Rollout.AutoRollback == nil {
		return true
	}
	return *s.Rollout.AutoRollback
}

// RevisionHistoryLimit is spec.rollout.revisionHistoryLimit, 10 when unset.
func (s *HighlyAvailableAppSpec) RevisionHistoryLimit() int32 {
	if s.Rollout == nil || s.Rollout.RevisionHistoryLimit == nil {
		return 10
	}
	return *s.Rollout.RevisionHistoryLimit
}

// Partition is spec.rollout.partition, 0 when unset (Stateful only).
func (s *HighlyAvailableAppSpec) Partition() int32 {
	if s.Rollout == nil || s.Rollout.Partition == nil {
		return 0
	}
	return *s.Rollout.Partition
}

// Paused is spec.rollout.paused.
func (s *HighlyAvailableAppSpec) Paused() bool {
	return s.Rollout != nil && s.Rollout.Paused
}

// ClaimRetention is spec.volumeClaimRetention with Retain for what is unset.
func (s *HighlyAvailableAppSpec) ClaimRetention() (whenDeleted, whenScaled ClaimRetention) {
	whenDeleted, whenScaled = RetainClaims, RetainClaims
	if r := s.VolumeClaimRetention; r != nil {
		if r.WhenDeleted != "" {
			whenDeleted = r.WhenDeleted
		}
		if r.WhenScaled != "" {
			whenScaled = r.WhenScaled
		}
	}
	return whenDeleted, whenScaled
}

// Defaults of the rollout's tolerances for transient failure signals.
const (
	DefaultFailureGraceSeconds       int32 = 30
	DefaultCrashLoopRestarts         int32 = 3
	DefaultUnschedulableGraceSeconds int32 = 120
)

// FailureGraceSeconds is spec.rollout.failureGraceSeconds, DefaultFailureGraceSeconds when unset.
func (s *HighlyAvailableAppSpec) FailureGraceSeconds() int32 {
	if s.Rollout == nil || s.Rollout.FailureGraceSeconds == nil {
		return DefaultFailureGraceSeconds
	}
	return *s.Rollout.FailureGraceSeconds
}

// CrashLoopRestarts is spec.rollout.crashLoopRestarts, DefaultCrashLoopRestarts when unset.
func (s *HighlyAvailableAppSpec) CrashLoopRestarts() int32 {
	if s.Rollout == nil || s.Rollout.CrashLoopRestarts == nil {
		return DefaultCrashLoopRestarts
	}
	return *s.Rollout.CrashLoopRestarts
}

// UnschedulableGraceSeconds is spec.rollout.unschedulableGraceSeconds, DefaultUnschedulableGraceSeconds
// when unset.
func (s *HighlyAvailableAppSpec) UnschedulableGraceSeconds() int32 {
	if s.Rollout == nil || s.Rollout.UnschedulableGraceSeconds == nil {
		return DefaultUnschedulableGraceSeconds
	}
	return *s.Rollout.UnschedulableGraceSeconds
}

// RolloutStrategy is spec.rollout.strategy, RollingUpdate when unset.
func (s *HighlyAvailableAppSpec) RolloutStrategy() RolloutStrategy {
	if s.Rollout == nil || s.Rollout.Strategy == "" {
		return RollingUpdate
	}
	return s.Rollout.Strategy
}

// SurgeOnDrain tells whether a drained node's pods are replaced before they are evicted: Stateless
// apps without an autoscaler, unless spec.availability.surgeOnDrain is false.
func (s *HighlyAvailableAppSpec) SurgeOnDrain() bool {
	if s.AppType() != Stateless || s.Autoscaling != nil {
		return false
	}
	return s.Availability == nil || s.Availability.SurgeOnDrain == nil || *s.Availability.SurgeOnDrain
}

// Rebalance is spec.availability.rebalance (Stateless only), false when unset.
func (s *HighlyAvailableAppSpec) Rebalance() bool {
	return s.AppType() == Stateless && s.Availability != nil && s.Availability.Rebalance != nil && *s.Availability.Rebalance
}

// DefaultProbes is spec.availability.defaultProbes, true when unset.
func (s *HighlyAvailableAppSpec) DefaultProbes() bool {
	return s.Availability == nil || s.Availability.DefaultProbes == nil || *s.Availability.DefaultProbes
}

// NodeLossAfter is how long a node's Lease may go without renewal before the app's pods on it are
// marked not ready, for a lease renewed every renewInterval: spec.availability.nodeLossSeconds, two and
// a half intervals when unset, and never below LeastNodeLossAfter.
func (s *HighlyAvailableAppSpec) NodeLossAfter(renewInterval time.Duration) time.Duration {
	if s.Availability == nil || s.Availability.NodeLossSeconds == nil {
		return renewInterval * 5 / 2
	}
	return max(time.Duration(*s.Availability.NodeLossSeconds)*time.Second, LeastNodeLossAfter(renewInterval))
}

// LeastNodeLossAfter is the shortest NodeLossAfter of any app, for a lease renewed every
// renewInterval: one and a half intervals, so that a renewal a little late is never a loss.
func LeastNodeLossAfter(renewInterval time.Duration) time.Duration { return renewInterval * 3 / 2 }
