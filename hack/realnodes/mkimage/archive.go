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

package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Image is a one-layer image: a binary at the root of its file system, run as the entrypoint.
type Image struct {
	// Binary is the executable's content.
	Binary []byte
	// Entrypoint is its absolute path in the image, e.g. /app.
	Entrypoint string
	// Cmd are the entrypoint's default arguments.
	Cmd []string
	// Tags are the image's names, e.g. ha-operator.local/app:v1.
	Tags []string
}

// epoch is every file's modification time, so that the same binary always makes the same image.
var epoch = time.Unix(0, 0).UTC()

// imageConfig is the part of the image configuration (the OCI image spec's config, which docker
// archives use too) that a runtime reads.
type imageConfig struct {
	Architecture string        `json:"architecture"`
	OS           string        `json:"os"`
	Created      time.Time     `json:"created"`
	Config       runtimeConfig `json:"config"`
	RootFS       rootFS        `json:"rootfs"`
}

type runtimeConfig struct {
	Entrypoint []string `json:"Entrypoint"`
	Cmd        []string `json:"Cmd,omitempty"`
	Env        []string `json:"Env"`
	WorkingDir string   `json:"WorkingDir"`
}

type rootFS struct {
	Type    string   `json:"type"`
	DiffIDs []string `json:"diff_ids"`
}

// manifestEntry is one image of a docker archive's manifest.json.
type manifestEntry struct {
	Config   string   `json:"Config"`
	RepoTags []string `json:"RepoTags"`
	Layers   []string `json:"Layers"`
}

// WriteDockerArchive writes the image as a docker archive: a tar holding the layer (itself a tar),
// the configuration named after its digest, and manifest.json naming both with the tags.
func (img Image) WriteDockerArchive(w io.Writer) error {
	if len(img.Entrypoint) < 2 || img.Entrypoint[0] != '/' {
		return fmt.Errorf("entrypoint %q is not an absolute path", img.Entrypoint)
	}
	layer, err := img.layer()
	if err != nil {
		return err
	}
	layerDigest := sha256Hex(layer)
	config, err := json.Marshal(imageConfig{
		Architecture: "amd64",
		OS:           "linux",
		Created:      epoch,
		Config: runtimeConfig{
			Entrypoint: []string{img.Entrypoint},
			Cmd:        img.Cmd,
			Env:        []string{"PATH=/"},
			WorkingDir: "/",
		},
		RootFS: rootFS{Type: "layers", DiffIDs: []string{"sha256:" + layerDigest}},
	})
	if err != nil {
		return err
	}
	configName := sha256Hex(config) + ".json"
	layerName := layerDigest + "/layer.tar"
	manifest, err := json.Marshal([]manifestEntry{{Config: configName, RepoTags: img.Tags, Layers: []string{layerName}}})
	if err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	if err := writeDir(tw, layerDigest+"/"); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{layerName, layer}, {configName, config}, {"manifest.json", manifest}} {
		if err := writeFile(tw, f.name, 0o644, f.data); err != nil {
			return err
		}
	}
	return tw.Close()
}

// layer is the image's only layer: the binary at its entrypoint path.
func (img Image) layer() ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := writeFile(tw, img.Entrypoint[1:], 0o755, img.Binary); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeDir(tw *tar.Writer, name string) error {
	return tw.WriteHeader(&tar.Header{
		Typeflag: tar.TypeDir, Name: name, Mode: 0o755, ModTime: epoch, Format: tar.FormatPAX,
	})
}

func writeFile(tw *tar.Writer, name string, mode int64, data []byte) error {
	hdr := &tar.Header{
		Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)), ModTime: epoch, Format: tar.FormatPAX,
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("tar %s: %w", name, err)
	}
	if _, err := tw.Write(data); err != nil {
		return fmt.Errorf("tar %s: %w", name, err)
	}
	return nil
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
