# input: {"xs":[3,1,2]}
package probe.aggregates

import rego.v1

result := [count(input.xs), sum(input.xs), product(input.xs), max(input.xs), min(input.xs), sort(input.xs)]
