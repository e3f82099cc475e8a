package v1alpha1

// Condition types on a HighlyAvailableApp. Ready, Reconciling and Stalled follow the kstatus
// conventions that Flux, Helm and kubectl wait read.
const (
	// ConditionReady is True when the revision the spec asks for serves on every replica.
	ConditionReady = "Ready"
	// ConditionReconciling is True while an update, a scale or a rollback is in progress.
	ConditionReconciling = "Reconciling"
	// ConditionStalled is True when the app cannot make progress without a change of spec.
	ConditionStalled = "Stalled"
	// ConditionAvailable is True when at least the disruption budget's minimum of pods is ready.
	ConditionAvailable = "Available"
	// ConditionHighlyAvailable is True when the ready pods survive the loss of a node (or a zone,
	// when the app spreads over zones).
	ConditionHighlyAvailable = "HighlyAvailable"
)

// Condition reasons. Each names one state a person can act on.
const (
	// ReasonRolloutComplete: every replica runs the revision the spec asks for.
	ReasonRolloutComplete = "RolloutComplete"
	// ReasonRollingOut: an update is replacing pods.
	ReasonRollingOut = "RollingOut"
	// ReasonScaling: the replica count is changing.
	ReasonScaling = "Scaling"
	// ReasonCreating: the workload was just created and has no status yet.
	ReasonCreating = "Creating"
	// ReasonPaused: the update is paused by spec.rollout.paused.
	ReasonPaused = "Paused"
	// ReasonObservingGeneration: the workload has not yet seen the latest change.
	ReasonObservingGeneration = "ObservingGeneration"
	// ReasonRolledBack: an update failed and the workload was put back on the last good revision.
	ReasonRolledBack = "RolledBack"
	// ReasonRolloutFailed: an update failed and was not rolled back (no good revision, or
	// autoRollback is off).
	ReasonRolloutFailed = "RolloutFailed"
	// ReasonProgressDeadlineExceeded: the update took longer than progressDeadlineSeconds and was not
	// rolled back (autoRollback is off, or no earlier revision completed).
	ReasonProgressDeadlineExceeded = "ProgressDeadlineExceeded"
	// ReasonConflict: an object the app needs exists and is not owned by the app.
	ReasonConflict = "Conflict"
	// ReasonStorageResizeFailed: a claim of the app could not be grown (ControllerResizeError,
	// NodeResizeError), or its file system waits too long to follow (FileSystemResizePending).
	ReasonStorageResizeFailed = "StorageResizeFailed"
	// ReasonApplyFailed: the API server refused a generated object for a reason retrying cannot fix
	// (invalid, forbidden); the message is the server's, naming the field.
	ReasonApplyFailed = "ApplyFailed"
	// ReasonInvalidSpec: the spec asks for something the operator refuses (a Service type the
	// cluster's operator does not allow, say); the message names the field.
	ReasonInvalidSpec = "InvalidSpec"
	// ReasonReplicaFailure: the workload's controller cannot create pods (quota, Pod Security, a
	// missing ServiceAccount).
	ReasonReplicaFailure = "ReplicaFailure"
	// ReasonStorageChangeRefused: a storage change the StatefulSet cannot take safely.
	ReasonStorageChangeRefused = "StorageChangeRefused"
	// ReasonInvalidStorage: a storage entry asks for a size of zero or less.
	ReasonInvalidStorage = "InvalidStorage"
	// ReasonStorageClassNotFound: a storage entry names a StorageClass that does not exist.
	ReasonStorageClassNotFound = "StorageClassNotFound"
	// ReasonMinimumAvailable: at least the disruption budget's minimum of pods is ready.
	ReasonMinimumAvailable = "MinimumAvailable"
	// ReasonBelowMinimum: fewer pods are ready than the disruption budget's minimum.
	ReasonBelowMinimum = "BelowMinimum"
	// ReasonZoneRedundant: ready pods run in more than one zone, and losing the zone with most of
	// them leaves at least the disruption budget's minimum ready.
	ReasonZoneRedundant = "ZoneRedundant"
	// ReasonZoneSkewed: ready pods run in more than one zone, but losing the zone with most of them
	// would leave fewer than the disruption budget's minimum, although the cluster has schedulable
	// nodes in other zones.
	ReasonZoneSkewed = "ZoneSkewed"
	// ReasonNodeRedundant: ready pods run on more than one node (and the app does not ask for zones,
	// or they are all the cluster has).
	ReasonNodeRedundant = "NodeRedundant"
	// ReasonSingleZone: the app asks for zone spread but its ready pods all run in one zone.
	ReasonSingleZone = "SingleZone"
	// ReasonSingleNode: every ready pod runs on one node.
	ReasonSingleNode = "SingleNode"
	// ReasonSingleReplica: the app asks for one replica.
	ReasonSingleReplica = "SingleReplica"
	// ReasonNoReadyPods: no pod is ready.
	ReasonNoReadyPods = "NoReadyPods"
	// ReasonClusterRedundant: on a multi-cluster control plane, ready pods run in more than one member
	// cluster, and losing the cluster with most of them leaves at least the disruption budget's
	// minimum ready.
	ReasonClusterRedundant = "ClusterRedundant"
	// ReasonSingleCluster: on a multi-cluster control plane, the app is placed on several member
	// clusters but its ready pods all run in one.
	ReasonSingleCluster = "SingleCluster"
	// ReasonStatefulOnSeveralClusters: on a multi-cluster control plane, a Stateful app is placed on
	// more than one member cluster. It is never divided: each cluster would run its own ordinals with
	// their own data. Place it on one cluster.
	ReasonStatefulOnSeveralClusters = "StatefulOnSeveralClusters"
	// ReasonVolumeZoneUnavailable: a pod of a Stateful app cannot be scheduled because the zone its
	// volume lives in has no node, or no room, for it.
	ReasonVolumeZoneUnavailable = "VolumeZoneUnavailable"
	// ReasonLastReadyPods: the pods on a silent node were not marked not ready, because they are the
	// app's last ready pods.
	ReasonLastReadyPods = "LastReadyPods"
	// ReasonClusterSilent: the pods on a silent node were not marked not ready, because most of the
	// cluster's nodes are silent at once: the control plane, not the nodes, is suspected.
	ReasonClusterSilent = "ClusterSilent"
	// ReasonRetryingAfterError: a write or read the operator needs keeps failing with an error that
	// retrying may fix (a webhook that times out, a server error); the message is the error.
	ReasonRetryingAfterError = "RetryingAfterError"
)

// Annotations the operator reads on a HighlyAvailableApp.
const (
	// AnnotationRetry, set to any new value (a timestamp, say), asks the operator to try again a
	// revision that failed and was rolled back, without changing the spec.
	AnnotationRetry = "apps.haoperator.dev/retry"
)

// Labels the operator puts on what it generates.
const (
	LabelName      = "app.kubernetes.io/name"
	LabelInstance  = "app.kubernetes.io/instance"
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedByValue is the value of LabelManagedBy on every object the operator generates; the
	// manager's cache is limited to objects with it.
	ManagedByValue = "ha-operator"
)
