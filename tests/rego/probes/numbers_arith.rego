package probe.numbers_arith

import rego.v1

result := [7 / 2, 7 % 3, -7 % 3, 2 * 3.5, round(2.5), ceil(1.2), floor(-1.2), abs(-3)]
