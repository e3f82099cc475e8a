package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/google/pprof/profile"
)

// eventSeriesFrame is where client-go's Event broadcaster copies each Event it sends into the cache
// it keeps to find series: an Event stays there 6 to 12 minutes after it was sent.
const eventSeriesFrame = "k8s.io/client-go/tools/events.(*eventBroadcasterImpl).recordToSink"

// heapHeldUnder reads the operator's heap profile as of its last garbage collection and adds up
// the live bytes allocated under a frame whose function name contains frame. The profile samples
// one allocation in every 512 KiB and scales the samples up, so the figure is an estimate.
func (op *operator) heapHeldUnder(frame string) (float64, error) {
	resp, err := http.Get("http://" + op.pprofAddr + "/debug/pprof/heap")
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return 0, fmt.Errorf("heap profile: %s", resp.Status)
	}
	p, err := profile.Parse(resp.Body)
	if err != nil {
		return 0, fmt.Errorf("heap profile: %w", err)
	}
	return inuseUnder(p, frame)
}

// saveHeapProfile writes the operator's heap profile, after a garbage collection, to path, for
// go tool pprof (-diff_base compares two).
func (op *operator) saveHeapProfile(path string) error {
	resp, err := http.Get("http://" + op.pprofAddr + "/debug/pprof/heap?gc=1")
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return fmt.Errorf("heap profile: %s", resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// inuseUnder adds up the in-use bytes of the samples whose stack has a function whose name
// contains frame.
func inuseUnder(p *profile.Profile, frame string) (float64, error) {
	index := -1
	for i, st := range p.SampleType {
		if st.Type == "inuse_space" {
			index = i
		}
	}
	if index < 0 {
		return 0, fmt.Errorf("heap profile: no inuse_space")
	}
	total := 0.0
	for _, s := range p.Sample {
		if underFrame(s, frame) {
			total += float64(s.Value[index])
		}
	}
	return total, nil
}

func underFrame(s *profile.Sample, frame string) bool {
	for _, loc := range s.Location {
		for _, line := range loc.Line {
			if line.Function != nil && strings.Contains(line.Function.Name, frame) {
				return true
			}
		}
	}
	return false
}
