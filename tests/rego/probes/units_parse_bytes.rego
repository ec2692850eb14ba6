package probe.units_parse_bytes

import rego.v1

result := [units.parse_bytes("1KiB"), units.parse_bytes("1KB"), units.parse_bytes("10M"), units.parse_bytes("2Gi")]
