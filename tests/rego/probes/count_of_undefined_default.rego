# input: {}
package probe.count_of_undefined_default

import rego.v1

default n := 0

n := count(input.xs)

result := n
