package probe.json_filter_remove

import rego.v1

doc := {"a": {"b": 1, "c": 2}, "d": 3}

result := [json.filter(doc, ["a/b"]), json.remove(doc, ["a/c", "d"])]
