package main

import (
	"testing"

	"github.com/google/pprof/profile"
)

func TestInuseUnder(t *testing.T) {
	fn := func(id uint64, name string) *profile.Location {
		return &profile.Location{ID: id, Line: []profile.Line{{Function: &profile.Function{ID: id, Name: name}}}}
	}
	record := fn(1, eventSeriesFrame+".func1")
	copyEvent := fn(2, "k8s.io/api/events/v1.(*Event).DeepCopy")
	decode := fn(3, "encoding/json.Unmarshal")
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "alloc_space"}, {Type: "inuse_space"}},
		Sample: []*profile.Sample{
			{Location: []*profile.Location{copyEvent, record}, Value: []int64{900, 300}},
			{Location: []*profile.Location{decode}, Value: []int64{5000, 4000}},
			{Location: []*profile.Location{copyEvent, record}, Value: []int64{100, 20}},
		},
	}
	got, err := inuseUnder(p, eventSeriesFrame)
	if err != nil {
		t.Fatal(err)
	}
	if got != 320 {
		t.Errorf("got %v bytes under the frame, want 320", got)
	}
	noInuse := &profile.Profile{SampleType: []*profile.ValueType{{Type: "alloc_space"}}}
	if _, err := inuseUnder(noInuse, eventSeriesFrame); err == nil {
		t.Error("a profile without inuse_space was read")
	}
}
