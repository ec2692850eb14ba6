package probe.json_is_valid

import rego.v1

result := [json.is_valid("{}"), json.is_valid("{")]
