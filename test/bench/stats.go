package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// percentile is the nearest-rank percentile p (0 < p <= 100) of the samples: the smallest sample
// that at least p % of the samples do not exceed. It is 0 for no samples.
func percentile(samples []time.Duration, p float64) time.Duration {
	if len(samples) == 0 {
		return 0
	}
	sorted := slices.Clone(samples)
	slices.Sort(sorted)
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = max(1, min(rank, len(sorted)))
	return sorted[rank-1]
}

// nodesPerZone sizes the cluster: enough nodes of podsPerNode for the pods with headroom (a share
// of the pods, for the surge of rolling updates) spread evenly over the zones, and at least
// minPerZone per zone so that an app's pods can spread over nodes as they would on a real cluster.
func nodesPerZone(pods, zones, podsPerNode, minPerZone int, headroom float64) int {
	if zones < 1 || podsPerNode < 1 {
		return minPerZone
	}
	need := int(math.Ceil(float64(pods) * (1 + headroom)))
	nodes := (need + podsPerNode - 1) / podsPerNode
	return max(minPerZone, (nodes+zones-1)/zones)
}

// scaledCount is count scaled down linearly for a run of n apps against the reference size ref (a
// run of ref apps or more uses the whole count), and at least 1.
func scaledCount(count, n, ref int) int {
	if n >= ref {
		return count
	}
	return max(1, count*n/ref)
}

// figure is one measured value; a figure that was not measured is absent (nil) and prints as "–".
type figure = *float64

func value(v float64) figure { return &v }

// row is one line of the results table: what is measured, its unit, and its value for each
// column.
type row struct {
	Name   string
	Unit   string
	Floor1 figure
	Floor8 figure
	// Status is the floor with the apps' status (statusFloorPhase).
	Status figure
	// Guarded is the guarded floor (guardedFloorPhase).
	Guarded figure
	Op      figure
	Argo    figure
}

// ratio is the operator's figure over a floor, or absent when either is absent or the floor is
// zero.
func (r row) ratio(floor figure) figure {
	if r.Op == nil || floor == nil || *floor == 0 {
		return nil
	}
	return value(*r.Op / *floor)
}

// formatFigure prints a figure with a precision that suits its size.
func formatFigure(f figure) string {
	if f == nil {
		return "–"
	}
	v := *f
	switch a := math.Abs(v); {
	case a == 0:
		return "0"
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// renderTable prints the rows as a Markdown table: the figure, the floor with 1 and 8 workers, the
// floor with status, the guarded floor, the operator, the operator's ratios to the floor with 8
// workers, to the floor with status and to the guarded floor, and Argo Rollouts.
func renderTable(title string, rows []row) string {
	header := []string{title, "floor, 1 worker", "floor, 8 workers",
		"floor + status", "guarded floor", "ha-operator",
		"ratio to floor (8)", "ratio to floor + status", "ratio to guarded floor", "Argo Rollouts"}
	cells := make([][]string, 0, 1+len(rows))
	cells = append(cells, header)
	for _, r := range rows {
		name := r.Name
		if r.Unit != "" {
			name += " [" + r.Unit + "]"
		}
		ratio := func(floor figure) string {
			if f := r.ratio(floor); f != nil {
				return fmt.Sprintf("%.2f×", *f)
			}
			return "–"
		}
		cells = append(cells, []string{name, formatFigure(r.Floor1), formatFigure(r.Floor8), formatFigure(r.Status),
			formatFigure(r.Guarded), formatFigure(r.Op), ratio(r.Floor8), ratio(r.Status), ratio(r.Guarded),
			formatFigure(r.Argo)})
	}
	widths := make([]int, len(header))
	for _, line := range cells {
		for i, c := range line {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	var b strings.Builder
	writeLine := func(line []string) {
		b.WriteString("|")
		for i, c := range line {
			pad := widths[i] - len([]rune(c))
			if i == 0 {
				b.WriteString(" " + c + strings.Repeat(" ", pad) + " |")
			} else {
				b.WriteString(" " + strings.Repeat(" ", pad) + c + " |")
			}
		}
		b.WriteString("\n")
	}
	writeLine(cells[0])
	b.WriteString("|")
	for i, w := range widths {
		if i == 0 {
			b.WriteString(" " + strings.Repeat("-", w) + " |")
		} else {
			b.WriteString(" " + strings.Repeat("-", w-1) + ": |")
		}
	}
	b.WriteString("\n")
	for _, line := range cells[1:] {
		writeLine(line)
	}
	return b.String()
}
