# input: {"xs":["a","b","c","b"]}
package probe.some_index

import rego.v1

result contains i if {
	some i, x in input.xs
	x == "b"
}
