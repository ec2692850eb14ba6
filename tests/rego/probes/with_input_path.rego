package probe.with_input_path

import rego.v1

allow if input.a.b == 1

result if allow with input.a.b as 1
