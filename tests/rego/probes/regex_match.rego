package probe.regex_match

import rego.v1

result := [
	regex.match(`^v[0-9]+\.[0-9]+$`, "v1.2"),
	regex.match(`^v[0-9]+$`, "v1.2"),
	regex.match(`(?i)^abc`, "ABCdef"),
]
