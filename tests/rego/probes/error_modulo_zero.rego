# input: {"zero":0}
package probe.error_modulo_zero

import rego.v1

result := 5 % input.zero
