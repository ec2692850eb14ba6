package probe.to_number_error

import rego.v1

result := to_number("lots")
