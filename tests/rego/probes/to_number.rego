package probe.to_number

import rego.v1

result := [to_number("42"), to_number("3.5"), to_number(true), to_number(null)]
