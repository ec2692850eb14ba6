package probe.hex_roundtrip

import rego.v1

result := [hex.encode("hi"), hex.decode("6869")]
