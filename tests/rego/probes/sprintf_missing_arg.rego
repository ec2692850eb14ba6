package probe.sprintf_missing_arg

import rego.v1

result := sprintf("%s and %s", ["one"])
