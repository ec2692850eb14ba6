# input: {"groups":{"x":[1,2],"y":[]}}
package probe.partial_object_nested_value

import rego.v1

result[k] := {"len": count(v)} if {
	some k, v in input.groups
}
