package probe.function_conflict_error

import rego.v1

f(x) := 1 if x > 0

f(x) := 2 if x > 1

result := f(5)
