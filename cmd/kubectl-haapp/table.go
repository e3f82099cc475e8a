package main

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
)

// columnGap separates table columns, as in kubectl's tables.
const columnGap = "   "

// writeTable writes rows under a header in aligned columns. When width is more than 0 the last
// column is cut to fit it, so that a table never wraps in a terminal; the other columns are short.
func writeTable(w io.Writer, width int, header []string, rows [][]string) {
	all := append([][]string{header}, rows...)
	widths := make([]int, len(header))
	for _, row := range all {
		for i, cell := range row[:len(row)-1] {
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	for _, row := range all {
		var b strings.Builder
		for i, cell := range row[:len(row)-1] {
			b.WriteString(cell)
			b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell)))
			b.WriteString(columnGap)
		}
		last := row[len(row)-1]
		if width > 0 {
			last = truncate(last, width-utf8.RuneCountInString(b.String()))
		}
		fmt.Fprintln(w, strings.TrimRight(b.String()+last, " "))
	}
}

// truncate cuts s to at most n characters, marking the cut with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 1 {
		return ""
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// age is how long ago t was, as kubectl prints ages ("5m", "3d"); "<unknown>" for a zero time.
func age(now time.Time, t metav1.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

// images lists a template's images: the image alone when there is one container, otherwise
// name=image for each (init containers first, marked init:).
func images(tpl corev1.PodTemplateSpec) string {
	spec := tpl.Spec
	if len(spec.InitContainers) == 0 && len(spec.Containers) == 1 {
		return spec.Containers[0].Image
	}
	var parts []string
	for _, c := range spec.InitContainers {
		parts = append(parts, "init:"+c.Name+"="+c.Image)
	}
	for _, c := range spec.Containers {
		parts = append(parts, c.Name+"="+c.Image)
	}
	return strings.Join(parts, ",")
}
