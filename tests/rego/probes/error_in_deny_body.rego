# input: {"xs":["1","two"]}
package probe.error_in_deny_body

import rego.v1

result contains msg if {
	some x in input.xs
	n := to_number(x)
	msg := sprintf("%v", [n])
}
