package main

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// The krew plugin manifest (krew.googlecontainertools.github.com/v1alpha2, kind Plugin), as far as
// this project uses it. krew's own validation lives in an internal package of its module, which
// cannot be imported, and the module pins client-go v11.0.0+incompatible, which would override this
// project's client-go; Validate writes krew's rules out instead.

// APIVersion and Kind are the only ones krew accepts.
const (
	APIVersion = "krew.googlecontainertools.github.com/v1alpha2"
	Kind       = "Plugin"
)

// The only labels a platform's selector may match: krew matches them against its own os and arch.
const (
	labelOS   = "os"
	labelArch = "arch"
)

// Plugin is a krew plugin manifest.
type Plugin struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Metadata   Metadata   `json:"metadata"`
	Spec       PluginSpec `json:"spec"`
}

// Metadata names the plugin.
type Metadata struct {
	Name string `json:"name"`
}

// PluginSpec describes the plugin and where to get it.
type PluginSpec struct {
	Version          string     `json:"version"`
	Homepage         string     `json:"homepage,omitempty"`
	ShortDescription string     `json:"shortDescription"`
	Description      string     `json:"description,omitempty"`
	Caveats          string     `json:"caveats,omitempty"`
	Platforms        []Platform `json:"platforms"`
}

// Platform is the archive for the platforms its selector matches.
type Platform struct {
	Selector *Selector       `json:"selector"`
	URI      string          `json:"uri"`
	Sha256   string          `json:"sha256"`
	Bin      string          `json:"bin"`
	Files    []FileOperation `json:"files,omitempty"`
}

// Selector is the label selector krew matches against {os, arch}.
type Selector struct {
	MatchLabels      map[string]string `json:"matchLabels,omitempty"`
	MatchExpressions []Requirement     `json:"matchExpressions,omitempty"`
}

// Requirement is one match expression of a Selector.
type Requirement struct {
	Key      string   `json:"key"`
	Operator string   `json:"operator"`
	Values   []string `json:"values,omitempty"`
}

// FileOperation copies files matching From in the archive to To in the plugin's directory.
type FileOperation struct {
	From string `json:"from"`
	To   string `json:"to"`
}

var (
	safeName = regexp.MustCompile(`^[\w-]+$`)
	sha256Re = regexp.MustCompile(`^[a-f0-9]{64}$`)
	// semverRe is a semantic version with krew's leading "v".
	semverRe = regexp.MustCompile(`^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)` +
		`(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$`)
	// windowsReserved are file names Windows refuses, so krew refuses them as plugin names.
	windowsReserved = []string{"CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6",
		"COM7", "COM8", "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9"}
)

// Validate checks a manifest, to be installed under name, by krew's rules; the error names the field.
func Validate(name string, p Plugin) error {
	if p.APIVersion != APIVersion {
		return fmt.Errorf("apiVersion %q: krew reads only %s", p.APIVersion, APIVersion)
	}
	if p.Kind != Kind {
		return fmt.Errorf("kind %q: krew reads only %s", p.Kind, Kind)
	}
	reserved := slices.ContainsFunc(windowsReserved, func(r string) bool { return strings.EqualFold(r, name) })
	if !safeName.MatchString(name) || reserved {
		return fmt.Errorf("metadata.name: %q is not a name krew allows (%s, not a reserved Windows file name)",
			name, safeName)
	}
	if p.Metadata.Name != name {
		return fmt.Errorf("metadata.name %q: the plugin is installed as %q", p.Metadata.Name, name)
	}
	if p.Spec.ShortDescription == "" {
		return errors.New("spec.shortDescription is required")
	}
	if strings.ContainsAny(p.Spec.ShortDescription, "\r\n") {
		return errors.New("spec.shortDescription must be one line")
	}
	if p.Spec.Version == "" {
		return errors.New("spec.version is required")
	}
	if !semverRe.MatchString(p.Spec.Version) {
		return fmt.Errorf("spec.version %q: want a semantic version with a leading v, e.g. v0.1.0", p.Spec.Version)
	}
	if len(p.Spec.Platforms) == 0 {
		return errors.New("spec.platforms: at least one platform is required")
	}
	for i, pl := range p.Spec.Platforms {
		if err := validatePlatform(pl); err != nil {
			return fmt.Errorf("spec.platforms[%d].%w", i, err)
		}
	}
	return nil
}

func validatePlatform(p Platform) error {
	switch {
	case p.URI == "":
		return errors.New("uri is required")
	case p.Sha256 == "":
		return errors.New("sha256 is required")
	case !sha256Re.MatchString(p.Sha256):
		return fmt.Errorf("sha256 %q: want 64 lower-case hexadecimal digits", p.Sha256)
	case p.Bin == "":
		return errors.New("bin is required")
	}
	if p.Files != nil && len(p.Files) == 0 {
		return errors.New("files: leave it out or list at least one")
	}
	for i, f := range p.Files {
		if f.From == "" {
			return fmt.Errorf("files[%d].from is required", i)
		}
		if f.To == "" {
			return fmt.Errorf("files[%d].to is required", i)
		}
	}
	return validateSelector(p.Selector)
}

func validateSelector(s *Selector) error {
	if s == nil {
		return errors.New("selector is required")
	}
	if s.MatchLabels == nil && len(s.MatchExpressions) == 0 {
		return errors.New("selector: matchLabels or matchExpressions is required")
	}
	for key := range s.MatchLabels {
		if key != labelOS && key != labelArch {
			return fmt.Errorf("selector.matchLabels: key %q: krew matches only os and arch", key)
		}
	}
	for i, e := range s.MatchExpressions {
		if e.Key != labelOS && e.Key != labelArch {
			return fmt.Errorf("selector.matchExpressions[%d].key %q: krew matches only os and arch", i, e.Key)
		}
	}
	if s.MatchLabels != nil && len(s.MatchLabels) == 0 {
		return errors.New("selector.matchLabels: leave it out or give at least one label")
	}
	if s.MatchExpressions != nil && len(s.MatchExpressions) == 0 {
		return errors.New("selector.matchExpressions: leave it out or give at least one expression")
	}
	return nil
}
