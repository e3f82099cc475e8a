package main

import (
	"bytes"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
)

// columnGap separates table columns.
const columnGap = "  "

// Sizes that keep a cut table readable.
const (
	// minLastColumn is the room the last column (free text) keeps before other columns are cut.
	minLastColumn = 24
	// minShrunkColumn is the narrowest a cut column gets.
	minShrunkColumn = 8
)

// writeTable writes rows under a header in aligned columns. When width is more than 0 no line is
// longer: first the columns listed in shrink are cut (in that order, down to minShrunkColumn) to
// leave the last column minLastColumn characters, then the last column is cut to what is left.
// Cuts end in "…". A width of 0 (output to a pipe or file) cuts nothing.
func writeTable(w *bytes.Buffer, width int, header []string, rows [][]string, shrink ...int) {
	all := append([][]string{header}, rows...)
	last := len(header) - 1
	widths := make([]int, last)
	for _, row := range all {
		for i := range widths {
			widths[i] = max(widths[i], utf8.RuneCountInString(row[i]))
		}
	}
	if width > 0 {
		fixed := func() int {
			n := 0
			for _, cw := range widths {
				n += cw + len(columnGap)
			}
			return n
		}
		for _, i := range shrink {
			over := fixed() + minLastColumn - width
			if over <= 0 {
				break
			}
			widths[i] = max(minShrunkColumn, widths[i]-over)
		}
	}
	for _, row := range all {
		var b strings.Builder
		for i, cw := range widths {
			cell := truncate(row[i], cw)
			b.WriteString(cell)
			b.WriteString(strings.Repeat(" ", cw-utf8.RuneCountInString(cell)))
			b.WriteString(columnGap)
		}
		text := row[last]
		if width > 0 {
			text = truncate(text, width-utf8.RuneCountInString(b.String()))
		}
		fmt.Fprintln(w, strings.TrimRight(b.String()+text, " "))
	}
}

// wrap breaks text into lines of at most width characters at spaces (a word longer than a line is
// cut); width 0 or less leaves it whole.
func wrap(text string, width int) []string {
	if width <= 0 || utf8.RuneCountInString(text) <= width {
		return []string{text}
	}
	var lines []string
	line := ""
	for word := range strings.FieldsSeq(text) {
		switch {
		case line == "":
			line = word
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) <= width:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
		for utf8.RuneCountInString(line) > width {
			r := []rune(line)
			lines = append(lines, string(r[:width]))
			line = string(r[width:])
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
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
