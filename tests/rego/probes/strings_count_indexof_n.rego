package probe.strings_count_indexof_n

import rego.v1

result := [strings.count("cheese", "e"), indexof_n("cheese", "e")]
