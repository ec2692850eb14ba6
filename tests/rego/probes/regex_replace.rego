package probe.regex_replace

import rego.v1

result := regex.replace("a.b.c", `\.`, "/")
