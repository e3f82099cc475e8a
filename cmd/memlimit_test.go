package main

import (
	"strings"
	"testing"
)

func TestSoftMemoryLimit(t *testing.T) {
	tests := []struct {
		name           string
		goMemLimit     string
		containerLimit string
		want           int64
		set            bool
		wantErr        string
	}{
		{name: "90% of the container's limit in bytes", containerLimit: "268435456", want: 241591905, set: true},
		{name: "a quantity with a suffix", containerLimit: "1Gi", want: 966367638, set: true},
		{name: "GOMEMLIMIT set by hand wins", goMemLimit: "100MiB", containerLimit: "268435456"},
		{name: "no limit handed over", containerLimit: ""},
		{name: "not a quantity", containerLimit: "lots", wantErr: `MEMORY_LIMIT="lots"`},
		{name: "zero", containerLimit: "0", wantErr: "must be a positive number of bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, set, err := softMemoryLimit(tc.goMemLimit, tc.containerLimit)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want || set != tc.set {
				t.Errorf("softMemoryLimit(%q, %q) = %d, %v; want %d, %v",
					tc.goMemLimit, tc.containerLimit, got, set, tc.want, tc.set)
			}
		})
	}
}
