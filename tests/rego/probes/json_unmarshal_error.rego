package probe.json_unmarshal_error

import rego.v1

result := json.unmarshal("{")
