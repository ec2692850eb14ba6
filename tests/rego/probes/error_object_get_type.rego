package probe.error_object_get_type

import rego.v1

result := object.get("not an object", "k", 1)
