package probe.object_filter_subset

import rego.v1

result := [object.filter({"a": 1, "b": 2}, ["a"]), object.subset({"a": 1, "b": 2}, {"a": 1}), object.subset([1, 2, 3], [1, 3])]
