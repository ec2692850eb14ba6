package probe.with_builtin_mock

import rego.v1

check if startswith(input.s, "x")

result if {
	check with input as {"s": "yz"} with startswith as endswith
}
