# input: {"n":7}
package probe.else_chain

import rego.v1

result := "high" if {
	input.n > 10
} else := "mid" if {
	input.n > 5
} else := "low"
