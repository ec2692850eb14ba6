package probe.regex_split

import rego.v1

result := regex.split(`[,;]`, "a,b;c")
