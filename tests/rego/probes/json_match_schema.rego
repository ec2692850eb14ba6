package probe.json_match_schema

import rego.v1

result := json.match_schema({"a": 1}, {"type": "object", "required": ["a"]})
