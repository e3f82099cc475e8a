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

package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// AppType selects the controller type the operator generates for an app.
// +kubebuilder:validation:Enum=Stateless;Stateful;Daemon;Job
type AppType string

const (
	// Stateless apps run as a Deployment behind a Service.
	Stateless AppType = "Stateless"
	// Stateful apps run as a StatefulSet with a headless Service and per-pod volume claims.
	Stateful AppType = "Stateful"
)

// SpreadPolicy says over which topology domain the pods of an app are spread.
// +kubebuilder:validation:Enum=Zone;Node;None
type SpreadPolicy string

const (
	// SpreadZone spreads pods over zones (best effort, so a one-zone cluster still schedules) and,
	// within that, over nodes.
	SpreadZone SpreadPolicy = "Zone"
	// SpreadNode spreads pods over nodes only.
	SpreadNode SpreadPolicy = "Node"
	// SpreadNone adds no topology spread constraints.
	SpreadNone SpreadPolicy = "None"
)

// ClaimRetention says what happens to a Stateful app's volume claims.
// +kubebuilder:validation:Enum=Retain;Delete
type ClaimRetention string

const (
	// RetainClaims keeps the claims (and so the data).
	RetainClaims ClaimRetention = "Retain"
	// DeleteClaims deletes the claims.
	DeleteClaims ClaimRetention = "Delete"
)

