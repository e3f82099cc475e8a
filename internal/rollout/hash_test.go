package rollout

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"
)

// Names the tests share.
const (
	testNamespace = "shop"
	webName       = "web" // the app and its container
	someHash      = "bcdfghjklm"
	testImage     = "nginx:1.9.1"
	newPod        = "web-new-1"
	statefulPod   = "web-0"
	initName      = "migrate"
	initName2     = "init"
	sidecarName   = "agent"
	tierLabel     = "tier"
	revName       = "web-a"
	revName2      = "web-x"
)

func baseTemplate() *corev1.PodTemplateSpec {
	return &corev1.PodTemplateSpec{
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name:  webName,
				Image: testImage,
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 80}},
			}},
		},
	}
}

func TestHashStableAcrossIrrelevantDifferences(t *testing.T) {
	tests := []struct {
		name   string
		a, b   func(*corev1.PodTemplateSpec)
		reason string
	}{
		{
			name: "map insertion order",
			a: func(p *corev1.PodTemplateSpec) {
				p.Labels = map[string]string{}
				for _, k := range []string{"a", "b", "c", "d", "e", "f"} {
					p.Labels[k] = k
				}
			},
			b: func(p *corev1.PodTemplateSpec) {
				p.Labels = map[string]string{}
				for _, k := range []string{"f", "e", "d", "c", "b", "a"} {
					p.Labels[k] = k
				}
			},
		},
		{
			name: "nil and empty labels and annotations",
			a:    func(p *corev1.PodTemplateSpec) {},
			b: func(p *corev1.PodTemplateSpec) {
				p.Labels = map[string]string{}
				p.Annotations = map[string]string{}
			},
		},
		{
			name: "nil and empty slices",
			a:    func(p *corev1.PodTemplateSpec) {},
			b: func(p *corev1.PodTemplateSpec) {
				p.Spec.Volumes = []corev1.Volume{}
				p.Spec.InitContainers = []corev1.Container{}
				p.Spec.Containers[0].Command = []string{}
				p.Spec.Containers[0].Args = []string{}
				p.Spec.Containers[0].Env = []corev1.EnvVar{}
				p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{}
			},
		},
		{
			name: "nil and empty resource lists",
			a:    func(p *corev1.PodTemplateSpec) {},
			b: func(p *corev1.PodTemplateSpec) {
				p.Spec.Containers[0].Resources = corev1.ResourceRequirements{
					Limits: corev1.ResourceList{}, Requests: corev1.ResourceList{},
				}
			},
		},
		{
			name: "revision hash label ignored",
			a:    func(p *corev1.PodTemplateSpec) { p.Labels = map[string]string{tierLabel: webName} },
			b: func(p *corev1.PodTemplateSpec) {
				p.Labels = map[string]string{tierLabel: webName, LabelRevisionHash: someHash}
			},
		},
		{
			name: "container port protocol defaulted to TCP",
			a:    func(p *corev1.PodTemplateSpec) {},
			b:    func(p *corev1.PodTemplateSpec) { p.Spec.Containers[0].Ports[0].Protocol = corev1.ProtocolTCP },
		},
		{
			name: "init container port protocol defaulted to TCP",
			a: func(p *corev1.PodTemplateSpec) {
				p.Spec.InitContainers = []corev1.Container{{Name: initName2, Ports: []corev1.ContainerPort{{ContainerPort: 9}}}}
			},
			b: func(p *corev1.PodTemplateSpec) {
				p.Spec.InitContainers = []corev1.Container{{Name: initName2, Ports: []corev1.ContainerPort{
					{ContainerPort: 9, Protocol: corev1.ProtocolTCP},
				}}}
			},
		},
		{
			name: "grpc probe service defaulted to empty",
			a: func(p *corev1.PodTemplateSpec) {
				p.Spec.Containers[0].ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
					GRPC: &corev1.GRPCAction{Port: 9000},
				}}
			},
			b: func(p *corev1.PodTemplateSpec) {
				p.Spec.Containers[0].ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
					GRPC: &corev1.GRPCAction{Port: 9000, Service: new("")},
				}}
			},
		},
		{
			name: "rbd volume defaults",
			a: func(p *corev1.PodTemplateSpec) {
				p.Spec.Volumes = []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{
					RBD: &corev1.RBDVolumeSource{CephMonitors: []string{"m"}, RBDImage: "i"},
				}}}
			},
			b: func(p *corev1.PodTemplateSpec) {
				p.Spec.Volumes = []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{
					RBD: &corev1.RBDVolumeSource{CephMonitors: []string{"m"}, RBDImage: "i",
						RBDPool: "rbd", RadosUser: "admin", Keyring: "/etc/ceph/keyring"},
				}}}
			},
		},
		{
			name: "equal quantities written differently",
			a: func(p *corev1.PodTemplateSpec) {
				p.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1000m")}
			},
			b: func(p *corev1.PodTemplateSpec) {
				p.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := baseTemplate(), baseTemplate()
			tt.a(a)
			tt.b(b)
			if ha, hb := Hash(a), Hash(b); ha != hb {
				t.Errorf("hashes differ: %s vs %s", ha, hb)
			}
		})
	}
}

