package probe.json_unmarshal

import rego.v1

result := json.unmarshal(`{"a": [1, {"b": null}]}`)