// HighlyAvailableAppSpec is what an app team asks for: one app, run highly available.
// +kubebuilder:validation:XValidation:rule="size(self.template.spec.containers) > 0",message="at least one container is required",fieldPath=".template.spec.containers"
// +kubebuilder:validation:XValidation:rule="self.type == 'Stateful' || !has(self.storage) || size(self.storage) == 0",message="storage is only allowed when type is Stateful",fieldPath=".storage"
// +kubebuilder:validation:XValidation:rule="self.type == 'Stateful' || !has(self.volumeClaimRetention)",message="volumeClaimRetention is only allowed when type is Stateful",fieldPath=".volumeClaimRetention"
// +kubebuilder:validation:XValidation:rule="self.type == 'Stateful' || !has(self.podManagementPolicy)",message="podManagementPolicy is only allowed when type is Stateful",fieldPath=".podManagementPolicy"
// +kubebuilder:validation:XValidation:rule="self.type == 'Stateful' || !has(self.rollout) || !has(self.rollout.partition)",message="partition is only allowed when type is Stateful",fieldPath=".rollout.partition"
// +kubebuilder:validation:XValidation:rule="self.type in ['Stateless', 'Daemon'] || !has(self.rollout) || !has(self.rollout.maxSurge)",message="maxSurge is only allowed when type is Stateless or Daemon: a StatefulSet replaces pods in place",fieldPath=".rollout.maxSurge"
// +kubebuilder:validation:XValidation:rule="self.type in ['Stateless', 'Daemon'] || !has(self.rollout) || !has(self.rollout.maxUnavailable) || self.rollout.maxUnavailable != 0",message="maxUnavailable must be at least 1 when type is Stateful: a StatefulSet replaces pods in place",fieldPath=".rollout.maxUnavailable"
// +kubebuilder:validation:XValidation:rule="!(self.type in ['Stateless', 'Stateful']) || !has(self.template.spec.restartPolicy) || self.template.spec.restartPolicy == 'Always'",message="spec.template.spec.restartPolicy must be Always for Stateless and Stateful apps: their controllers restart pods themselves",fieldPath=".template.spec.restartPolicy"
// +kubebuilder:validation:XValidation:rule="self.type != 'Stateful' || !has(self.replicas) || self.replicas <= 100",message="spec.replicas must be at most 100 when type is Stateful: every pod carries the DNS name of every ordinal in HA_PEERS",fieldPath=".replicas"
// +kubebuilder:validation:XValidation:rule="self.type != 'Stateful' || !has(self.autoscaling) || self.autoscaling.maxReplicas <= 100",message="spec.autoscaling.maxReplicas must be at most 100 when type is Stateful: every pod carries the DNS name of every ordinal in HA_PEERS",fieldPath=".autoscaling.maxReplicas"
// +kubebuilder:validation:XValidation:rule="!has(self.rollout) || !has(self.rollout.partition) || self.rollout.partition <= (has(self.autoscaling) ? self.autoscaling.maxReplicas : (has(self.replicas) ? self.replicas : 3))",message="spec.rollout.partition must not be greater than spec.replicas (spec.autoscaling.maxReplicas with autoscaling): no pod would ever be updated",fieldPath=".rollout.partition"
// +kubebuilder:validation:XValidation:rule="!(self.type in ['Stateless', 'Stateful']) || !has(self.availability) || !has(self.availability.minAvailable) || type(self.availability.minAvailable) != int || (has(self.autoscaling) && has(self.autoscaling.minReplicas) ? (self.autoscaling.minReplicas < 2 || self.availability.minAvailable < self.autoscaling.minReplicas) : ((has(self.replicas) ? self.replicas : 3) < 2 || self.availability.minAvailable < (has(self.replicas) ? self.replicas : 3)))",message="spec.availability.minAvailable must be less than spec.replicas (spec.autoscaling.minReplicas with autoscaling): a budget that lets no pod go blocks every node drain",fieldPath=".availability.minAvailable"
// +kubebuilder:validation:XValidation:rule="!(self.type in ['Stateless', 'Stateful']) || !has(self.availability) || !has(self.availability.minAvailable) || type(self.availability.minAvailable) == int || !self.availability.minAvailable.matches('^[0-9]{1,3}%$') || (has(self.autoscaling) && has(self.autoscaling.minReplicas) ? (self.autoscaling.minReplicas < 2 || int(self.availability.minAvailable.split('%')[0]) * self.autoscaling.minReplicas <= 100 * (self.autoscaling.minReplicas - 1)) : ((has(self.replicas) ? self.replicas : 3) < 2 || int(self.availability.minAvailable.split('%')[0]) * (has(self.replicas) ? self.replicas : 3) <= 100 * ((has(self.replicas) ? self.replicas : 3) - 1)))",message="spec.availability.minAvailable: this percentage of spec.replicas (spec.autoscaling.minReplicas with autoscaling), rounded up, keeps every pod: a budget that lets no pod go blocks every node drain",fieldPath=".availability.minAvailable"
// +kubebuilder:validation:XValidation:rule="!has(self.autoscaling) || has(self.autoscaling.minReplicas) || (has(self.replicas) ? self.replicas : 3) <= self.autoscaling.maxReplicas",message="spec.autoscaling.maxReplicas must not be below spec.replicas, the autoscaler's minimum when autoscaling.minReplicas is not set",fieldPath=".autoscaling.maxReplicas"
// +kubebuilder:validation:XValidation:rule="!has(self.service) || !has(self.service.ports) || self.service.ports.all(p, !has(p.nodePort) || p.nodePort == 0 || (has(self.service.type) && self.service.type in ['NodePort', 'LoadBalancer']))",message="spec.service.ports[].nodePort is only allowed when spec.service.type is NodePort or LoadBalancer",fieldPath=".service.ports"
// +kubebuilder:validation:XValidation:rule="self.type != 'Daemon' || !has(self.replicas)",message="replicas is not allowed when type is Daemon: a DaemonSet runs one pod on every node its template selects",fieldPath=".replicas"
// +kubebuilder:validation:XValidation:rule="self.type != 'Daemon' || !has(self.autoscaling)",message="autoscaling is not allowed when type is Daemon: a DaemonSet runs one pod on every node its template selects",fieldPath=".autoscaling"
// +kubebuilder:validation:XValidation:rule="self.type != 'Daemon' || !has(self.rollout) || !has(self.rollout.maxSurge) || !(self.rollout.maxSurge == 0 || self.rollout.maxSurge == '0%') || (has(self.rollout.maxUnavailable) && !(self.rollout.maxUnavailable == 0 || self.rollout.maxUnavailable == '0%'))",message="maxSurge and maxUnavailable cannot both be 0 when type is Daemon: the update could not replace any pod",fieldPath=".rollout.maxSurge"
// +kubebuilder:validation:XValidation:rule="self.type != 'Job' || !has(self.replicas)",message="replicas is not allowed when type is Job: use job.parallelism",fieldPath=".replicas"
// +kubebuilder:validation:XValidation:rule="self.type != 'Job' || !has(self.autoscaling)",message="autoscaling is not allowed when type is Job: use job.parallelism",fieldPath=".autoscaling"
// +kubebuilder:validation:XValidation:rule="self.type != 'Job' || !has(self.service)",message="service is not allowed when type is Job: a run serves no traffic",fieldPath=".service"
// +kubebuilder:validation:XValidation:rule="self.type != 'Job' || !has(self.template.spec.restartPolicy) || self.template.spec.restartPolicy != 'Always'",message="restartPolicy Always is not allowed when type is Job: use OnFailure (the default) or Never",fieldPath=".template.spec.restartPolicy"
// +kubebuilder:validation:XValidation:rule="self.type == 'Job' || !has(self.job)",message="job is only allowed when type is Job",fieldPath=".job"
// +kubebuilder:validation:XValidation:rule="!has(self.job) || !has(self.job.podFailurePolicy) || (has(self.template.spec.restartPolicy) && self.template.spec.restartPolicy == 'Never')",message="job.podFailurePolicy needs restartPolicy Never",fieldPath=".template.spec.restartPolicy"
// +kubebuilder:validation:XValidation:rule="self.type == 'Stateful' || !has(self.rollout) || !has(self.rollout.strategy) || self.rollout.strategy != 'ZoneByZone'",message="strategy ZoneByZone is only allowed when type is Stateful: a Deployment's rolling update already surges new pods before it removes old ones",fieldPath=".rollout.strategy"
// +kubebuilder:validation:XValidation:rule="self.type == 'Stateless' || !has(self.availability) || !has(self.availability.rebalance) || !self.availability.rebalance",message="rebalance is only allowed when type is Stateless: a Stateful pod comes back where its volume is",fieldPath=".availability.rebalance"
// +kubebuilder:validation:XValidation:rule="self.type == 'Stateless' || !has(self.availability) || !has(self.availability.surgeOnDrain)",message="surgeOnDrain is only allowed when type is Stateless: a StatefulSet cannot run a pod twice",fieldPath=".availability.surgeOnDrain"
type HighlyAvailableAppSpec struct {
	// type selects the controller type: Stateless (a Deployment), Stateful (a StatefulSet with a
	// headless Service and volume claims), Daemon (a DaemonSet: one pod on every node the template
	// selects) or Job (a Job that runs to completion, or a CronJob with job.schedule). It cannot be
	// changed once set: delete and re-create the app.
	// +kubebuilder:default=Stateless
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="type is immutable: delete and re-create the app to change it"
	// +optional
	Type AppType `json:"type,omitempty"`

	// replicas is the number of pods; 3 when unset. 1 is allowed but reported as not highly
	// available. It is left to the HorizontalPodAutoscaler while autoscaling is set. At most 1000, and
	// at most 100 for a Stateful app, whose pods each carry the DNS name of every ordinal (HA_PEERS).
	// Not allowed for Daemon (one pod per node) and Job (see job.parallelism).
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`

	// template describes the pods, as in a Deployment. The operator adds its labels, topology spread,
	// a preStop delay and a termination grace period where the template sets none.
	// +kubebuilder:validation:Required
	// +kubebuilder:validation:XValidation:rule="self.spec.containers.all(c, size(c.name) > 0)",message="spec.template.spec.containers[].name must not be empty",fieldPath=".spec.containers"
	// +kubebuilder:validation:XValidation:rule="self.spec.containers.all(c, has(c.image) && size(c.image) > 0)",message="spec.template.spec.containers[].image must not be empty",fieldPath=".spec.containers"
	// +kubebuilder:validation:XValidation:rule="!has(self.spec.initContainers) || self.spec.initContainers.all(c, has(c.image) && size(c.image) > 0)",message="spec.template.spec.initContainers[].image must not be empty",fieldPath=".spec.initContainers"
	// +kubebuilder:validation:XValidation:rule="!has(self.metadata) || !has(self.metadata.labels) || self.metadata.labels.all(k, k.matches('^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$'))",message="spec.template.metadata.labels: keys must be qualified names such as tier or example.com/tier",fieldPath=".metadata.labels"
	Template corev1.PodTemplateSpec `json:"template"`

	// service configures the Service in front of the pods. Stateful apps always also get a headless
	// Service named after the app; this one is then the client Service, named <app>-client.
	// +optional
	Service *ServiceSpec `json:"service,omitempty"`

	// storage lists the persistent volumes each pod of a Stateful app gets, as volumeClaimTemplates.
	// Claims are named <storage name>-<app>-<ordinal>. Stateful only.
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:XValidation:rule="self.all(s, self.exists_one(t, t.mountPath == s.mountPath))",message="spec.storage[].mountPath must be unique: two volumes cannot be mounted at the same path"
	// +optional
	Storage []StorageSpec `json:"storage,omitempty"`

	// volumeClaimRetention says whether claims are kept when the app is deleted or scaled down.
	// Both default to Retain, so nothing is lost. Stateful only.
	// +optional
	VolumeClaimRetention *VolumeClaimRetention `json:"volumeClaimRetention,omitempty"`

	// podManagementPolicy is the StatefulSet's: OrderedReady (the default) starts pods one at a time
	// in ordinal order and stops them in reverse; Parallel starts and stops them all at once.
	// Stateful only.
	// +kubebuilder:validation:Enum=OrderedReady;Parallel
	// +optional
	PodManagementPolicy *PodManagementPolicy `json:"podManagementPolicy,omitempty"`

	// availability configures the PodDisruptionBudget, the spread of pods and graceful shutdown.
	// +optional
	Availability *AvailabilitySpec `json:"availability,omitempty"`

	// rollout configures updates, the revision history and automatic rollback.
	// +optional
	Rollout *RolloutSpec `json:"rollout,omitempty"`

	// autoscaling adds a HorizontalPodAutoscaler; the operator then leaves the replica count to it.
	// +optional
	Autoscaling *AutoscalingSpec `json:"autoscaling,omitempty"`

	// job configures the runs of a Job app: completions, parallelism, limits and, with schedule, a
	// CronJob. Job only.
	// +optional
	Job *JobSpec `json:"job,omitempty"`
}

// PodManagementPolicy is the StatefulSet's pod management policy.
type PodManagementPolicy string

// ServiceSpec configures the Service in front of the app's pods.
type ServiceSpec struct {
	// type is the Service type: ClusterIP (the default), NodePort or LoadBalancer.
	// +kubebuilder:validation:Enum=ClusterIP;NodePort;LoadBalancer
	// +kubebuilder:default=ClusterIP
	// +optional
	Type corev1.ServiceType `json:"type,omitempty"`

	// ports are the Service's ports. Empty: one port per named or numbered containerPort of every
	// container, each targeting that container port.
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:XValidation:rule="self.all(p, p.port >= 1 && p.port <= 65535)",message="spec.service.ports[].port must be between 1 and 65535"
	// +kubebuilder:validation:XValidation:rule="self.all(p, !has(p.nodePort) || (p.nodePort >= 0 && p.nodePort <= 65535))",message="spec.service.ports[].nodePort must be between 1 and 65535 (0 lets the cluster choose)"
	// +kubebuilder:validation:XValidation:rule="self.all(p, self.exists_one(q, q.port == p.port && (has(q.protocol) ? (q.protocol == 'UDP' ? 1 : (q.protocol == 'SCTP' ? 2 : 0)) : 0) == (has(p.protocol) ? (p.protocol == 'UDP' ? 1 : (p.protocol == 'SCTP' ? 2 : 0)) : 0)))",message="spec.service.ports[].port must be unique for each protocol"
	// +kubebuilder:validation:XValidation:rule="self.all(p, !has(p.nodePort) || p.nodePort == 0 || self.exists_one(q, has(q.nodePort) && q.nodePort == p.nodePort && (has(q.protocol) ? (q.protocol == 'UDP' ? 1 : (q.protocol == 'SCTP' ? 2 : 0)) : 0) == (has(p.protocol) ? (p.protocol == 'UDP' ? 1 : (p.protocol == 'SCTP' ? 2 : 0)) : 0)))",message="spec.service.ports[].nodePort must be unique for each protocol"
	// +kubebuilder:validation:XValidation:rule="size(self) < 2 || self.all(p, has(p.name) && size(p.name) > 0)",message="spec.service.ports[].name is required when there is more than one port"
	// +optional
	Ports []corev1.ServicePort `json:"ports,omitempty"`
}

// StorageSpec is one persistent volume that every pod of a Stateful app gets.
type StorageSpec struct {
	// name is the volume's name in the pod and the claim template's name; claims are named
	// <name>-<app>-<ordinal>.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`

	// mountPath is where the volume is mounted, an absolute path.
	// +kubebuilder:validation:Pattern=`^/`
	// +kubebuilder:validation:MaxLength=4096
	MountPath string `json:"mountPath"`

	// size is the requested capacity, as a quantity (1Gi, 500Mi), greater than zero (the operator
	// reports a size of zero or less with reason InvalidStorage).
	Size resource.Quantity `json:"size"`

	// storageClassName names the StorageClass; empty uses the cluster's default class.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	StorageClassName *string `json:"storageClassName,omitempty"`

	// accessModes of the claim; defaults to ReadWriteOnce.
	// +kubebuilder:validation:items:Enum=ReadWriteOnce;ReadOnlyMany;ReadWriteMany;ReadWriteOncePod
	// +kubebuilder:validation:MaxItems=4
	// +listType=atomic
	// +optional
	AccessModes []corev1.PersistentVolumeAccessMode `json:"accessModes,omitempty"`

	// containers names the containers that mount the volume; empty mounts it into every container.
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=63
	// +listType=set
	// +optional
	Containers []string `json:"containers,omitempty"`
}

