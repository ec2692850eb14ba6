package probe.numbers_range

import rego.v1

result := [numbers.range(1, 4), numbers.range(3, 1), numbers.range_step(0, 10, 5)]
