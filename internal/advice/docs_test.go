package advice

import (
	"os"
	"regexp"
	"testing"
)

// TestRulesDocumented: docs/advice.md has a section for each rule.
func TestRulesDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/advice.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules {
		if !regexp.MustCompile("(?m)^### `" + r + "`").Match(doc) {
			t.Errorf("docs/advice.md has no section ### `%s`", r)
		}
	}
}