// VolumeClaimRetention says what happens to a Stateful app's claims.
type VolumeClaimRetention struct {
	// whenDeleted applies when the app is deleted: Retain (the default) or Delete.
	// +kubebuilder:default=Retain
	// +optional
	WhenDeleted ClaimRetention `json:"whenDeleted,omitempty"`

	// whenScaled applies to the claims of ordinals removed by a scale-down: Retain (the default) or
	// Delete.
	// +kubebuilder:default=Retain
	// +optional
	WhenScaled ClaimRetention `json:"whenScaled,omitempty"`
}

// AvailabilitySpec configures how the app stays available through disruptions.
// +kubebuilder:validation:XValidation:rule="!(has(self.minAvailable) && has(self.maxUnavailable))",message="set either minAvailable or maxUnavailable, not both",fieldPath=".minAvailable"
type AvailabilitySpec struct {
	// maxUnavailable is how many pods (or what percentage) voluntary disruptions such as node drains
	// may take down at once; it drives the PodDisruptionBudget. Defaults to 1 when minAvailable is
	// not set. No budget is made below 2 replicas.
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:MaxLength=8
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self >= 0 : self.matches('^[0-9]+%$')",message="must be a non-negative integer or a percentage such as 25%"
	// +kubebuilder:validation:XValidation:rule="type(self) == int || !self.matches('^[0-9]+%$') || self.matches('^([0-9]|[1-9][0-9]|100)%$')",message="a percentage must be at most 100%"
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self != 0 : !self.matches('^0+%$')",message="must be at least 1 (or 1%): a disruption budget that lets no pod go blocks every node drain"
	// +optional
	MaxUnavailable *intstr.IntOrString `json:"maxUnavailable,omitempty"`

	// minAvailable is how many pods (or what percentage) must stay up through voluntary disruptions.
	// Mutually exclusive with maxUnavailable.
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:MaxLength=8
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self >= 0 : self.matches('^[0-9]+%$')",message="must be a non-negative integer or a percentage such as 25%"
	// +kubebuilder:validation:XValidation:rule="type(self) == int || !self.matches('^[0-9]+%$') || self.matches('^([0-9]|[1-9][0-9])%$')",message="a percentage must be below 100%: a disruption budget that lets no pod go blocks every node drain"
	// +optional
	MinAvailable *intstr.IntOrString `json:"minAvailable,omitempty"`

	// spread is the topology the pods are spread over: Zone (the default; over zones as far as the
	// cluster has them, and over nodes), Node (over nodes), or None. Constraints the template already
	// has are kept and none are added.
	// +kubebuilder:default=Zone
	// +optional
	Spread SpreadPolicy `json:"spread,omitempty"`

	// preStopDelaySeconds is how long a pod keeps serving after it is told to stop, so that
	// endpoints and load balancers stop sending it traffic first. Added as a preStop sleep to every
	// container that has no preStop hook. 0 adds none.
	// +kubebuilder:default=5
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=300
	// +optional
	PreStopDelaySeconds *int32 `json:"preStopDelaySeconds,omitempty"`

	// terminationGracePeriodSeconds is used when the template sets none: the preStop delay plus this
	// long for the app to shut down. Defaults to 30, at most 86400 (a day).
	// +kubebuilder:default=30
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=86400
	// +optional
	TerminationGracePeriodSeconds *int64 `json:"terminationGracePeriodSeconds,omitempty"`

	// surgeOnDrain (Stateless, default true): when a node that runs pods of the app is being drained
	// (cordoned, or tainted ToBeDeletedByClusterAutoscaler, karpenter.sh/disrupted or
	// karpenter.sh/disruption), the Deployment gets one extra replica per such pod (within
	// rollout.maxSurge) before the pods are evicted, and returns to replicas once no pod of the app
	// is left on such a node. The PodDisruptionBudget then keeps minAvailable at replicas, so that
	// an eviction is only allowed once a replacement is ready and a drain never takes the app below
	// its desired ready count. false keeps the budget of maxUnavailable/minAvailable and surges
	// nothing. Ignored while autoscaling is set (the autoscaler owns the replica count).
	// +optional
	SurgeOnDrain *bool `json:"surgeOnDrain,omitempty"`

	// rebalance (Stateless, default false): when the ready pods are spread over the zones that have
	// schedulable nodes with a skew above 1 (after a zone came back, say), a pod of the most crowded
	// zone is deleted so that the scheduler places its replacement in an emptier zone. One pod at a
	// time, only while every pod is ready, no update is in progress and one fewer ready pod still
	// meets the disruption budget, and at most one move per 15 seconds of the youngest pod's
	// readiness. Each move is an Event (reason Rebalanced).
	// +optional
	Rebalance *bool `json:"rebalance,omitempty"`

	// defaultProbes (default true): a container that declares a port and has no readiness probe gets
	// a TCP readiness probe on its first declared port, so that a pod receives traffic only once it
	// listens. A probe the template sets is never changed. false adds none. Like every default the
	// operator adds to the pods, it reaches running pods with the app's next revision, not before.
	// +optional
	DefaultProbes *bool `json:"defaultProbes,omitempty"`

	// nodeLossSeconds is how long a node's Lease may go without renewal before the operator marks
	// the app's pods on that node not ready (their Ready condition, as the node lifecycle controller
	// does at the end of its grace period), so that Services stop sending them traffic at once. The
	// kubelet sets the condition back if the node returns. Unset: two and a half renew intervals of
	// the node's lease (25 for the default 40-second lease); a value is raised to one and a half
	// intervals at least. Never the app's last ready pods, and nothing while most of the cluster's
	// nodes are silent at once.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=3600
	// +optional
	NodeLossSeconds *int32 `json:"nodeLossSeconds,omitempty"`
}

