package main

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
)

// sample is one line of the Prometheus text format: a metric name, its labels and its value.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

// parseMetrics reads the Prometheus text exposition format, skipping comments and lines it cannot
// read (the format allows timestamps after the value; they are ignored).
func parseMetrics(text string) []sample {
	var out []sample
	scanner := bufio.NewScanner(strings.NewReader(text))
	scanner.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if s, err := parseSample(line); err == nil {
			out = append(out, s)
		}
	}
	return out
}

func parseSample(line string) (sample, error) {
	s := sample{labels: map[string]string{}}
	end := strings.IndexAny(line, "{ ")
	if end <= 0 {
		return s, fmt.Errorf("no metric name in %q", line)
	}
	s.name = line[:end]
	rest := line[end:]
	if strings.HasPrefix(rest, "{") {
		i := 1
		for {
			for i < len(rest) && (rest[i] == ',' || rest[i] == ' ') {
				i++
			}
			if i >= len(rest) {
				return s, fmt.Errorf("unterminated labels in %q", line)
			}
			if rest[i] == '}' {
				i++
				break
			}
			eq := strings.IndexByte(rest[i:], '=')
			if eq < 0 || i+eq+1 >= len(rest) || rest[i+eq+1] != '"' {
				return s, fmt.Errorf("bad label in %q", line)
			}
			key := rest[i : i+eq]
			i += eq + 2
			var value strings.Builder
			for ; i < len(rest) && rest[i] != '"'; i++ {
				if rest[i] == '\\' && i+1 < len(rest) {
					i++
					switch rest[i] {
					case 'n':
						value.WriteByte('\n')
					default:
						value.WriteByte(rest[i])
					}
					continue
				}
				value.WriteByte(rest[i])
			}
			if i >= len(rest) {
				return s, fmt.Errorf("unterminated label value in %q", line)
			}
			i++
			s.labels[key] = value.String()
		}
		rest = rest[i:]
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return s, fmt.Errorf("no value in %q", line)
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return s, fmt.Errorf("value of %q: %w", line, err)
	}
	s.value = v
	return s, nil
}

// sumMetric adds up the samples of the metric whose labels include every label of match.
func sumMetric(samples []sample, name string, match map[string]string) float64 {
	total := 0.0
	for _, s := range samples {
		if s.name != name {
			continue
		}
		ok := true
		for k, v := range match {
			if s.labels[k] != v {
				ok = false
				break
			}
		}
		if ok {
			total += s.value
		}
	}
	return total
}
