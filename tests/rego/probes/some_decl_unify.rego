# input: {"pairs":[[1,2],[3,1],[2,5]]}
package probe.some_decl_unify

import rego.v1

result contains [x, y] if {
	some x, y
	input.pairs[_] = [x, y]
	x < y
}
