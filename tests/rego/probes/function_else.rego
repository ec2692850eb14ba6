package probe.function_else

import rego.v1

grade(n) := "a" if {
	n >= 90
} else := "b" if {
	n >= 80
} else := "c"

result := [grade(95), grade(85), grade(1)]
