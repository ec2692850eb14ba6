package probe.comprehension_set

import rego.v1

result := {x % 3 | some x in numbers.range(1, 10)}
