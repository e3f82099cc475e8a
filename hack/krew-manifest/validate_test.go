package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

var manifestPath = filepath.Join("..", "..", "plugins", "haapp.yaml")

// TestManifest checks the committed manifest by krew's rules, reading it strictly so that a misspelt
// field fails too, and that it lists the archives make build writes.
func TestManifest(t *testing.T) {
	data, err := os.ReadFile(manifestPath)
	if err != nil {
		t.Fatal(err)
	}
	var p Plugin
	if err := yaml.UnmarshalStrict(data, &p); err != nil {
		t.Fatalf("%s: %v", manifestPath, err)
	}
	if err := Validate("haapp", p); err != nil {
		t.Fatalf("%s: %v", manifestPath, err)
	}
	var linux bool
	for _, pl := range p.Spec.Platforms {
		platform := pl.Selector.MatchLabels[labelOS] + "/" + pl.Selector.MatchLabels[labelArch]
		linux = linux || platform == "linux/amd64"
		if want := "/" + p.Spec.Version + "/" + ArchiveName(platform); !strings.HasSuffix(pl.URI, want) {
			t.Errorf("%s: platform %s: uri %s does not end in %s", manifestPath, platform, pl.URI, want)
		}
	}
	if !linux {
		t.Errorf("%s: no linux/amd64 platform", manifestPath)
	}
}

func TestValidateRefuses(t *testing.T) {
	valid := func() Plugin {
		return Plugin{
			APIVersion: APIVersion, Kind: Kind, Metadata: Metadata{Name: "haapp"},
			Spec: PluginSpec{
				Version: "v0.1.0", ShortDescription: "one line",
				Platforms: []Platform{{
					Selector: &Selector{MatchLabels: map[string]string{"os": "linux", "arch": "amd64"}},
					URI:      "https://example.com/a.tar.gz", Sha256: strings.Repeat("ab", 32), Bin: "kubectl-haapp",
					Files: []FileOperation{{From: "kubectl-haapp", To: "."}},
				}},
			},
		}
	}
	if err := Validate("haapp", valid()); err != nil {
		t.Fatalf("the valid manifest: %v", err)
	}
	for _, tc := range []struct {
		name   string
		change func(*Plugin)
		want   string
	}{
		{"old apiVersion", func(p *Plugin) { p.APIVersion = "krew.googlecontainertools.github.com/v1alpha1" }, "apiVersion"},
		{"other kind", func(p *Plugin) { p.Kind = "Tool" }, "kind"},
		{"name unlike the file", func(p *Plugin) { p.Metadata.Name = "ha-app" }, "metadata.name"},
		{"no short description", func(p *Plugin) { p.Spec.ShortDescription = "" }, "spec.shortDescription"},
		{"two-line short description", func(p *Plugin) { p.Spec.ShortDescription = "a\nb" }, "spec.shortDescription"},
		{"version without v", func(p *Plugin) { p.Spec.Version = "0.1.0" }, "spec.version"},
		{"no platform", func(p *Plugin) { p.Spec.Platforms = nil }, "spec.platforms"},
		{"no uri", func(p *Plugin) { p.Spec.Platforms[0].URI = "" }, "spec.platforms[0].uri"},
		{"short sha256", func(p *Plugin) { p.Spec.Platforms[0].Sha256 = "abc" }, "spec.platforms[0].sha256"},
		{"upper-case sha256", func(p *Plugin) {
			p.Spec.Platforms[0].Sha256 = strings.Repeat("AB", 32)
		}, "spec.platforms[0].sha256"},
		{"no bin", func(p *Plugin) { p.Spec.Platforms[0].Bin = "" }, "spec.platforms[0].bin"},
		{"empty files", func(p *Plugin) { p.Spec.Platforms[0].Files = []FileOperation{} }, "spec.platforms[0].files"},
		{"file without to", func(p *Plugin) { p.Spec.Platforms[0].Files[0].To = "" }, "spec.platforms[0].files[0].to"},
		{"no selector", func(p *Plugin) { p.Spec.Platforms[0].Selector = nil }, "spec.platforms[0].selector"},
		{"selector on another key", func(p *Plugin) {
			p.Spec.Platforms[0].Selector.MatchLabels = map[string]string{"distro": "debian"}
		}, "spec.platforms[0].selector.matchLabels"},
		{"empty selector", func(p *Plugin) { p.Spec.Platforms[0].Selector = &Selector{} }, "spec.platforms[0].selector"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := valid()
			tc.change(&p)
			err := Validate("haapp", p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one naming %s", err, tc.want)
			}
		})
	}
	if err := Validate("con", valid()); err == nil {
		t.Error("a reserved Windows name was accepted")
	}
}
