package probe.sprintf_v_object

import rego.v1

result := sprintf("%v", [{"a": 1, "b": [true, null]}])
