package probe.regex_find_n

import rego.v1

result := regex.find_n(`[0-9]+`, "a1b22c333", -1)