func TestHashChangesWithWhatReachesThePods(t *testing.T) {
	tests := []struct {
		name   string
		change func(*corev1.PodTemplateSpec)
	}{
		{"image", func(p *corev1.PodTemplateSpec) { p.Spec.Containers[0].Image = "nginx:1.91" }},
		{"label", func(p *corev1.PodTemplateSpec) { p.Labels = map[string]string{tierLabel: webName} }},
		{"annotation", func(p *corev1.PodTemplateSpec) {
			p.Annotations = map[string]string{"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"}
		}},
		{"env", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "MODE", Value: "fast"}}
		}},
		{"memory limit", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")}
		}},
		{"port protocol UDP", func(p *corev1.PodTemplateSpec) { p.Spec.Containers[0].Ports[0].Protocol = corev1.ProtocolUDP }},
		{"emptyDir volume", func(p *corev1.PodTemplateSpec) {
			p.Spec.Volumes = []corev1.Volume{{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
		}},
		{"second container", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "side", Image: "envoy:1"})
		}},
		{"init container", func(p *corev1.PodTemplateSpec) {
			p.Spec.InitContainers = []corev1.Container{{Name: initName2, Image: "busybox"}}
		}},
		{"grace period", func(p *corev1.PodTemplateSpec) { p.Spec.TerminationGracePeriodSeconds = new(int64(40)) }},
	}
	base := Hash(baseTemplate())
	seen := map[string]string{base: "base"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := baseTemplate()
			tt.change(p)
			h := Hash(p)
			if h == base {
				t.Fatalf("hash did not change")
			}
			if other, dup := seen[h]; dup {
				t.Fatalf("hash %s equals the hash of %q", h, other)
			}
			seen[h] = tt.name
		})
	}
}

func TestHashEnvOrderMatters(t *testing.T) {
	// Later variables may refer to earlier ones with $(NAME), so the order reaches the pods.
	a, b := baseTemplate(), baseTemplate()
	a.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A", Value: "1"}, {Name: "B", Value: "$(A)"}}
	b.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "B", Value: "$(A)"}, {Name: "A", Value: "1"}}
	if Hash(a) == Hash(b) {
		t.Fatal("reordered env hashes the same")
	}
}

func TestHashFormat(t *testing.T) {
	for _, tpl := range []*corev1.PodTemplateSpec{nil, {}, baseTemplate()} {
		h := Hash(tpl)
		if len(h) != 10 {
			t.Errorf("hash %q has %d characters, want 10", h, len(h))
		}
		if errs := validation.IsValidLabelValue(h); len(errs) > 0 {
			t.Errorf("hash %q is not a label value: %v", h, errs)
		}
		if errs := validation.IsDNS1123Label("web-" + h); len(errs) > 0 {
			t.Errorf("name web-%s is not a DNS label: %v", h, errs)
		}
	}
	if Hash(nil) != Hash(&corev1.PodTemplateSpec{}) {
		t.Error("nil template hashes unlike an empty one")
	}
}

