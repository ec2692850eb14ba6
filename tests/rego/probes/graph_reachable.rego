package probe.graph_reachable

import rego.v1

g := {"a": ["b"], "b": ["c"], "c": [], "d": ["a"]}

result := graph.reachable(g, {"a"})
