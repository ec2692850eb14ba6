package probe.big_integer

import rego.v1

result := 9007199254740993 + 0
