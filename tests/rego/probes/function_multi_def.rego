package probe.function_multi_def

import rego.v1

f(x) := "neg" if x < 0

f(x) := "pos" if x > 0

result := [f(-1), f(3)]
