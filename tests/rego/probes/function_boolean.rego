# input: {"xs":[1,200,300]}
package probe.function_boolean

import rego.v1

is_big(x) if x > 100

result := [x | some x in input.xs; is_big(x)]
