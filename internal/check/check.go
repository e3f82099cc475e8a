// Package check is the one idiom of the operator's pure checks, after cert-manager's policies: a check
// looks at one input and says whether it fails, with the condition reason and a message that names
// the field and says what to change; a chain runs its checks in order and the first failure decides.
// The spec checks, the policy checks and the storage refusals are chains of such checks.
package check

// Func is one pure check of an input: failed is true when the input does not pass, and then reason
// and message say why.
type Func[In any] func(In) (reason, message string, failed bool)

// Chain is a list of checks run in order.
type Chain[In any] []Func[In]

// First runs the chain's checks in order and returns the first failure; failed is false when every
// check passes.
func (c Chain[In]) First(in In) (reason, message string, failed bool) {
	for _, f := range c {
		if reason, message, failed := f(in); failed {
			return reason, message, true
		}
	}
	return "", "", false
}
