package probe.with_input_partial_set

import rego.v1

deny contains msg if {
	some x in input.xs
	startswith(x, "bad")
	msg := sprintf("%s is bad", [x])
}

result := d if {
	d := deny with input as {"xs": ["bad1", "ok"]}
}
