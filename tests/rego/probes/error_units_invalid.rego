package probe.error_units_invalid

import rego.v1

result := units.parse_bytes("lots")
