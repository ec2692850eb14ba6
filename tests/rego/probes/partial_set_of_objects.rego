# input: {"xs":["bad1","good","bad2"]}
package probe.partial_set_of_objects

import rego.v1

result contains {"msg": sprintf("bad %s", [x])} if {
	some x in input.xs
	startswith(x, "b")
}