// RolloutStrategy says how an update replaces pods.
// +kubebuilder:validation:Enum=RollingUpdate;ZoneByZone
type RolloutStrategy string

const (
	// RollingUpdate is the workload's own rolling update (by ordinal, for a StatefulSet).
	RollingUpdate RolloutStrategy = "RollingUpdate"
	// ZoneByZone replaces the pods of one zone at a time (Stateful): the StatefulSet uses OnDelete,
	// and the operator deletes the pods of the next zone once every pod of the zones before it is
	// ready on the new revision.
	ZoneByZone RolloutStrategy = "ZoneByZone"
)

// RolloutSpec configures updates and rollbacks.
// +kubebuilder:validation:XValidation:rule="!has(self.maxSurge) || !(type(self.maxSurge) == int ? self.maxSurge == 0 : self.maxSurge.matches('^0+%$')) || (has(self.maxUnavailable) && !(type(self.maxUnavailable) == int ? self.maxUnavailable == 0 : self.maxUnavailable.matches('^0+%$')))",message="maxSurge and maxUnavailable cannot both be 0 (maxUnavailable defaults to 0): an update could never replace a pod",fieldPath=".maxSurge"
// +kubebuilder:validation:XValidation:rule="!has(self.progressDeadlineSeconds) || !has(self.minReadySeconds) || self.progressDeadlineSeconds > self.minReadySeconds",message="progressDeadlineSeconds must be greater than minReadySeconds",fieldPath=".progressDeadlineSeconds"
// +kubebuilder:validation:XValidation:rule="!has(self.strategy) || self.strategy != 'ZoneByZone' || !has(self.partition)",message="partition cannot be set with strategy ZoneByZone: the update goes by zone, not by ordinal",fieldPath=".partition"
type RolloutSpec struct {
	// strategy is how an update replaces pods: RollingUpdate (the default: the workload's own rolling
	// update) or ZoneByZone (Stateful only): the StatefulSet uses the OnDelete strategy and the
	// operator replaces the pods of one zone at a time, zones in name order, as many at once as the
	// disruption budget allows; it moves to the next zone once every pod of the zone is ready on the
	// new revision, and stops at the first zone whose pods fail (the automatic rollback then puts
	// that zone back). status.updatingZone names the zone being replaced.
	// +optional
	Strategy RolloutStrategy `json:"strategy,omitempty"`

	// maxSurge is how many extra pods (or what percentage) a Stateless update may add. Default 25%.
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:MaxLength=8
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self >= 0 : self.matches('^[0-9]+%$')",message="must be a non-negative integer or a percentage such as 25%"
	// +kubebuilder:validation:XValidation:rule="type(self) == int || !self.matches('^[0-9]+%$') || self.matches('^([0-9]|[1-9][0-9]|100)%$')",message="a percentage must be at most 100%"
	// +optional
	MaxSurge *intstr.IntOrString `json:"maxSurge,omitempty"`

	// maxUnavailable is how many pods (or what percentage) an update may take down at once.
	// Stateless default 0: capacity never drops during an update. Stateful default 1: a StatefulSet
	// replaces pods in place, one at a time.
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:MaxLength=8
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self >= 0 : self.matches('^[0-9]+%$')",message="must be a non-negative integer or a percentage such as 25%"
	// +kubebuilder:validation:XValidation:rule="type(self) == int || !self.matches('^[0-9]+%$') || self.matches('^([0-9]|[1-9][0-9]|100)%$')",message="a percentage must be at most 100%"
	// +optional
	MaxUnavailable *intstr.IntOrString `json:"maxUnavailable,omitempty"`

	// partition: a Stateful update only replaces pods with an ordinal at or above it (a canary by
	// ordinal). Stateful only.
	// +kubebuilder:validation:Minimum=0
	// +optional
	Partition *int32 `json:"partition,omitempty"`

	// minReadySeconds is how long a new pod must be ready before it counts as available.
	// +kubebuilder:validation:Minimum=0
	// +optional
	MinReadySeconds *int32 `json:"minReadySeconds,omitempty"`

	// progressDeadlineSeconds is how long an update may take before it counts as failed.
	// +kubebuilder:default=600
	// +kubebuilder:validation:Minimum=1
	// +optional
	ProgressDeadlineSeconds *int32 `json:"progressDeadlineSeconds,omitempty"`

	// autoRollback puts the workload back on the last revision that completed as soon as an update
	// is seen to fail. The spec is never changed: the failed revision is not retried until the spec
	// changes again (or the retry annotation is set).
	// +kubebuilder:default=true
	// +optional
	AutoRollback *bool `json:"autoRollback,omitempty"`

	// revisionHistoryLimit is how many revisions are kept. The serving revision and the last one
	// that completed are never pruned.
	// +kubebuilder:default=10
	// +kubebuilder:validation:Minimum=0
	// +optional
	RevisionHistoryLimit *int32 `json:"revisionHistoryLimit,omitempty"`

	// paused freezes an update where it is: the Deployment is paused, the StatefulSet's partition is
	// held at its current point. Time spent paused does not count against progressDeadlineSeconds.
	// +optional
	Paused bool `json:"paused,omitempty"`

	// failureGraceSeconds is how long a transient failure signal of a pod of the update revision may
	// last before it fails the update: a pull refused with a retryable error (429, a timeout), a
	// Secret or ConfigMap that is not there yet (CreateContainerConfigError). Permanent signals (an
	// image that does not exist, an invalid image name) fail the update at once. Default 30.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=3600
	// +optional
	FailureGraceSeconds *int32 `json:"failureGraceSeconds,omitempty"`

	// crashLoopRestarts is how many restarts of one container of the update revision fail the update
	// (CrashLoopBackOff, or repeated OOM kills). One crash at boot is tolerated. Default 3.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +optional
	CrashLoopRestarts *int32 `json:"crashLoopRestarts,omitempty"`

	// unschedulableGraceSeconds is how long a pod of the update revision may wait for a node (for a
	// cluster autoscaler to add one, or for old pods to free room) before it fails the update.
	// Default 120.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=3600
	// +optional
	UnschedulableGraceSeconds *int32 `json:"unschedulableGraceSeconds,omitempty"`
}

