package probe.array_ops

import rego.v1

result := [array.concat([1], [2, 3]), array.slice([1, 2, 3, 4], 1, 3), array.reverse([1, 2, 3])]
