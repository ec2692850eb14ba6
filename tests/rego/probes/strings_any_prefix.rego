package probe.strings_any_prefix

import rego.v1

result := [strings.any_prefix_match("docker.io/library/x", ["gcr.io/", "docker.io/library/"]), strings.any_suffix_match("a.example.com", [".org"])]
