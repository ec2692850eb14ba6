# input: {"a":null}
package probe.compare_null_undefined

import rego.v1

result := [x | x := input.a; x == null]
