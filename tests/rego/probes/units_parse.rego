package probe.units_parse

import rego.v1

result := [units.parse("1k"), units.parse("1Ki"), units.parse("250m")]
