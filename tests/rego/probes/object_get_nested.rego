# input: {"a":{"b":1}}
package probe.object_get_nested

import rego.v1

result := [object.get(input, ["a", "b"], "d"), object.get(input, ["a", "x"], "d"), object.get({"k": null}, "k", "d")]
