// Package rollout holds the pure logic of updates and rollbacks: the revision hash of a pod
// template, the ControllerRevisions that keep the history, the choice of the revision to roll back
// to, pruning, and the verdict on whether an update has failed. Nothing here talks to the API
// server: the controller reads and writes, these functions decide.
package rollout

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// LabelRevisionHash is on every pod template the operator generates (and so on every pod) and on
// every ControllerRevision: the revision hash of the template without this label.
const LabelRevisionHash = "apps.haoperator.dev/revision-hash"

// hashAlphabet has no vowels, so that a hash never spells a word, and no characters that look alike
// (0/o, 1/l, 3/e); every character is valid in a label value and in a DNS name.
const hashAlphabet = "bcdfghjklmnpqrstvwxz2456789"

// hashLength is the number of characters of a hash: 27^10 ≈ 2^47 values, so two templates of one app
// colliding is not a practical concern, and `<app>-<hash>` stays short.
const hashLength = 10

// Hash is the revision hash of a pod template: a short string (10 characters of [b-z2-9] without
// vowels) that changes whenever anything that reaches the pods changes, and only then. It is stable
// across differences that do not reach the pods: the order of map keys, nil versus empty slices and
// maps, the LabelRevisionHash label itself, and the defaults the API server fills into the app's
// spec.template (a container port's protocol TCP, and so on), so that a template read back from the
// API server hashes like the one a client sent. A nil template hashes like an empty one.
func Hash(tpl *corev1.PodTemplateSpec) string {
	sum := sha256.Sum256(canonicalJSON(tpl))
	n := binary.BigEndian.Uint64(sum[:8])
	out := make([]byte, hashLength)
	for i := range out {
		out[i] = hashAlphabet[n%uint64(len(hashAlphabet))]
		n /= uint64(len(hashAlphabet))
	}
	return string(out)
}

// canonicalJSON is the template, normalized, as JSON with sorted keys and without nulls or empty
// lists. Empty objects stay: `emptyDir: {}` means something.
func canonicalJSON(tpl *corev1.PodTemplateSpec) []byte {
	normalized := corev1.PodTemplateSpec{}
	if tpl != nil {
		normalized = *tpl.DeepCopy()
	}
	delete(normalized.Labels, LabelRevisionHash)
	applySchemaDefaults(&normalized.Spec)

	raw, err := json.Marshal(&normalized)
	if err != nil {
		// A PodTemplateSpec always marshals: its types have no channels, funcs or cycles.
		panic(fmt.Sprintf("marshal pod template: %v", err))
	}
	var generic any
	if err := json.Unmarshal(raw, &generic); err != nil {
		panic(fmt.Sprintf("unmarshal pod template: %v", err))
	}
	generic = prune(generic)
	// encoding/json writes map keys in sorted order, which makes the bytes canonical.
	out, err := json.Marshal(generic)
	if err != nil {
		panic(fmt.Sprintf("marshal canonical pod template: %v", err))
	}
	return out
}

// prune drops nulls and empty lists, recursively: both mean "unset" in the Kubernetes API, and
// fields without omitempty marshal a nil slice as null but an empty one as [].
func prune(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, child := range t {
			child = prune(child)
			if isUnset(child) {
				delete(t, k)
				continue
			}
			t[k] = child
		}
		return t
	case []any:
		for i := range t {
			t[i] = prune(t[i])
		}
		return t
	default:
		return v
	}
}

func isUnset(v any) bool {
	if v == nil {
		return true
	}
	list, ok := v.([]any)
	return ok && len(list) == 0
}

// applySchemaDefaults fills in the `default:` values of the CRD schema under spec.template (see
// config/crd/bases), so that a template before and after the API server's defaulting hashes alike.
// Defaults of "" on plain strings need nothing: Go's zero value is already "". A test walks the CRD
// and fails when a default is added that this function does not know.
func applySchemaDefaults(spec *corev1.PodSpec) {
	for i := range spec.InitContainers {
		defaultContainer(&spec.InitContainers[i])
	}
	for i := range spec.Containers {
		defaultContainer(&spec.Containers[i])
	}
	for i := range spec.EphemeralContainers {
		defaultContainer((*corev1.Container)(&spec.EphemeralContainers[i].EphemeralContainerCommon))
	}
	for i := range spec.Volumes {
		defaultVolume(&spec.Volumes[i].VolumeSource)
	}
}

func defaultContainer(c *corev1.Container) {
	for i := range c.Ports {
		if c.Ports[i].Protocol == "" {
			c.Ports[i].Protocol = corev1.ProtocolTCP
		}
	}
	for i := range c.Env {
		if from := c.Env[i].ValueFrom; from != nil && from.FileKeyRef != nil && from.FileKeyRef.Optional == nil {
			from.FileKeyRef.Optional = new(false)
		}
	}
	for _, probe := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
		if probe != nil && probe.GRPC != nil && probe.GRPC.Service == nil {
			probe.GRPC.Service = new("")
		}
	}
}

func defaultVolume(v *corev1.VolumeSource) {
	if d := v.AzureDisk; d != nil {
		if d.FSType == nil {
			d.FSType = new("ext4")
		}
		if d.ReadOnly == nil {
			d.ReadOnly = new(false)
		}
	}
	if s := v.ISCSI; s != nil && s.ISCSIInterface == "" {
		s.ISCSIInterface = "default"
	}
	if r := v.RBD; r != nil {
		if r.Keyring == "" {
			r.Keyring = "/etc/ceph/keyring"
		}
		if r.RBDPool == "" {
			r.RBDPool = "rbd"
		}
		if r.RadosUser == "" {
			r.RadosUser = "admin"
		}
	}
	if s := v.ScaleIO; s != nil {
		if s.FSType == "" {
			s.FSType = "xfs"
		}
		if s.StorageMode == "" {
			s.StorageMode = "ThinProvisioned"
		}
	}
}