// AutoscalingSpec adds a HorizontalPodAutoscaler on CPU utilization.
// +kubebuilder:validation:XValidation:rule="!has(self.minReplicas) || self.maxReplicas >= self.minReplicas",message="maxReplicas must be greater than or equal to minReplicas",fieldPath=".maxReplicas"
type AutoscalingSpec struct {
	// minReplicas is the lower bound; defaults to spec.replicas.
	// +kubebuilder:validation:Minimum=1
	// +optional
	MinReplicas *int32 `json:"minReplicas,omitempty"`

	// maxReplicas is the upper bound: at most 1000, and at most 100 for a Stateful app.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	MaxReplicas int32 `json:"maxReplicas"`

	// targetCPUUtilizationPercentage is the average CPU utilization, as a percentage of the pods'
	// CPU requests, the autoscaler aims for. Default 80.
	// +kubebuilder:validation:Minimum=1
	// +optional
	TargetCPUUtilizationPercentage *int32 `json:"targetCPUUtilizationPercentage,omitempty"`
}

// Resilience summarizes how many failures the ready pods survive.
type Resilience string

const (
	// ZoneRedundant means ready pods in at least two zones, and losing the zone that holds most of them
	// leaves at least the disruption budget's minimum ready (status.zoneLoss.tolerated).
	ZoneRedundant Resilience = "ZoneRedundant"
	// NodeRedundant means ready pods on at least two nodes, but the loss of a zone is not tolerated (or
	// the cluster has one zone).
	NodeRedundant Resilience = "NodeRedundant"
	// ClusterRedundant means ready pods in at least two member clusters of a multi-cluster control plane
	// (Karmada); set on the control plane's aggregated status only.
	ClusterRedundant Resilience = "ClusterRedundant"
	// SinglePointOfFailure means every ready pod is on one node.
	SinglePointOfFailure Resilience = "SinglePointOfFailure"
	// Unavailable means no pod is ready.
	Unavailable Resilience = "Unavailable"
)

