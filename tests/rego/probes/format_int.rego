package probe.format_int

import rego.v1

result := [format_int(255, 16), format_int(8, 2), format_int(-10, 10)]
