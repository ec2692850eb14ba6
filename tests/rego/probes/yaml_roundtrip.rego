package probe.yaml_roundtrip

import rego.v1

result := [yaml.unmarshal("a: 1\nb: [x, y]\n"), yaml.is_valid(": :")]