// ZoneLoss is what losing the failure domain that holds most of the app's ready pods would leave.
type ZoneLoss struct {
	// tolerated is true when the ready pods left after that loss are at least minimumReady.
	Tolerated bool `json:"tolerated"`

	// worstZone is the zone that holds most ready pods (ties: the first by name). Empty when the loss
	// is computed for a node instead: on a cluster with one zone, or when a ready pod's node has no
	// topology.kubernetes.io/zone label.
	// +optional
	WorstZone string `json:"worstZone,omitempty"`

	// worstNode is the node that holds most ready pods, set (instead of worstZone) when the loss is
	// computed for a node.
	// +optional
	WorstNode string `json:"worstNode,omitempty"`

	// remainingReady is the number of ready pods outside worstZone (or worstNode).
	RemainingReady int32 `json:"remainingReady"`

	// minimumReady is the disruption budget's minimum of ready pods for the desired replica count
	// (the autoscaler's current count under autoscaling), at least 1.
	MinimumReady int32 `json:"minimumReady"`
}

// ClusterLoss is what losing the member cluster that holds most of the app's ready pods would leave,
// on a multi-cluster control plane (Karmada).
type ClusterLoss struct {
	// tolerated is true when the ready pods left after that loss are at least minimumReady.
	Tolerated bool `json:"tolerated"`

	// worstCluster is the member cluster that holds most ready pods (ties: the first by name).
	// +optional
	WorstCluster string `json:"worstCluster,omitempty"`

	// remainingReady is the number of ready pods in the other member clusters.
	RemainingReady int32 `json:"remainingReady"`

	// minimumReady is the disruption budget's minimum of ready pods for the app's replica count
	// across the clusters, at least 1.
	MinimumReady int32 `json:"minimumReady"`
}

