package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	appsv1alpha1 "github.com/haoperator/ha-operator/api/v1alpha1"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestGetTree(t *testing.T) {
	for _, width := range []int{80, 100, 120} {
		s, out, _ := newSession(t, nil, world(t)...)
		s.width = width
		if err := s.tree(context.Background(), appName, out); err != nil {
			t.Fatal(err)
		}
		for line := range strings.SplitSeq(out.String(), "\n") {
			if n := utf8.RuneCountInString(line); n > width {
				t.Errorf("width %d: line of %d characters: %q", width, n, line)
			}
		}
		if width == 100 {
			golden(t, "get-web.golden", out.String())
		}
	}
}

func TestGetTreeNotATerminal(t *testing.T) {
	// Piped output is not cut: a script gets the whole message.
	s, out, _ := newSession(t, nil, world(t)...)
	s.width = 0
	if err := s.tree(context.Background(), appName, out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `ImagePullBackOff: Back-off pulling image "nginx:1.91"`) {
		t.Errorf("full failure message missing:\n%s", out)
	}
}

func TestGetTreeBeforeTheOperatorActs(t *testing.T) {
	app := webApp()
	app.Generation = 1
	app.Status = appsv1alpha1.HighlyAvailableAppStatus{}
	s, out, _ := newSession(t, nil, app)
	if err := s.tree(context.Background(), appName, out); err != nil {
		t.Fatal(err)
	}
	golden(t, "get-new.golden", out.String())
}

func TestGetNotFound(t *testing.T) {
	s, out, _ := newSession(t, nil)
	err := s.tree(context.Background(), "nope", out)
	if err == nil || !strings.Contains(err.Error(), `highlyavailableapp "nope" not found in namespace "shop"`) {
		t.Fatalf("error %v", err)
	}
}

func TestGetWatchRedrawsOnlyOnChange(t *testing.T) {
	s, out, _ := newSession(t, nil, world(t)...)
	s.width = 0
	s.interval = 5 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Millisecond)
	defer cancel()
	if err := s.watchTree(ctx, appName); err != nil {
		t.Fatal(err)
	}
	var once bytes.Buffer
	if err := s.tree(context.Background(), appName, &once); err != nil {
		t.Fatal(err)
	}
	if out.String() != once.String() {
		t.Errorf("an unchanged app was drawn more than once:\n%s", out)
	}
}
