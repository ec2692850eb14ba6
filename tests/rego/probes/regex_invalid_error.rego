package probe.regex_invalid_error

import rego.v1

result := regex.match("(", "a")
