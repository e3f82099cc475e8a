package main

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/resource"
)

// envMemoryLimit names the variable through which the manager's pod hands it its container's memory
// limit, in bytes (the downward API's resourceFieldRef limits.memory).
const envMemoryLimit = "MEMORY_LIMIT"

// softMemoryLimit is the Go runtime's soft memory limit for a container limit: 90% of it, so that the
// garbage collector works harder as the heap nears the limit instead of the kernel killing the
// manager, and the rest is left for what the runtime does not count (stacks' growth, cgo, the
// binary). goMemLimit is the GOMEMLIMIT variable: when it is set the runtime has already applied it and
// set is false. An empty containerLimit (no limit handed over) also leaves the runtime's default.
func softMemoryLimit(goMemLimit, containerLimit string) (limit int64, set bool, err error) {
	if goMemLimit != "" || containerLimit == "" {
		return 0, false, nil
	}
	q, err := resource.ParseQuantity(containerLimit)
	if err != nil {
		return 0, false, fmt.Errorf("%s=%q: %w", envMemoryLimit, containerLimit, err)
	}
	bytes, ok := q.AsInt64()
	if !ok || bytes <= 0 {
		return 0, false, fmt.Errorf("%s=%q: must be a positive number of bytes", envMemoryLimit, containerLimit)
	}
	return bytes / 10 * 9, true, nil
}
