package probe.object_union_remove

import rego.v1

result := [object.union({"a": 1, "b": {"c": 1}}, {"b": {"d": 2}}), object.remove({"a": 1, "b": 2}, ["a"]), object.keys({"x": 1, "y": 2})]