// SilentNode is a node running pods of the app that has not renewed its Lease for the app's
// availability.nodeLossSeconds: it is down, or cut off from the control plane.
type SilentNode struct {
	// name of the node.
	Name string `json:"name"`

	// lastRenewal is when the operator last saw the node renew its Lease.
	LastRenewal metav1.Time `json:"lastRenewal"`

	// pods are the app's pods on the node.
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=110
	Pods []string `json:"pods"`

	// marked is true when the operator marked the pods not ready, so that Services stop sending them
	// traffic; the kubelet marks them ready again if the node returns.
	Marked bool `json:"marked"`

	// reason is why the pods were not marked: LastReadyPods (they are the app's last ready pods) or
	// ClusterSilent (most of the cluster's nodes are silent at once: the control plane, not the nodes,
	// is suspected).
	// +optional
	Reason string `json:"reason,omitempty"`
}

// Advice is one practice of highly available apps that the app does not follow. Advice never blocks
// an update.
type Advice struct {
	// rule names the practice: NoReadinessProbe, IdenticalProbes, LivenessWithoutReadiness,
	// LongInitialDelay, ShellAsPID1, NoResourceRequests, MutableImage, UnboundedJob or
	// ImmediateZonalStorage.
	Rule string `json:"rule"`

	// container is the container the advice is about; empty when it is about the whole app.
	// +optional
	Container string `json:"container,omitempty"`

	// message says what is wrong and what to change.
	Message string `json:"message"`
}

// Phase is where the app stands, in one word.
// +kubebuilder:validation:Enum=Progressing;Paused;Ready;NotReady;Stalled
type Phase string

const (
	// PhaseProgressing means an update, a scale or a rollback is under way, or the operator has not
	// observed the latest spec yet.
	PhaseProgressing Phase = "Progressing"
	// PhasePaused means an update is held by spec.rollout.paused.
	PhasePaused Phase = "Paused"
	// PhaseReady means the revision the spec asks for serves on every replica.
	PhaseReady Phase = "Ready"
	// PhaseNotReady means nothing moves, and the app is not ready (no pod ready, a run that waits).
	PhaseNotReady Phase = "NotReady"
	// PhaseStalled means the app cannot make progress without a change of spec (a rolled-back update, a
	// refused spec, a failed run).
	PhaseStalled Phase = "Stalled"
)

// WorkloadReference names the object that runs the app's pods.
type WorkloadReference struct {
	// kind is Deployment, StatefulSet, DaemonSet, Job or CronJob.
	Kind string `json:"kind"`
	// name of the object, in the app's namespace.
	Name string `json:"name"`
}

