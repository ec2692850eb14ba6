package probe.json_patch

import rego.v1

result := json.patch({"a": 1}, [{"op": "add", "path": "/b", "value": 2}, {"op": "replace", "path": "/a", "value": 0}])
