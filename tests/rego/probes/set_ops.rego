package probe.set_ops

import rego.v1

a := {1, 2, 3}

b := {2, 3, 4}

result := [a | b, a & b, a - b, union({a, b}), intersection({a, b})]
