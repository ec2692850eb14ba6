# input: {"a":[1,{"b":2}]}
package probe.walk_paths

import rego.v1

result := [p | walk(input, [p, v]); is_number(v)]