// TestHashIsPinned guards against an accidental change of the hash function: a new hash for the same
// template would make the operator see a new revision and roll every app after an upgrade.
func TestHashIsPinned(t *testing.T) {
	const pinned = "5pwzx2x99q"
	if got := Hash(baseTemplate()); got != pinned {
		t.Fatalf("Hash(baseTemplate()) = %q, want %q: the hash function changed", got, pinned)
	}
}

func TestHashDoesNotMutateInput(t *testing.T) {
	p := baseTemplate()
	p.Labels = map[string]string{LabelRevisionHash: "x"}
	Hash(p)
	if p.Labels[LabelRevisionHash] != "x" {
		t.Error("Hash removed the label from its input")
	}
	if p.Spec.Containers[0].Ports[0].Protocol != "" {
		t.Error("Hash defaulted its input")
	}
}

// TestHashCoversEveryCRDDefault reads every `default:` of the CRD schema under spec.template and
// checks that a template with the field absent hashes like one with the default written out, as the
// API server stores it. It fails when the CRD gains a default that applySchemaDefaults misses.
func TestHashCoversEveryCRDDefault(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "config", "crd", "bases", "apps.haoperator.dev_highlyavailableapps.yaml"))
	if err != nil {
		t.Fatalf("read CRD: %v", err)
	}
	var crd struct {
		Spec struct {
			Versions []struct {
				Schema struct {
					OpenAPIV3Schema schemaNode `json:"openAPIV3Schema"`
				} `json:"schema"`
			} `json:"versions"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(raw, &crd); err != nil {
		t.Fatalf("parse CRD: %v", err)
	}
	if len(crd.Spec.Versions) == 0 {
		t.Fatal("CRD has no versions")
	}
	template := crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"].Properties["template"]
	var defaults []schemaDefault
	collectDefaults(template, nil, &defaults)
	if len(defaults) == 0 {
		t.Fatal("found no defaults under spec.template; the CRD layout changed")
	}
	for _, d := range defaults {
		t.Run(strings.Join(d.path, "."), func(t *testing.T) {
			without := templateWith(t, d.path, nil)
			with := templateWith(t, d.path, d.value)
			if Hash(without) != Hash(with) {
				t.Errorf("default %s at %s changes the hash", d.value, strings.Join(d.path, "."))
			}
		})
	}
}

type schemaNode struct {
	Properties map[string]schemaNode `json:"properties"`
	Items      *schemaNode           `json:"items"`
	Default    *json.RawMessage      `json:"default"`
}

type schemaDefault struct {
	path  []string // "[]" marks a list item
	value json.RawMessage
}

func collectDefaults(n schemaNode, path []string, out *[]schemaDefault) {
	if n.Default != nil {
		*out = append(*out, schemaDefault{path: append([]string(nil), path...), value: *n.Default})
	}
	for name, child := range n.Properties {
		collectDefaults(child, append(path, name), out)
	}
	if n.Items != nil {
		collectDefaults(*n.Items, append(path, "[]"), out)
	}
}

// templateWith builds a template whose only content is the objects along path, with the leaf set to
// value (or absent when value is nil).
func templateWith(t *testing.T, path []string, value json.RawMessage) *corev1.PodTemplateSpec {
	t.Helper()
	var build func(rest []string) any
	build = func(rest []string) any {
		if len(rest) == 1 {
			obj := map[string]any{}
			if value != nil {
				obj[rest[0]] = value
			}
			return obj
		}
		if rest[1] == "[]" {
			return map[string]any{rest[0]: []any{build(rest[2:])}}
		}
		return map[string]any{rest[0]: build(rest[1:])}
	}
	raw, err := json.Marshal(build(path))
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var tpl corev1.PodTemplateSpec
	if err := json.Unmarshal(raw, &tpl); err != nil {
		t.Fatalf("unmarshal %s: %v", raw, err)
	}
	return &tpl
}
