package probe.glob_match

import rego.v1

result := [
	glob.match("*.example.com", ["."], "api.example.com"),
	glob.match("*.example.com", ["."], "a.b.example.com"),
	glob.match("**.example.com", ["."], "a.b.example.com"),
	glob.match("ghcr.io/org/*", ["/"], "ghcr.io/org/app"),
	glob.match("{a,b}*", [], "bcd"),
]
