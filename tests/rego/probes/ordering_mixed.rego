package probe.ordering_mixed

import rego.v1

result := sort(["b", "a", "C"])
