package probe.regex_submatch

import rego.v1

result := regex.find_all_string_submatch_n(`([a-z]+)=([0-9]+)`, "a=1 b=22", -1)
