package probe.substring_unicode

import rego.v1

result := [substring("héllo wörld", 1, 4), count("héllo"), upper("straße")]
