package probe.sprintf_q

import rego.v1

result := sprintf("%q", ["a\"b"])
