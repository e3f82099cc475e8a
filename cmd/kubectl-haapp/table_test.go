package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestWriteTable(t *testing.T) {
	header := []string{"NAME", "NODE", "INFO"}
	rows := [][]string{{"pod-1", "ip-10-0-1-23.eu-west-1.compute.internal", "ImagePullBackOff: Back-off pulling image"}}
	tests := []struct {
		name  string
		width int
		want  string
	}{
		{"no terminal: nothing cut", 0, "" +
			"NAME   NODE                                     INFO\n" +
			"pod-1  ip-10-0-1-23.eu-west-1.compute.internal  ImagePullBackOff: Back-off pulling image\n"},
		{"wide terminal: nothing cut", 120, "" +
			"NAME   NODE                                     INFO\n" +
			"pod-1  ip-10-0-1-23.eu-west-1.compute.internal  ImagePullBackOff: Back-off pulling image\n"},
		{"narrow: node column cut first, then the last", 50, "" +
			"NAME   NODE               INFO\n" +
			"pod-1  ip-10-0-1-23.eu-…  ImagePullBackOff: Back-…\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			writeTable(&b, tt.width, header, rows, 1)
			if b.String() != tt.want {
				t.Errorf("got\n%s\nwant\n%s", b.String(), tt.want)
			}
		})
	}
}

func TestWrap(t *testing.T) {
	tests := []struct {
		text  string
		width int
		want  []string
	}{
		{"short", 10, []string{"short"}},
		{"no width", 0, []string{"no width"}},
		{"back-off pulling image nginx", 12, []string{"back-off", "pulling", "image nginx"}},
		{"averyveryverylongword x", 8, []string{"averyver", "yverylon", "gword x"}},
	}
	for _, tt := range tests {
		if got := wrap(tt.text, tt.width); !slices.Equal(got, tt.want) {
			t.Errorf("wrap(%q, %d) = %q, want %q", tt.text, tt.width, got, tt.want)
		}
	}
}

func TestImages(t *testing.T) {
	one := userTemplate(imageGood)
	two := userTemplate(imageGood)
	two.Spec.InitContainers = []corev1.Container{{Name: "migrate", Image: "migrate:2"}}
	two.Spec.Containers = append(two.Spec.Containers, corev1.Container{Name: "proxy", Image: "envoy:1.30"})
	if got := images(one); got != imageGood {
		t.Errorf("one container: %q", got)
	}
	if got := images(two); got != "init:migrate=migrate:2,web=nginx:1.9.1,proxy=envoy:1.30" {
		t.Errorf("several containers: %q", got)
	}
}

func TestTruncate(t *testing.T) {
	if got := truncate("abcdef", 4); got != "abc…" {
		t.Errorf("truncate = %q", got)
	}
	if got := truncate("abc", 4); got != "abc" {
		t.Errorf("truncate = %q", got)
	}
	if got := truncate("abc", 0); got != "" || strings.Contains(got, "…") {
		t.Errorf("truncate to 0 = %q", got)
	}
}
