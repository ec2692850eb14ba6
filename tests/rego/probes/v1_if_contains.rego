# input: {"xs":[1,2,3]}
package probe.v1_if_contains

import rego.v1

result contains x if {
	some x in input.xs
	x > 1
}
