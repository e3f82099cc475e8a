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
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
)

// readTar returns the files of a tar by name.
func readTar(t *testing.T, data []byte) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files
		}
		if err != nil {
			t.Fatalf("read tar: %v", err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		content, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("read %s: %v", hdr.Name, err)
		}
		files[hdr.Name] = content
	}
}

func TestWriteDockerArchive(t *testing.T) {
	img := Image{Binary: []byte("\x7fELF binary"), Entrypoint: "/app", Cmd: []string{"-on-sigterm", "drain"},
		Tags: []string{"ha-operator.local/app:v1", "ha-operator.local/app:v2"}}
	var buf bytes.Buffer
	if err := img.WriteDockerArchive(&buf); err != nil {
		t.Fatal(err)
	}
	files := readTar(t, buf.Bytes())

	var manifest []manifestEntry
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	if len(manifest) != 1 || len(manifest[0].Layers) != 1 {
		t.Fatalf("manifest: want one image of one layer, got %+v", manifest)
	}
	entry := manifest[0]
	if strings.Join(entry.RepoTags, ",") != "ha-operator.local/app:v1,ha-operator.local/app:v2" {
		t.Errorf("RepoTags = %v", entry.RepoTags)
	}
	layer, config := files[entry.Layers[0]], files[entry.Config]
	if layer == nil || config == nil {
		t.Fatalf("the manifest names files the archive lacks: %+v (files: %d)", entry, len(files))
	}
	if want := sha256Hex(config) + ".json"; entry.Config != want {
		t.Errorf("config is named %s, want its digest %s", entry.Config, want)
	}

	var cfg imageConfig
	if err := json.Unmarshal(config, &cfg); err != nil {
		t.Fatalf("config: %v", err)
	}
	if got, want := cfg.RootFS.DiffIDs, []string{"sha256:" + sha256Hex(layer)}; len(got) != 1 || got[0] != want[0] {
		t.Errorf("diff_ids = %v, want %v (the layer's digest)", got, want)
	}
	if cfg.OS != "linux" || cfg.Architecture != "amd64" {
		t.Errorf("platform = %s/%s", cfg.OS, cfg.Architecture)
	}
	if len(cfg.Config.Entrypoint) != 1 || cfg.Config.Entrypoint[0] != "/app" {
		t.Errorf("Entrypoint = %v", cfg.Config.Entrypoint)
	}
	if strings.Join(cfg.Config.Cmd, " ") != "-on-sigterm drain" {
		t.Errorf("Cmd = %v", cfg.Config.Cmd)
	}

	inLayer := readTar(t, layer)
	if got := string(inLayer["app"]); got != string(img.Binary) {
		t.Errorf("the layer's app = %q, want the binary", got)
	}

	var again bytes.Buffer
	if err := img.WriteDockerArchive(&again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("the same image written twice differs: archives must be reproducible")
	}
}

func TestWriteDockerArchiveRejectsRelativeEntrypoint(t *testing.T) {
	for _, entrypoint := range []string{"", "/", "app"} {
		img := Image{Binary: []byte("x"), Entrypoint: entrypoint, Tags: []string{"a:b"}}
		if err := img.WriteDockerArchive(io.Discard); err == nil {
			t.Errorf("entrypoint %q: want an error", entrypoint)
		}
	}
}
