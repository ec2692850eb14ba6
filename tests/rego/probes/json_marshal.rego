package probe.json_marshal

import rego.v1

result := json.marshal({"b": [1, 2], "a": "x"})
