package v1alpha1

// Event reasons: what a person watching `kubectl describe` on an app may need to know, each the
// reason of the Events the operator records on the app. Some are also condition reasons
// (ReasonRolloutComplete, ReasonRolledBack, ReasonRolloutFailed, ReasonRetryingAfterError), with the
// same meaning.
const (
	// ReasonCreated: objects of the app were created.
	ReasonCreated = "Created"
	// ReasonUpdated: objects of the app were updated.
	ReasonUpdated = "Updated"
	// ReasonDeleted: an object of the app was deleted, no longer needed.
	ReasonDeleted = "Deleted"
	// ReasonRolloutStarted: a new revision began to roll out.
	ReasonRolloutStarted = "RolloutStarted"
	// ReasonRecovered: a revision that failed earlier now serves on every replica.
	ReasonRecovered = "Recovered"
	// ReasonRetrying: a failed revision is tried again, as the retry annotation asks.
	ReasonRetrying = "Retrying"
	// ReasonPodReplaced: a stuck pod of a Stateful app was deleted to come back on the right template.
	ReasonPodReplaced = "PodReplaced"
	// ReasonStorageChanged: claims grow, or the StatefulSet is re-created with new storage.
	ReasonStorageChanged = "StorageChanged"
	// ReasonDrainSurge: a pod on a node being drained gets a replacement before its eviction.
	ReasonDrainSurge = "DrainSurge"
	// ReasonZoneUpdate: a ZoneByZone update replaces the pods of a zone.
	ReasonZoneUpdate = "ZoneUpdate"
	// ReasonRebalanced: a pod moved to balance the zones again.
	ReasonRebalanced = "Rebalanced"
	// ReasonScaleInPlan: a scale-in marked the pods to remove, most crowded zone first.
	ReasonScaleInPlan = "ScaleInByZone"
	// ReasonAPIWarning: the API server warned about a write of the operator's (Pod Security, a
	// deprecation).
	ReasonAPIWarning = "APIWarning"
	// ReasonNotHighlyAvailable: the app's ready pods stopped surviving the loss of a node or zone.
	ReasonNotHighlyAvailable = "NotHighlyAvailable"
	// ReasonNodeSilent: a node running pods of the app stopped renewing its Lease; the message names
	// the node and the pods, and whether they were marked not ready.
	ReasonNodeSilent = "NodeSilent"
	// ReasonAdvice: a practice of highly available apps started to apply to the app (status.advice):
	// the message names the rule and the container.
	ReasonAdvice = "Advice"
	// ReasonHighlyAvailable: the app's ready pods survive the loss of a node or zone again.
	ReasonHighlyAvailable = "HighlyAvailable"
)
