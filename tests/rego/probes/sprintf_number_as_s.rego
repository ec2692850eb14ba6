package probe.sprintf_number_as_s

import rego.v1

result := sprintf("%s", [1.5])
