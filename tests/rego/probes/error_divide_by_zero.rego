# input: {"zero":0}
package probe.error_divide_by_zero

import rego.v1

result := 1 / input.zero
