package check

import "testing"

func TestChainFirst(t *testing.T) {
	pass := func(int) (string, string, bool) { return "", "", false }
	odd := func(n int) (string, string, bool) { return "Odd", "n is odd", n%2 == 1 }
	big := func(n int) (string, string, bool) { return "Big", "n is big", n > 10 }
	chain := Chain[int]{pass, odd, big}
	tests := []struct {
		in             int
		reason, failed string
	}{
		{in: 2},
		{in: 3, reason: "Odd"},
		{in: 12, reason: "Big"},
		// The first failure decides.
		{in: 13, reason: "Odd"},
	}
	for _, tc := range tests {
		reason, message, failed := chain.First(tc.in)
		if failed != (tc.reason != "") || reason != tc.reason {
			t.Errorf("First(%d) = %q %q %v, want reason %q", tc.in, reason, message, failed, tc.reason)
		}
	}
	if _, _, failed := (Chain[int]{}).First(1); failed {
		t.Error("an empty chain failed")
	}
}
