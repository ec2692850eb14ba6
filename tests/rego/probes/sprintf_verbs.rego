package probe.sprintf_verbs

import rego.v1

result := [
	sprintf("%s", ["a"]),
	sprintf("%d", [42]),
	sprintf("%v", [[1, "a"]]),
	sprintf("%x", [255]),
	sprintf("%.2f", [3.14159]),
	sprintf("%5s|", ["ab"]),
	sprintf("%-5s|", ["ab"]),
	sprintf("%t", [true]),
]
