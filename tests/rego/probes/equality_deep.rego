package probe.equality_deep

import rego.v1

result := [{"a": [1, 2]} == {"a": [1, 2]}, [1, 2] == [2, 1], {1, 2} == {2, 1}]
