# input: {"xs":[1,2]}
package probe.in_membership

import rego.v1

result := [2 in input.xs, "z" in input.xs, "a" in {"a", "b"}]
