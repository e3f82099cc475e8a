package controller

import "strings"

// containsReason says whether a fake recorder's Event ("Type Reason message") has the reason.
func containsReason(event, reason string) bool {
	fields := strings.Fields(event)
	return len(fields) > 1 && fields[1] == reason
}
