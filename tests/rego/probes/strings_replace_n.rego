package probe.strings_replace_n

import rego.v1

result := strings.replace_n({"a": "1", "b": "2"}, "a b a")
