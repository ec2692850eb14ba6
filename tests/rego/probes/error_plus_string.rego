# input: {"s":"a"}
package probe.error_plus_string

import rego.v1

result := input.s + 1