// HighlyAvailableAppStatus is what the operator observes of the app.
type HighlyAvailableAppStatus struct {
	// observedGeneration is the spec generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// phase is where the app stands, in one word: Progressing, Paused, Ready, NotReady or Stalled.
	// kubectl get, the kubectl plugin, the metrics and the Argo CD health script read it. It describes
	// observedGeneration: while that is older than the app's generation, the app is Progressing.
	// +optional
	Phase Phase `json:"phase,omitempty"`

	// conditions: Ready, Reconciling, Stalled (kstatus), Available and HighlyAvailable.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// workload is the Deployment or StatefulSet that runs the pods.
	// +optional
	Workload *WorkloadReference `json:"workload,omitempty"`

	// service is the name of the Service clients use.
	// +optional
	Service string `json:"service,omitempty"`

	// replicas is the number of pods the workload has.
	// +optional
	Replicas int32 `json:"replicas,omitempty"`

	// readyReplicas is the number of ready pods.
	// +optional
	ReadyReplicas int32 `json:"readyReplicas,omitempty"`

	// updatedReplicas is the number of pods of the revision the workload is rolling to.
	// +optional
	UpdatedReplicas int32 `json:"updatedReplicas,omitempty"`

	// availableReplicas is the number of pods ready for at least minReadySeconds.
	// +optional
	AvailableReplicas int32 `json:"availableReplicas,omitempty"`

	// readySummary is "ready/desired", as kubectl get shows it.
	// +optional
	ReadySummary string `json:"readySummary,omitempty"`

	// selector is the label selector of the app's pods, for the scale subresource (HPA).
	// +optional
	Selector string `json:"selector,omitempty"`

	// currentRevision is the number of the revision serving now.
	// +optional
	CurrentRevision int64 `json:"currentRevision,omitempty"`

	// updateRevision is the number of the revision the spec asks for.
	// +optional
	UpdateRevision int64 `json:"updateRevision,omitempty"`

	// lastFailedRevision is the number of the last revision whose update failed.
	// +optional
	LastFailedRevision int64 `json:"lastFailedRevision,omitempty"`

	// resilience summarizes where the ready pods run: ZoneRedundant, NodeRedundant,
	// SinglePointOfFailure or Unavailable.
	// +optional
	Resilience Resilience `json:"resilience,omitempty"`

	// zones is the number of distinct zones the ready pods run in.
	// +optional
	Zones int32 `json:"zones,omitempty"`

	// nodes is the number of distinct nodes the ready pods run on.
	// +optional
	Nodes int32 `json:"nodes,omitempty"`

	// daemon holds the DaemonSet's figures of a Daemon app: eligible nodes, misscheduled pods and the
	// share of eligible nodes covered.
	// +optional
	Daemon *DaemonStatus `json:"daemon,omitempty"`

	// job holds the runs of a Job app: the current run and, for a CronJob, the last scheduled and
	// the last successful run.
	// +optional
	Job *JobStatus `json:"job,omitempty"`

	// zoneLoss says whether the app keeps at least its disruption budget's minimum of ready pods if
	// the zone holding most of its ready pods is lost (on a cluster with one zone: the node). Absent
	// while no pod is ready.
	// +optional
	ZoneLoss *ZoneLoss `json:"zoneLoss,omitempty"`

	// updatingZone is the zone whose pods a ZoneByZone update is replacing now; empty when none is.
	// +optional
	UpdatingZone string `json:"updatingZone,omitempty"`

	// volumeZones is, for a Stateful app with zonal volumes, the number of ordinals whose volumes
	// live in each zone, read from the bound volumes' node affinity. Unset for apps without zonal
	// volumes.
	// +optional
	VolumeZones map[string]int32 `json:"volumeZones,omitempty"`

	// advice lists the practices of highly available apps that the app does not follow, sorted by
	// rule then container; empty when none applies. Advice never blocks an update.
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	// +optional
	Advice []Advice `json:"advice,omitempty"`

	// silentNodes are the nodes running pods of the app that have not renewed their Lease for
	// availability.nodeLossSeconds, and whether their pods were marked not ready.
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=100
	// +optional
	SilentNodes []SilentNode `json:"silentNodes,omitempty"`

	// clusters is, on a multi-cluster control plane (Karmada), the number of member clusters that run
	// ready pods of the app. Unset on a member cluster.
	// +optional
	Clusters int32 `json:"clusters,omitempty"`

	// clusterLoss says, on a multi-cluster control plane (Karmada), whether the app keeps at least
	// its disruption budget's minimum of ready pods if the member cluster holding most of them is
	// lost. Unset on a member cluster.
	// +optional
	ClusterLoss *ClusterLoss `json:"clusterLoss,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:subresource:scale:specpath=.spec.replicas,statuspath=.status.replicas,selectorpath=.status.selector
// +kubebuilder:resource:shortName=haapp;haa,categories=all
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.type`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.readySummary`
// +kubebuilder:printcolumn:name="Revision",type=integer,JSONPath=`.status.currentRevision`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Resilience",type=string,JSONPath=`.status.resilience`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",message="metadata.name must start with a lower-case letter and hold only lower-case letters, digits and '-' (no dots): it names the app's Services"
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 63",message="metadata.name must be at most 63 characters: it is a label value on every generated object"
// +kubebuilder:validation:XValidation:rule="!has(self.spec.type) || self.spec.type != 'Stateful' || size(self.metadata.name) <= 52",message="metadata.name must be at most 52 characters when type is Stateful: the StatefulSet's pods carry the label controller-revision-hash=<name>-<hash of up to 10 characters>, at most 63 characters"

// HighlyAvailableApp is one application run highly available: the operator turns it into a
// Deployment or a StatefulSet with Services, a PodDisruptionBudget and HA defaults, keeps its revision
// history, rolls failed updates back and reports how available the app really is.
type HighlyAvailableApp struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is a standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitzero"`

	// spec is what the app team asks for.
	// +required
	Spec HighlyAvailableAppSpec `json:"spec"`

	// status is what the operator observes.
	// +optional
	Status HighlyAvailableAppStatus `json:"status,omitzero"`
}

// +kubebuilder:object:root=true

// HighlyAvailableAppList contains a list of HighlyAvailableApp.
type HighlyAvailableAppList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitzero"`
	Items           []HighlyAvailableApp `json:"items"`
}

func init() {
	SchemeBuilder.Register(func(s *runtime.Scheme) error {
		s.AddKnownTypes(SchemeGroupVersion, &HighlyAvailableApp{}, &HighlyAvailableAppList{})
		return nil
	})
}
